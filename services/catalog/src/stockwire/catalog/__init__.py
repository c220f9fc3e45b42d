"""Stockwire catalog service: equipment models and locations."""
