"""How quantities are kept and rounded.

Quantities are floats. Items counted in whole units (serial, lot and bulk tracking) plan
in whole units: their levels and suggested quantities are ints, rounded up where a
shortfall would cost service (a reorder point, an order) and down where rounding up
would promise stock that is not there (excess another location can give). Length-tracked
items (cable, fiber, in meters) keep the 3 places the stock contract keeps.

A float that should be whole often is not quite (``3 * 0.1 * 10`` is
``3.0000000000000004``); rounding first to :data:`NOISE_PLACES` keeps such noise from
adding a unit."""

import math

from stockwire.contracts.vocabulary import TrackingMode

LENGTH_PLACES = 3
"""Places kept for length-tracked quantities (the stock contract's)."""
NOISE_PLACES = 6
"""Places below which a float's digits are arithmetic noise, not quantity."""
DAYS_PER_YEAR = 365.25
"""A device-year is 365.25 days, as in assets' failures per device-year."""


def is_discrete(tracking_mode: TrackingMode) -> bool:
    """Whether an item is counted in whole units (everything but length-tracked items)."""
    return tracking_mode is not TrackingMode.LENGTH


def round_up(value: float, discrete: bool) -> float:
    """``value`` rounded up to a whole unit (an int) or to a thousandth of a meter."""
    if discrete:
        return math.ceil(round(value, NOISE_PLACES))
    scale = float(10**LENGTH_PLACES)
    return math.ceil(round(value * scale, NOISE_PLACES)) / scale


def round_down(value: float, discrete: bool) -> float:
    """``value`` rounded down to a whole unit (an int) or to a thousandth of a meter."""
    if discrete:
        return math.floor(round(value, NOISE_PLACES))
    scale = float(10**LENGTH_PLACES)
    return math.floor(round(value * scale, NOISE_PLACES)) / scale


def is_whole(value: float) -> bool:
    """Whether ``value`` is a whole number, up to arithmetic noise."""
    return round(value, NOISE_PLACES) == math.floor(round(value, NOISE_PLACES))


def format_quantity(value: float) -> str:
    """``value`` as a person reads it: no exponent, no trailing zeros (``12``, ``2.5``)."""
    text = f"{value:.{LENGTH_PLACES}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
