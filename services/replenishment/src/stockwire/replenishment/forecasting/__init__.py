"""TEMPORARY local stub until the forecasting helper's package is merged."""

from typing import Any

import pandas as pd
from scipy.stats import poisson


def lead_time_mean(distribution: dict[str, Any], periods: int) -> float:
    return float(distribution["mean"]) * periods


def lead_time_quantile(distribution: dict[str, Any], periods: int, level: float) -> float:
    return float(poisson.ppf(level, float(distribution["mean"]) * periods))


def forecast_frame(
    history: pd.DataFrame,
    *,
    horizon: int,
    season_length: int = 1,
    engine: object | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    means = history.groupby("unique_id")["y"].mean()
    return pd.DataFrame(
        {
            "unique_id": means.index,
            "method": "mean",
            "demand_class": "unknown",
            "mean": means.values,
        }
    )
