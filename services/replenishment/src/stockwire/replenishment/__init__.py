"""Replenishment: demand history, forecasts, policies, safety stock and suggestions."""
