"""The inventory simulation on the car-parts data: stock held against service achieved,
for Stockwire's policy and for a Croston + normal safety stock baseline.

**Policy.** Periodic review, order-up-to, with backorders. Each month (review period
R = 1) a part's stock is reviewed at the start of the month; the order placed then
arrives at the start of the next month (lead time L = 1), before that month's demand. So
the order placed at a review is the last one to arrive before the end of the next month,
and the order-up-to level S must cover the demand of R + L = 2 months: with backorders,
the net stock at the end of month t is exactly S(t-1) - d(t-1) - d(t) whenever the
previous order could bring the position up to S. The order is max(0, S - inventory
position); with L = R, nothing else is on order at a review, so the position is the net
stock.

- **Stockwire:** S is the 0.95 quantile of the demand over 2 months from the forecast's
  distribution (``lead_time_quantile(distribution, 2, 0.95)``).
- **Baseline:** S = ceil(2 m + z sigma sqrt(2)), m the Croston (classic) mean per month,
  sigma the root mean square of Croston's one-step-ahead in-sample errors, z = 1.645
  (the 0.95 normal quantile).

Both are fed at each review by forecasts made only from the months before it.

**Run.** The last 12 months (2001-04 to 2002-03) are scored; one more month before them
(2001-03) is a warm-up that starts every part at its order-up-to level, so the first
scored month is already protected by a full order cycle. 13 reviews, 857 parts.

**Measures**, over the 857 x 12 part-months scored:

- ``service_level`` (cycle service level): the share of part-months whose demand, and any
  backorder carried into the month, was all served from stock: net stock at the end of
  the month >= 0. Months without demand count as served, as cycles without a stockout do.
- ``fill_rate``: units served from stock on hand when asked for, over units demanded
  (a backorder filled later does not count).
- ``avg_stock``: units on hand per part, averaged over the month (the mean of the stock
  at the start of the month, after the receipt, and at its end; backorders count as 0).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from replenishment_carparts import HOLDOUT_WINDOWS, HORIZON
from report import progress
from scipy.stats import norm
from statsforecast import StatsForecast
from statsforecast.models import CrostonClassic

from stockwire.replenishment.forecasting import forecast_frame, lead_time_quantiles

LEVEL = 0.95
REVIEW_MONTHS = 12
PROTECTION = 2
"""Months an order-up-to level covers: review period 1 + lead time 1."""


@dataclass(frozen=True)
class Outcome:
    service_level: float
    fill_rate: float
    avg_stock: float


def stockwire_levels(history: pd.DataFrame) -> np.ndarray:
    """Order-up-to levels, a part each (sorted by id), from Stockwire's forecasts."""
    result = forecast_frame(history, horizon=HORIZON, n_windows=HOLDOUT_WINDOWS)
    series = result.series.sort_values("unique_id")
    return lead_time_quantiles(
        series["mean"].to_numpy(),
        series["dispersion"].to_numpy(),
        PROTECTION,
        LEVEL,
        series["level_uncertainty"].to_numpy(),
    )


def baseline_levels(history: pd.DataFrame) -> np.ndarray:
    """Order-up-to levels from the Croston mean and the normal safety stock."""
    statsforecast = StatsForecast(models=[CrostonClassic(alias="croston")], freq="MS")
    forecast = statsforecast.forecast(df=history, h=1, fitted=True)
    fitted = statsforecast.forecast_fitted_values()
    errors = (fitted["y"] - fitted["croston"]).pow(2).groupby(fitted["unique_id"]).mean()
    mean = forecast.set_index("unique_id")["croston"].sort_index()
    sigma = np.sqrt(errors.reindex(mean.index).to_numpy())
    level = PROTECTION * mean.to_numpy() + norm.ppf(LEVEL) * sigma * np.sqrt(PROTECTION)
    result: np.ndarray = np.ceil(level)
    return result


def simulate(demand: np.ndarray, levels: np.ndarray) -> Outcome:
    """Run the policy: ``demand`` and ``levels`` are parts x months, the first month the
    warm-up (``levels[:, t]`` is the order-up-to level set at the review of month t)."""
    net = levels[:, 0].copy()
    arriving = np.zeros_like(net)
    served_months = served_units = demanded = held = 0.0
    for month in range(demand.shape[1]):
        net += arriving
        arriving = np.maximum(levels[:, month] - net, 0.0)
        start = net.copy()
        net -= demand[:, month]
        if month == 0:
            continue
        served_months += float(np.sum(net >= 0))
        served_units += float(np.sum(np.minimum(demand[:, month], np.maximum(start, 0.0))))
        demanded += float(np.sum(demand[:, month]))
        held += float(np.sum((np.maximum(start, 0.0) + np.maximum(net, 0.0)) / 2))
    cycles = demand.shape[0] * (demand.shape[1] - 1)
    return Outcome(served_months / cycles, served_units / demanded, held / cycles)


def run(parts: pd.DataFrame) -> tuple[Outcome, Outcome]:
    """Stockwire's outcome and the baseline's over the last ``REVIEW_MONTHS`` months."""
    months = np.sort(parts["ds"].unique())
    reviewed = months[-(REVIEW_MONTHS + 1) :]
    wide = parts.pivot(index="unique_id", columns="ds", values="y").sort_index()
    demand = wide[reviewed].to_numpy(dtype=np.float64)
    ours = np.empty_like(demand)
    theirs = np.empty_like(demand)
    for column, month in enumerate(reviewed):
        history = parts[parts["ds"] < month]
        ours[:, column] = stockwire_levels(history)
        theirs[:, column] = baseline_levels(history)
        progress(f"  simulation: review {pd.Timestamp(month):%Y-%m} done")
    return simulate(demand, ours), simulate(demand, theirs)
