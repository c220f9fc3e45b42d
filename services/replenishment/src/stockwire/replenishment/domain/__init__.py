"""Replenishment's pure planning domain: policies and their defaults, safety stock from
demand variability and from failure rates, reorder points, transfer, purchase and
last-time-buy suggestions with the numbers behind them, projected stockouts and the rules
of alerts. No I/O, no framework.

Numbers are floats, except quantities of items counted in whole units, which are ints
(:mod:`.quantities`); the forecasting engine's figures (lead-time demand mean and
quantile) arrive here as plain floats."""
