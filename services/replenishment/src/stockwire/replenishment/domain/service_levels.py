"""Target service levels, and how catalog criticality raises them.

A policy's service level is a **cycle service level**: the probability that a
replenishment cycle ends without a stockout, i.e. that demand over the lead time stays at
or below the reorder point. It is what a quantile of lead-time demand gives directly (the
reorder point is that quantile), so the forecasts' quantiles and the failure-rate Poisson
quantile are read at this very probability. Fill rate (the share of demand served from
stock) is not what the policy targets; the benchmark reports it beside the cycle service
level it achieves.

Criticality sets a floor: an item whose lack prolongs an outage gets at least the floor's
service level whatever the policy asks, and the policy records that it was raised."""

from collections.abc import Mapping

from stockwire.contracts.vocabulary import Criticality

HIGH_CRITICALITY_SERVICE_LEVEL = 0.98
"""The least service level of an item of high criticality."""
CRITICAL_SERVICE_LEVEL = 0.995
"""The least service level of an item of critical criticality."""

SERVICE_LEVEL_FLOORS: Mapping[Criticality, float] = {
    Criticality.HIGH: HIGH_CRITICALITY_SERVICE_LEVEL,
    Criticality.CRITICAL: CRITICAL_SERVICE_LEVEL,
}
"""Criticalities that raise the service level, and to at least what; low and medium
leave it as the policy says."""


def raised_service_level(requested: float, criticality: Criticality) -> float:
    """The service level an item of ``criticality`` is planned at when its policy asks for
    ``requested``: the larger of the two and the criticality's floor."""
    return max(requested, SERVICE_LEVEL_FLOORS.get(criticality, 0.0))
