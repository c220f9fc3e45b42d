"""Whether a SKU x location needs stock, and whether it should come from the region or the
supplier.

When available + inbound is at or below the reorder point, the location needs the
order-up-to level minus available + inbound (rounded up to whole units):

- if another stocked location of the region holds more than its max, a **transfer** from
  the one with the most excess (the first location code on a tie), of the need or its
  excess, whichever is less: stock already bought is moved before more is bought;
- otherwise a **purchase** of the whole need, arriving after the supplier's lead time.

Above the reorder point, nothing is suggested; the evaluation still says why.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from stockwire.contracts.vocabulary import SuggestionKind
from stockwire.replenishment.domain.explanation import Excess, ReorderExplanation
from stockwire.replenishment.domain.levels import Levels
from stockwire.replenishment.domain.policies import STOCKED_KINDS, EffectivePolicy
from stockwire.replenishment.domain.positions import LocationStock, Position
from stockwire.replenishment.domain.quantities import format_quantity, round_up
from stockwire.replenishment.domain.suggestions import Suggestion


def evaluate(
    policy: EffectivePolicy,
    levels: Levels,
    position: Position,
    region: Sequence[LocationStock],
    today: date,
) -> ReorderExplanation:
    """The evaluation of ``position`` against ``levels``, with its suggestion if one is
    due; ``region`` holds the other locations of the policy's region with their levels
    (the location itself, if there, is passed over)."""
    stock = position.inventory_position
    point, up_to = levels.reorder_point, levels.order_up_to
    excess = sorted(
        (_excess(other, policy.discrete) for other in region if _can_give(other, policy)),
        key=lambda candidate: (-candidate.excess, candidate.location),
    )
    triggered = stock <= point
    need = round_up(up_to - stock, policy.discrete) if triggered else 0
    at = f"available + inbound ({format_quantity(stock)})"
    suggestion = None
    if not triggered:
        reason = f"{at} is above the reorder point ({format_quantity(point)})"
    elif need <= 0:
        reason = (
            f"{at} is at the reorder point and the order-up-to level "
            f"({format_quantity(up_to)}): there is nothing to order"
        )
    elif excess:
        source = excess[0]
        quantity = min(need, source.excess)
        suggestion = Suggestion(
            SuggestionKind.TRANSFER,
            policy.sku,
            policy.location,
            quantity,
            source_location=source.location,
        )
        reason = (
            f"{at} is at or below the reorder point ({format_quantity(point)}) and "
            f"{format_quantity(need)} are needed to reach {format_quantity(up_to)}; "
            f"{source.location} holds {format_quantity(source.excess)} above its max, so "
            f"{format_quantity(quantity)} move from there"
        )
    else:
        lead = policy.supplier_lead_time_days
        arrival = today + timedelta(days=lead)
        suggestion = Suggestion(
            SuggestionKind.PURCHASE,
            policy.sku,
            policy.location,
            need,
            lead_time_days=lead,
            expected_arrival=arrival,
        )
        reason = (
            f"{at} is at or below the reorder point ({format_quantity(point)}) and "
            f"{format_quantity(need)} are needed to reach {format_quantity(up_to)}; no "
            f"other location in {policy.region} holds more than its max, so they are "
            f"bought, arriving about {arrival.isoformat()} after the supplier's {lead} days"
        )
    return ReorderExplanation(
        evaluated_on=today,
        policy=policy,
        levels=levels,
        position=position,
        inbound=position.inbound,
        inventory_position=stock,
        triggered=triggered,
        need=need,
        excess_elsewhere=tuple(excess),
        suggestion=suggestion,
        reason=reason,
    )


def _can_give(other: LocationStock, policy: EffectivePolicy) -> bool:
    return (
        other.location != policy.location
        and other.kind in STOCKED_KINDS
        and other.excess(policy.discrete) > 0
    )


def _excess(other: LocationStock, discrete: bool) -> Excess:
    return Excess(
        location=other.location,
        kind=other.kind,
        available=other.position.available,
        inbound=other.position.inbound,
        max_level=other.max_level,
        excess=other.excess(discrete),
    )
