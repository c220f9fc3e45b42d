"""When a location's stock runs out if nothing more arrives than is already on its way.

Available + inbound divided by the daily demand mean gives the days of cover; the stock
runs out on the day the last of it goes, today plus the whole days of cover (10 units at
3 a day last 3 whole days and run out during the 4th, today + 3: "in about 3 days").
Inbound counts as if it were already there: a late transfer can make it sooner. With no
demand expected, or cover beyond :data:`MAX_COVER_DAYS`, nothing runs out."""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from stockwire.replenishment.domain.quantities import NOISE_PLACES

MAX_COVER_DAYS = 36_525
"""A hundred years: stock that lasts longer is not projected to run out at all."""


@dataclass(frozen=True, slots=True)
class Stockout:
    cover_days: float
    """Available + inbound over the daily demand mean."""
    days: int
    """Whole days until it runs out: "runs out in about ``days`` days"."""
    runs_out_on: date


def projected_stockout(stock: float, daily_demand_mean: float, today: date) -> Stockout | None:
    """When ``stock`` (available + inbound) runs out at ``daily_demand_mean`` a day; None
    when no demand is expected or the stock outlasts :data:`MAX_COVER_DAYS`."""
    if not math.isfinite(daily_demand_mean) or daily_demand_mean < 0:
        raise ValueError("a daily demand mean is a finite number, never negative")
    if daily_demand_mean == 0:
        return None
    cover = max(0.0, stock / daily_demand_mean)
    if cover > MAX_COVER_DAYS:
        return None
    days = math.floor(round(cover, NOISE_PLACES))
    return Stockout(cover_days=cover, days=days, runs_out_on=today + timedelta(days=days))
