"""Lead-time demand for a policy: the mean and the quantile at its service level of the
demand over its lead time, from the series' latest forecast (a negative-binomial demand
distribution per day, :mod:`stockwire.replenishment.forecasting.distribution`).

A series the re-plan has not forecast yet (new, or since the last re-plan) is planned as
Poisson demand at its recent daily mean, until the next re-plan gives it a forecast: a
level change never waits for a re-plan. A lead time of 0 days has no demand to cover.
"""

from dataclasses import dataclass
from typing import Any

from stockwire.replenishment.domain.safety_stock import LeadTimeDemand
from stockwire.replenishment.forecasting import (
    DemandDistribution,
    lead_time_mean,
    lead_time_quantile,
)

POISSON = 1.0
"""The dispersion (variance-to-mean ratio) of Poisson demand."""


@dataclass(frozen=True, slots=True)
class Forecast:
    mean_per_day: float
    distribution: dict[str, Any]
    """As the re-plan keeps it, per day: ``mean``, ``dispersion``, ``level_uncertainty``."""


def lead_time_demand(
    forecast: Forecast | None,
    recent_daily_mean: float,
    lead_time_days: int,
    service_level: float,
) -> tuple[LeadTimeDemand, float]:
    """The lead-time demand at ``service_level``, and the daily demand mean."""
    if forecast is None:
        distribution = DemandDistribution(mean=recent_daily_mean, dispersion=POISSON)
    else:
        distribution = DemandDistribution(
            mean=float(forecast.distribution["mean"]),
            dispersion=float(forecast.distribution["dispersion"]),
            level_uncertainty=float(forecast.distribution.get("level_uncertainty", 0.0)),
        )
    if lead_time_days < 1:
        return LeadTimeDemand(0.0, 0.0), distribution.mean
    return (
        LeadTimeDemand(
            lead_time_mean(distribution, lead_time_days),
            lead_time_quantile(distribution, lead_time_days, service_level),
        ),
        distribution.mean,
    )
