"""The re-plan's synthetic load: weekly demand of SKU x location series, like a year of a
regional ISP's spare parts (``uv run python bench/replenishment_replan.py`` describes one).

Weekly, not daily: the service keeps daily buckets, and the re-plan forecasts their weekly
sums. A part at one van or site is asked for on a few days a year, so daily series are
mostly zeros (ADI in the tens), where every method made for intermittent demand ends up
forecasting a small flat rate; weekly buckets carry the same information in a seventh of
the periods (ADIDA's argument: aggregate, then forecast), and supplier lead times are
counted in weeks. Lead times in days are rounded up to weeks by the caller.

The world, the same for one seed: ``SKUS`` SKUs at ``LOCATIONS`` locations, every pair a
series of ``WEEKS`` weeks. A SKU has a popularity (log-normal: a few are asked for every
week somewhere, most rarely) and an order size (1 + Poisson, larger for bulk items); a
location has a size (log-normal: warehouses draw more than vans). Orders of a SKU at a
location come as a Poisson process at popularity x size per week; one SKU in ten is going
out of use (its rate falls linearly to zero over the two years) and one in ten is new
(no demand before week 52).
"""

import sys

import numpy as np
import pandas as pd

SKUS = 500
LOCATIONS = 100
WEEKS = 104
HORIZON = 8
"""Holdout windows of 8 weeks: a supplier lead time plus a review period, at most."""


def weekly_history(seed: int, *, skus: int = SKUS, locations: int = LOCATIONS) -> pd.DataFrame:
    """Long-format history (unique_id, ds, y) of every SKU x location, ``WEEKS`` weeks."""
    rng = np.random.default_rng(seed)
    popularity = rng.lognormal(mean=-2.6, sigma=1.1, size=skus)
    order_size = rng.poisson(rng.choice([0.3, 1.0, 4.0], size=skus, p=[0.6, 0.3, 0.1]))
    location_size = rng.lognormal(mean=0.0, sigma=0.8, size=locations)
    kind = rng.choice(["steady", "fading", "new"], size=skus, p=[0.8, 0.1, 0.1])
    week = np.arange(WEEKS)
    trend = np.ones((skus, WEEKS))
    trend[kind == "fading"] = np.maximum(1.0 - week / WEEKS, 0.0)
    trend[kind == "new"] = (week >= WEEKS // 2).astype(np.float64)
    rate = (
        popularity[:, None, None] * location_size[None, :, None] * trend[:, None, :]
    )  # skus x locations x weeks: orders per week
    orders = rng.poisson(rate)
    extra = rng.poisson(np.repeat(order_size, locations * WEEKS).reshape(rate.shape) * orders)
    demand = (orders + extra).astype(np.float64)
    sku_names = np.array([f"SKU-{i:04d}" for i in range(skus)])
    location_names = np.array([f"LOC-{j:03d}" for j in range(locations)])
    ids = np.char.add(
        np.char.add(np.repeat(sku_names, locations), "@"), np.tile(location_names, skus)
    )
    dates = pd.date_range("2025-01-06", periods=WEEKS, freq="W-MON")
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, WEEKS),
            "ds": np.tile(dates, skus * locations),
            "y": demand.reshape(-1),
        }
    )


def describe(history: pd.DataFrame) -> str:
    """Series, rows, share of zero weeks and the mean demand per series-week."""
    series = history["unique_id"].nunique()
    zero_share = float((history["y"] == 0).mean())
    return (
        f"{series:,} series x {WEEKS} weeks = {len(history):,} rows; "
        f"{zero_share:.1%} zero weeks; {history['y'].mean():.3f} units per series-week"
    )


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    print(describe(weekly_history(seed)))
