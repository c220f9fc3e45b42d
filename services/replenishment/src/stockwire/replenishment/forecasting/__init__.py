"""Demand forecasts made for spare parts, as distributions: pure computation over pandas
frames (numpy, scipy and statsforecast; no database, no broker).

The re-plan calls :func:`forecast_frame`; policies read each series'
:class:`DemandDistribution` through :func:`lead_time_mean` and :func:`lead_time_quantile`;
the forecast-accuracy KPI is :meth:`FrameForecast.accuracy`. Why statsforecast, how the
method is chosen and how quantiles are calibrated: docs/decisions/0011.
"""

from stockwire.replenishment.forecasting.accuracy import holdout_accuracy, naive_scale, pinball_loss
from stockwire.replenishment.forecasting.calibration import PoolFit, PoolSource
from stockwire.replenishment.forecasting.classify import (
    ADI_CUT,
    CV2_CUT,
    DemandClass,
    classify_series,
    demand_class,
)
from stockwire.replenishment.forecasting.distribution import (
    DemandDistribution,
    lead_time_mean,
    lead_time_quantile,
    lead_time_quantiles,
    lead_time_variance,
)
from stockwire.replenishment.forecasting.engine import FrameForecast, forecast_frame

__all__ = [
    "ADI_CUT",
    "CV2_CUT",
    "DemandClass",
    "DemandDistribution",
    "FrameForecast",
    "PoolFit",
    "PoolSource",
    "classify_series",
    "demand_class",
    "forecast_frame",
    "holdout_accuracy",
    "lead_time_mean",
    "lead_time_quantile",
    "lead_time_quantiles",
    "lead_time_variance",
    "naive_scale",
    "pinball_loss",
]
