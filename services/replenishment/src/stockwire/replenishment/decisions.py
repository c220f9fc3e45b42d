"""People's decisions on suggestions, over HTTP: accept or reject.

Accepting a transfer publishes a :class:`TransferRequested` for stock, with the
suggestion's id as the transfer id, so stock ships it once however often it is told.
Accepting a purchase or a last-time buy publishes a :class:`PurchaseOrderRequested` for
the ERP; it is on order (inbound) until stock receives goods quoting its request id as
the PO number. Either way the decision is published on the suggestions topic, and the
suggestion's overdue alert, if any, resolves. A projected stockout resolves when the
stock level shows the remedy (inbound rising above the reorder point), not before.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from stockwire.contracts.ids import new_id
from stockwire.contracts.replenishment import (
    PurchaseOrderRequested,
    SuggestionAccepted,
    SuggestionRejected,
    TransferRequested,
)
from stockwire.contracts.vocabulary import SuggestionKind
from stockwire.replenishment.domain.alerts import changes, overdue_key
from stockwire.replenishment.domain.suggestions import SuggestionStatus, suggestion_key
from stockwire.replenishment.repository import SuggestionRow
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.domain_errors import Conflict, NotFound
from stockwire.runtime.plain_text import clip


@dataclass(frozen=True, slots=True)
class Decide:
    suggestion_id: uuid.UUID
    by: str
    reason: str | None = None


async def _open(cmd: Decide, uow: ReplenishmentUnitOfWork) -> SuggestionRow:
    row = await uow.plans.suggestion(cmd.suggestion_id, lock=True)
    if row is None:
        raise NotFound("suggestion", str(cmd.suggestion_id))
    if row.status != SuggestionStatus.OPEN.value:
        raise Conflict(
            "status", f"suggestion {cmd.suggestion_id} was already {row.status}; it is not open"
        )
    return row


async def accept_suggestion(cmd: Decide, uow: ReplenishmentUnitOfWork) -> SuggestionRow:
    row = await _open(cmd, uow)
    now = uow.now()
    kind = SuggestionKind(row.kind)
    quantity = Decimal(row.quantity)
    uow.publish(
        SuggestionAccepted(
            suggestion_id=row.suggestion_id,
            kind=kind,
            sku=row.sku,
            location=row.location,
            quantity=quantity,
            accepted_by=cmd.by,
            accepted_at=now,
        )
    )
    if kind is SuggestionKind.TRANSFER:
        assert row.from_location is not None
        uow.publish(
            TransferRequested(
                transfer_id=str(row.suggestion_id),
                suggestion_id=row.suggestion_id,
                sku=row.sku,
                from_location=row.from_location,
                to_location=row.location,
                quantity=quantity,
                requested_by=cmd.by,
                requested_at=now,
            )
        )
        request_id = None
    else:
        lead_time = int(row.explanation.get("lead_time_days", 0))
        request_id = new_id()
        uow.publish(
            PurchaseOrderRequested(
                request_id=request_id,
                suggestion_id=row.suggestion_id,
                kind=kind,
                sku=row.sku,
                location=row.location,
                quantity=quantity,
                lead_time_days=lead_time,
                expected_arrival=now.date() + timedelta(days=lead_time),
                requested_by=cmd.by,
                requested_at=now,
            )
        )
    await uow.plans.decide(
        row.suggestion_id, SuggestionStatus.ACCEPTED, now, cmd.by, None, request_id
    )
    await resolve_overdue(row, uow)
    return await _reread(row.suggestion_id, uow)


async def reject_suggestion(cmd: Decide, uow: ReplenishmentUnitOfWork) -> SuggestionRow:
    row = await _open(cmd, uow)
    now = uow.now()
    reason = clip(cmd.reason or "no reason given")
    uow.publish(
        SuggestionRejected(
            suggestion_id=row.suggestion_id,
            kind=SuggestionKind(row.kind),
            sku=row.sku,
            location=row.location,
            reason=reason,
            rejected_by=cmd.by,
            rejected_at=now,
        )
    )
    await uow.plans.decide(row.suggestion_id, SuggestionStatus.REJECTED, now, cmd.by, reason)
    await resolve_overdue(row, uow)
    return await _reread(row.suggestion_id, uow)


async def resolve_overdue(row: SuggestionRow, uow: ReplenishmentUnitOfWork) -> None:
    """A suggestion decided or withdrawn is no longer waiting: its overdue alert resolves."""
    key = overdue_key(suggestion_key(SuggestionKind(row.kind), row.sku, row.location))
    await uow.apply_alerts(changes(await uow.open_alerts([key]), []))


async def _reread(suggestion_id: uuid.UUID, uow: ReplenishmentUnitOfWork) -> SuggestionRow:
    row = await uow.plans.suggestion(suggestion_id, lock=False)
    assert row is not None
    return row
