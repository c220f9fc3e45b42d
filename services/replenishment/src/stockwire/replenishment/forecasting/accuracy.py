"""Forecast accuracy per series on a rolling holdout: the forecast-accuracy KPI.

- **MASE**: mean absolute error of the mean forecast, over the in-sample mean absolute
  error of the (seasonal) naive forecast on the history before the holdout. Below 1 beats
  the naive forecast. A series whose history never changed has no scale: NaN.
- **Bias**: mean of forecast minus actual, in units per period (> 0: over-forecast).
- **Pinball loss** at the service level: the quantile loss of the one-period demand
  quantile at that level, in units; it is what a reorder point built at that level loses.
- **Coverage**: the share of actuals at or below that quantile (ideally at least the
  level: whole-unit quantiles cover a little more).
"""

import numpy as np
import numpy.typing as npt
import pandas as pd

from stockwire.replenishment.forecasting.distribution import lead_time_quantiles

FloatArray = npt.NDArray[np.float64]


def pinball_loss(y: FloatArray, quantile: FloatArray, level: float) -> FloatArray:
    """Quantile (pinball) loss of each ``quantile`` at ``level`` against the actual ``y``."""
    error = np.asarray(y, dtype=np.float64) - np.asarray(quantile, dtype=np.float64)
    return np.maximum(level * error, (level - 1.0) * error)


def naive_scale(history: pd.DataFrame, *, season_length: int = 1) -> pd.Series:
    """Per ``unique_id``: in-sample mean absolute error of the naive forecast that repeats
    the value ``season_length`` periods back (``history`` in long format, sorted by
    ``unique_id`` then ``ds``, every period present)."""
    if season_length < 1:
        raise ValueError(f"season_length must be >= 1, not {season_length}")
    ids = history["unique_id"].to_numpy()
    y = history["y"].to_numpy(dtype=np.float64)
    same_series = np.zeros(y.size, dtype=bool)
    same_series[season_length:] = ids[season_length:] == ids[:-season_length]
    change = np.full(y.size, np.nan)
    change[season_length:] = np.abs(y[season_length:] - y[:-season_length])
    change[~same_series] = np.nan
    scale = pd.Series(change, index=history["unique_id"]).groupby(level=0, sort=True).mean()
    return scale.where(scale > 0).rename("naive_mae")


def holdout_accuracy(holdout: pd.DataFrame, scale: pd.Series, *, level: float) -> pd.DataFrame:
    """Accuracy of each series over its holdout points.

    ``holdout`` has a row per point: ``unique_id``, ``y`` (actual), ``mean``,
    ``dispersion`` and ``level_uncertainty`` (the distribution forecast for that period,
    see :mod:`.distribution`). ``scale`` is :func:`naive_scale` of the history before the
    holdout. Returns one row per series: ``points``, ``mase``, ``bias``, ``pinball`` and
    ``coverage`` (at ``level``).
    """
    y = holdout["y"].to_numpy(dtype=np.float64)
    mean = holdout["mean"].to_numpy(dtype=np.float64)
    quantile = lead_time_quantiles(
        mean,
        holdout["dispersion"].to_numpy(dtype=np.float64),
        1,
        level,
        holdout["level_uncertainty"].to_numpy(dtype=np.float64),
    )
    points = pd.DataFrame(
        {
            "unique_id": holdout["unique_id"].to_numpy(),
            "absolute_error": np.abs(mean - y),
            "error": mean - y,
            "pinball": pinball_loss(y, quantile, level),
            "covered": (y <= quantile).astype(np.float64),
        }
    )
    per_series = points.groupby("unique_id", sort=True).agg(
        points=("error", "size"),
        mae=("absolute_error", "mean"),
        bias=("error", "mean"),
        pinball=("pinball", "mean"),
        coverage=("covered", "mean"),
    )
    per_series["mase"] = per_series["mae"] / scale.reindex(per_series.index)
    return per_series[["points", "mase", "bias", "pinball", "coverage"]].reset_index()
