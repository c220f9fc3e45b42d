"""Safety stock and the reorder point over a lead time of L days at a cycle service level
p, from demand variability and from failure rates.

Two views of the demand over the lead time:

- **the forecast** of the SKU x location's demand history: its mean μ_L and its
  p-quantile q_L, both from the forecasting engine. Its safety term, the demand
  variability, is q_L - μ_L.
- **the failure rate** of the installed equipment the stock serves: failures over L days
  are Poisson with mean λ = installed base * failures per device-year * L / 365.25 (a
  device-year being 365.25 days, as assets counts it). Its p-quantile Q is the smallest k
  with P(X ≤ k) ≥ p, and its safety term Q - λ.

The reorder point is the larger quantile, max(q_L, Q). Each view is a whole estimate of
the same lead-time demand at the same probability (a failed device is replaced from this
stock, and those replacements are in the history too, so adding the views would count
them twice); the larger quantile keeps p whichever view is right. The view whose quantile
sets the reorder point is the dominating term, ``demand_variability`` or ``failure_rate``
(the forecast on a tie: it is the location's own record), and the safety stock is the
reorder point minus that view's mean.

Adding the larger mean to the larger term, max(μ_L, λ) + max(q_L - μ_L, Q - λ), would pair
one view's mean with the other's spread: with μ_L = 10, q_L = 11, λ = 4 and Q = 8 it asks
for 14 where neither view needs more than 11 to reach p. The larger quantile is never
above that sum.

The reorder point is rounded up, to whole units for discrete items.
"""

import math
from dataclasses import dataclass

from scipy.stats import poisson

from stockwire.contracts.vocabulary import SafetyStockTerm
from stockwire.replenishment.domain.quantities import DAYS_PER_YEAR, round_up


@dataclass(frozen=True, slots=True)
class LeadTimeDemand:
    """The forecast of demand over the lead time: its mean and its quantile at the
    policy's service level (the forecasting engine's figures)."""

    mean: float
    quantile: float


@dataclass(frozen=True, slots=True)
class FailureExposure:
    """The installed equipment a stock serves (assets' figures): each failure takes a
    replacement from it."""

    installed_base: int
    failures_per_device_year: float

    def mean_failures(self, days: float) -> float:
        """The expected failures over ``days``."""
        return self.installed_base * self.failures_per_device_year * days / DAYS_PER_YEAR


@dataclass(frozen=True, slots=True)
class SafetyStock:
    """A reorder point, the term that set it, and every number that went into it."""

    lead_time_days: int
    service_level: float
    demand_mean: float
    """μ_L, the forecast's mean over the lead time."""
    demand_quantile: float
    """q_L, the forecast's quantile at the service level."""
    variability_term: float
    """q_L - μ_L."""
    installed_base: int | None
    failures_per_device_year: float | None
    failure_mean: float | None
    """λ, the expected failures over the lead time; None without an installed base."""
    failure_quantile: int | None
    """Q, the Poisson quantile of λ at the service level."""
    failure_term: float | None
    """Q - λ."""
    dominant: SafetyStockTerm
    expected_demand: float
    """The dominating view's mean: μ_L or λ."""
    safety_stock: float
    """The reorder point minus the expected demand."""
    reorder_point: float


def poisson_quantile(mean: float, service_level: float) -> int:
    """The smallest k with P(X ≤ k) ≥ ``service_level`` for X Poisson with ``mean``."""
    if not 0 < service_level < 1:
        raise ValueError("a service level lies strictly between 0 and 1")
    if not math.isfinite(mean) or mean < 0:
        raise ValueError("a Poisson mean is a finite number, never negative")
    return int(poisson.ppf(service_level, mean))


def safety_stock(
    lead_time_days: int,
    service_level: float,
    demand: LeadTimeDemand,
    failures: FailureExposure | None,
    discrete: bool,
) -> SafetyStock:
    """The reorder point over ``lead_time_days`` at ``service_level``, from the forecast's
    ``demand`` and, for spares of installed equipment, the ``failures`` it serves."""
    if lead_time_days < 0:
        raise ValueError("a lead time is never negative")
    for figure in (demand.mean, demand.quantile):
        if not math.isfinite(figure) or figure < 0:
            raise ValueError("lead-time demand is a finite number, never negative")
    if failures is not None and (
        failures.installed_base < 0
        or not math.isfinite(failures.failures_per_device_year)
        or failures.failures_per_device_year < 0
    ):
        raise ValueError("an installed base and a failure rate are never negative")
    variability = demand.quantile - demand.mean
    dominant, expected, quantile = SafetyStockTerm.DEMAND_VARIABILITY, demand.mean, demand.quantile
    failure_mean = failure_quantile = failure_term = None
    if failures is not None:
        failure_mean = failures.mean_failures(lead_time_days)
        failure_quantile = poisson_quantile(failure_mean, service_level)
        failure_term = failure_quantile - failure_mean
        if failure_quantile > demand.quantile:
            dominant, expected, quantile = (
                SafetyStockTerm.FAILURE_RATE,
                failure_mean,
                failure_quantile,
            )
    point = round_up(quantile, discrete)
    return SafetyStock(
        lead_time_days=lead_time_days,
        service_level=service_level,
        demand_mean=demand.mean,
        demand_quantile=demand.quantile,
        variability_term=variability,
        installed_base=None if failures is None else failures.installed_base,
        failures_per_device_year=None if failures is None else failures.failures_per_device_year,
        failure_mean=failure_mean,
        failure_quantile=failure_quantile,
        failure_term=failure_term,
        dominant=dominant,
        expected_demand=expected,
        safety_stock=point - expected,
        reorder_point=point,
    )
