"""Lead-time demand for a policy: the mean and the quantile at its service level of the
demand over its lead time, from the series' latest forecast.

A series the re-plan has not forecast yet (new, or since the last re-plan) is planned as
Poisson demand at its mean over the last days of history, until the next re-plan gives
it a forecast: a level change never waits for a re-plan.
"""

from dataclasses import dataclass
from typing import Any

from stockwire.replenishment import forecasting
from stockwire.replenishment.domain.safety_stock import LeadTimeDemand, poisson_quantile


@dataclass(frozen=True, slots=True)
class Forecast:
    mean_per_day: float
    distribution: dict[str, Any]


def lead_time_demand(
    forecast: Forecast | None,
    recent_daily_mean: float,
    lead_time_days: int,
    service_level: float,
) -> tuple[LeadTimeDemand, float]:
    """The lead-time demand at ``service_level``, and the daily demand mean."""
    if forecast is None:
        mean = recent_daily_mean * lead_time_days
        return LeadTimeDemand(mean, float(poisson_quantile(mean, service_level))), recent_daily_mean
    return (
        LeadTimeDemand(
            forecasting.lead_time_mean(forecast.distribution, lead_time_days),
            forecasting.lead_time_quantile(forecast.distribution, lead_time_days, service_level),
        ),
        forecast.mean_per_day,
    )
