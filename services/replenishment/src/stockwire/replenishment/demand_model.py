"""Lead-time demand for a policy: the mean and the quantile at its service level of the
demand over its lead time, from a daily demand distribution (negative binomial,
:mod:`stockwire.replenishment.forecasting.distribution`).

The re-plan forecasts weekly sums and keeps each series' distribution per day
(:func:`daily`, :func:`kept`): NB1's variance-to-mean ratio does not change with the
period for compound-Poisson demand, so a day has a seventh of a week's mean and level
uncertainty and the same dispersion, and a lead time in days keeps its own length.

A series the re-plan has not forecast yet (new, or since the last re-plan) is planned as
Poisson demand at its recent daily mean (:func:`poisson`), until the next re-plan gives
it a forecast: a level change never waits for a re-plan. A lead time of 0 days has no
demand to cover.
"""

from collections.abc import Mapping
from typing import Any

from stockwire.replenishment.domain.safety_stock import LeadTimeDemand
from stockwire.replenishment.forecasting import (
    DemandDistribution,
    lead_time_mean,
    lead_time_quantile,
)

DAYS_PER_WEEK = 7
POISSON = 1.0
"""The dispersion (variance-to-mean ratio) of Poisson demand."""


def daily(weekly: DemandDistribution) -> DemandDistribution:
    """The distribution of one day's demand, from one week's."""
    return DemandDistribution(
        mean=weekly.mean / DAYS_PER_WEEK,
        dispersion=weekly.dispersion,
        level_uncertainty=weekly.level_uncertainty / DAYS_PER_WEEK,
    )


def kept(distribution: DemandDistribution) -> dict[str, Any]:
    """A daily distribution as the forecasts table keeps it (JSON)."""
    return {
        "mean": distribution.mean,
        "dispersion": distribution.dispersion,
        "level_uncertainty": distribution.level_uncertainty,
        "per": "day",
    }


def from_kept(row: Mapping[str, Any]) -> DemandDistribution:
    """The daily distribution :func:`kept` wrote."""
    return DemandDistribution(
        mean=float(row["mean"]),
        dispersion=float(row["dispersion"]),
        level_uncertainty=float(row["level_uncertainty"]),
    )


def poisson(daily_mean: float) -> DemandDistribution:
    """Poisson demand at ``daily_mean`` a day: a series with no forecast yet."""
    return DemandDistribution(mean=daily_mean, dispersion=POISSON)


def lead_time_demand(
    distribution: DemandDistribution, lead_time_days: int, service_level: float
) -> LeadTimeDemand:
    """The demand over ``lead_time_days`` days of ``distribution``: its mean and its
    quantile at ``service_level``."""
    if lead_time_days < 1:
        return LeadTimeDemand(0.0, 0.0)
    return LeadTimeDemand(
        lead_time_mean(distribution, lead_time_days),
        lead_time_quantile(distribution, lead_time_days, service_level),
    )
