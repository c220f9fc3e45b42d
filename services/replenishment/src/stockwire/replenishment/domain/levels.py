"""The two levels a policy plans by: the reorder point (reorder when available + inbound
falls to it) and the order-up-to level (order enough to reach it).

- Min/max: the min and the max.
- Reorder point: the reorder point is fixed, or computed from safety stock
  (:mod:`.safety_stock`). The order-up-to level is fixed, or the reorder point plus the
  expected demand over the review period, so that stock ordered now lasts until the next
  review would order again. That expected demand comes from the view that set the reorder
  point: the forecast's daily mean, or the failure rate's when failures dominated.

A fixed order-up-to level below the reorder point (a computed reorder point can rise above
it as forecasts change) is raised to it: ordering up to less than the point that
triggered the order would leave the position at or below that point.
"""

from dataclasses import dataclass
from enum import StrEnum

from stockwire.contracts.vocabulary import SafetyStockTerm
from stockwire.replenishment.domain.policies import EffectivePolicy, PolicyKind
from stockwire.replenishment.domain.quantities import round_up
from stockwire.replenishment.domain.safety_stock import (
    FailureExposure,
    LeadTimeDemand,
    SafetyStock,
    safety_stock,
)


class LevelSource(StrEnum):
    """How a level was set."""

    MIN = "min"
    MAX = "max"
    FIXED = "fixed"
    COMPUTED = "computed"
    RAISED_TO_REORDER_POINT = "raised_to_reorder_point"


@dataclass(frozen=True, slots=True)
class Levels:
    reorder_point: float
    reorder_point_source: LevelSource
    order_up_to: float
    order_up_to_source: LevelSource
    daily_demand_mean: float
    """Expected demand per day: the failure rate's when failures set the reorder point,
    the forecast's otherwise."""
    review_period_demand: float
    """Expected demand over the review period (daily mean * review period)."""
    safety: SafetyStock | None
    """How the reorder point was computed; None when it was not (min/max, or fixed)."""


def levels(
    policy: EffectivePolicy,
    demand: LeadTimeDemand,
    daily_demand_mean: float,
    failures: FailureExposure | None,
) -> Levels:
    """The levels ``policy`` plans by, given the forecast's lead-time ``demand`` (at the
    policy's service level and lead time) and daily mean, and the installed equipment the
    stock serves (``failures``, None for items that are not spares of installed gear)."""
    if daily_demand_mean < 0:
        raise ValueError("a daily demand mean is never negative")
    review = policy.review_period_days
    if policy.kind is PolicyKind.MIN_MAX:
        if policy.min_quantity is None or policy.max_quantity is None:
            raise ValueError("an effective min/max policy has a min and a max")
        return Levels(
            reorder_point=policy.min_quantity,
            reorder_point_source=LevelSource.MIN,
            order_up_to=policy.max_quantity,
            order_up_to_source=LevelSource.MAX,
            daily_demand_mean=daily_demand_mean,
            review_period_demand=daily_demand_mean * review,
            safety=None,
        )
    safety = None
    if policy.reorder_point is None:
        safety = safety_stock(
            policy.lead_time_days, policy.service_level, demand, failures, policy.discrete
        )
        point, point_source = safety.reorder_point, LevelSource.COMPUTED
        if safety.dominant is SafetyStockTerm.FAILURE_RATE and failures is not None:
            daily_demand_mean = failures.mean_failures(1)
    else:
        point, point_source = policy.reorder_point, LevelSource.FIXED
    review_demand = daily_demand_mean * review
    if policy.order_up_to is None:
        up_to, up_to_source = round_up(point + review_demand, policy.discrete), LevelSource.COMPUTED
    else:
        up_to, up_to_source = policy.order_up_to, LevelSource.FIXED
    if up_to < point:
        up_to, up_to_source = point, LevelSource.RAISED_TO_REORDER_POINT
    return Levels(
        reorder_point=point,
        reorder_point_source=point_source,
        order_up_to=up_to,
        order_up_to_source=up_to_source,
        daily_demand_mean=daily_demand_mean,
        review_period_demand=review_demand,
        safety=safety,
    )
