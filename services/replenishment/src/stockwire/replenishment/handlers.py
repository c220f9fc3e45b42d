"""Use cases of evaluation: a SKU x location's level changed (or its policy, or its
forecast), so it is evaluated again at once.

One evaluation, under an advisory lock on the SKU x location so two never interleave:
the domain says whether stock is needed and from where; the open transfer or purchase
suggestion is kept when it still says the same, withdrawn when it no longer does, and a
new one made (published with the numbers behind it) when needed. A projected-stockout
alert is raised (by the domain's rule: the stock runs out within lead time plus review
period) with the suggestion in it, and resolved when that no longer holds. The latest
evaluation is kept in ``plans`` for the sweep.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from stockwire.contracts.ids import new_id
from stockwire.contracts.replenishment import SuggestionMade, SuggestionWithdrawn
from stockwire.contracts.vocabulary import (
    SafetyStockTerm,
    SuggestionKind,
)
from stockwire.replenishment import decisions, planning
from stockwire.replenishment.domain.alerts import changes, stockout_alert, stockout_key
from stockwire.replenishment.domain.explanation import ReorderExplanation
from stockwire.replenishment.domain.positions import LocationStock
from stockwire.replenishment.domain.suggestions import Suggestion, SuggestionStatus
from stockwire.replenishment.facts import Changed
from stockwire.replenishment.repository import SuggestionRow
from stockwire.replenishment.tables import plans
from stockwire.replenishment.unit_of_work import AlertContext, ReplenishmentUnitOfWork
from stockwire.runtime.plain_text import clip

REORDER_KINDS = frozenset({SuggestionKind.TRANSFER.value, SuggestionKind.PURCHASE.value})


async def evaluate(changed: Sequence[Changed], uow: ReplenishmentUnitOfWork) -> None:
    """Evaluate each SKU x location whose level changed, in the flow of the change."""
    async with uow:
        for each in sorted(changed, key=lambda c: (c.sku, c.location)):
            await _evaluate(each.sku, each.location, each.source_event_id, uow)
        await uow.commit()


async def evaluate_now(sku: str, location: str, uow: ReplenishmentUnitOfWork) -> None:
    """Evaluate one SKU x location inside a unit of work already open (a policy change)."""
    await _evaluate(sku, location, None, uow)


async def _evaluate(
    sku: str, location: str, source: uuid.UUID | None, uow: ReplenishmentUnitOfWork
) -> None:
    await uow.session.execute(
        sa.select(
            sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"replenishment:{sku}@{location}"))
        )
    )
    found = await planning.evaluation(uow.session, sku, location, uow.now())
    if found is None:
        return
    await _keep_plan(found, uow)
    opened = [
        row for row in await uow.plans.open_suggestions(sku, location) if row.kind in REORDER_KINDS
    ]
    wanted = await _unless_rejected(found.suggestion, uow)
    kept = next((row for row in opened if wanted is not None and _same(row, wanted)), None)
    for row in opened:
        if row is not kept:
            await withdraw(row, _withdrawal_reason(found, wanted), source, uow)
    suggestion_id = None
    if wanted is not None:
        suggestion_id = (
            kept.suggestion_id
            if kept
            else await make_suggestion(reorder_suggestion(found, wanted), source, uow)
        )
    key = stockout_key(sku, location)
    current = [alert] if (alert := stockout_alert(found)) else []
    link = uow.suggestion_link(suggestion_id) if suggestion_id else None
    await uow.apply_alerts(
        changes(await uow.open_alerts([key]), current),
        {key: AlertContext(suggestion_id, link, source)},
    )


async def _unless_rejected(
    wanted: Suggestion | None, uow: ReplenishmentUnitOfWork
) -> Suggestion | None:
    """``wanted``, unless a person rejected the same kind of suggestion (from the same
    source) for the SKU x location within the quiet time: it is not made again so soon."""
    if wanted is None:
        return None
    since = uow.now() - uow.planning.rejection_quiet
    rejected = await uow.plans.rejected_since(wanted.sku, wanted.location, since)
    if any(
        row.kind == wanted.kind.value and row.from_location == wanted.source_location
        for row in rejected
    ):
        return None
    return wanted


def _same(row: SuggestionRow, wanted: Suggestion) -> bool:
    return (
        row.kind == wanted.kind.value
        and row.from_location == wanted.source_location
        and Decimal(row.quantity) == Decimal(str(wanted.quantity))
    )


@dataclass(frozen=True, slots=True)
class NewSuggestion:
    """A suggestion to make, with the figures its event carries and its explanation."""

    suggestion: Suggestion
    available: float
    inbound: float
    reorder_point: float
    order_up_to: float
    service_level: float
    dominant: SafetyStockTerm
    lead_time_days: int
    reason: str
    explanation: dict[str, Any]


def reorder_suggestion(e: ReorderExplanation, wanted: Suggestion) -> NewSuggestion:
    safety = e.levels.safety
    return NewSuggestion(
        suggestion=wanted,
        available=e.position.available,
        inbound=e.inbound,
        reorder_point=e.levels.reorder_point,
        order_up_to=e.levels.order_up_to,
        service_level=e.policy.service_level,
        dominant=safety.dominant if safety else SafetyStockTerm.DEMAND_VARIABILITY,
        lead_time_days=(
            wanted.lead_time_days if wanted.lead_time_days is not None else e.policy.lead_time_days
        ),
        reason=e.reason,
        explanation=e.as_dict(),
    )


async def make_suggestion(
    new: NewSuggestion, source: uuid.UUID | None, uow: ReplenishmentUnitOfWork
) -> uuid.UUID:
    """Keep and publish a new open suggestion; its id."""
    wanted = new.suggestion
    suggestion_id = new_id()
    now = uow.now()
    explanation = jsonable(new.explanation)
    explanation["lead_time_days"] = new.lead_time_days
    explanation["summary"] = clip(new.reason)
    quantity = _units(wanted.quantity)
    await uow.plans.add_suggestion(
        {
            "suggestion_id": suggestion_id,
            "kind": wanted.kind.value,
            "sku": wanted.sku,
            "location": wanted.location,
            "from_location": wanted.source_location,
            "quantity": quantity,
            "status": SuggestionStatus.OPEN.value,
            "explanation": explanation,
            "made_at": now,
        }
    )
    uow.publish(
        SuggestionMade(
            suggestion_id=suggestion_id,
            kind=wanted.kind,
            sku=wanted.sku,
            location=wanted.location,
            from_location=wanted.source_location,
            quantity=quantity,
            available=_units(new.available),
            inbound=_units(new.inbound),
            reorder_point=_units(new.reorder_point),
            order_up_to=_units(new.order_up_to),
            service_level=Decimal(str(round(new.service_level, 4))),
            dominant_term=new.dominant,
            lead_time_days=new.lead_time_days,
            expected_arrival=wanted.expected_arrival,
            reason=clip(new.reason),
            made_at=now,
        ),
        source,
    )
    return suggestion_id


async def withdraw(
    row: SuggestionRow, reason: str, source: uuid.UUID | None, uow: ReplenishmentUnitOfWork
) -> None:
    now = uow.now()
    await uow.plans.decide(row.suggestion_id, SuggestionStatus.WITHDRAWN, now, None, reason)
    await decisions.resolve_overdue(row, uow)
    uow.publish(
        SuggestionWithdrawn(
            suggestion_id=row.suggestion_id,
            kind=SuggestionKind(row.kind),
            sku=row.sku,
            location=row.location,
            reason=clip(reason),
            withdrawn_at=now,
        ),
        source,
    )


def _withdrawal_reason(found: ReorderExplanation, wanted: Suggestion | None) -> str:
    if wanted is None:
        return found.reason
    return f"replaced by a newer suggestion: {found.reason}"


async def _keep_plan(e: ReorderExplanation, uow: ReplenishmentUnitOfWork) -> None:
    values = {
        "region": e.policy.region,
        "location_kind": e.policy.location_kind.value,
        "discrete": e.policy.discrete,
        "reorder_point": _units(e.levels.reorder_point),
        "order_up_to": _units(e.levels.order_up_to),
        "available": _units(e.position.available),
        "inventory_position": _units(e.inventory_position),
        "excess": _units(
            LocationStock(
                e.policy.location,
                e.policy.location_kind,
                e.position,
                e.levels.reorder_point,
                e.levels.order_up_to,
            ).excess(e.policy.discrete)
        ),
        "daily_demand_mean": e.levels.daily_demand_mean,
        "dominant_term": e.levels.safety.dominant.value if e.levels.safety else None,
        "evaluated_at": uow.now(),
    }
    statement = insert(plans).values(sku=e.policy.sku, location=e.policy.location, **values)
    await uow.session.execute(
        statement.on_conflict_do_update(index_elements=[plans.c.sku, plans.c.location], set_=values)
    )


def _units(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


def jsonable(value: Any) -> Any:
    """``value`` with dates as ISO strings, so it can be stored as JSON."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value
