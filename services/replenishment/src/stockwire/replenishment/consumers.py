"""Kafka entry points: each message becomes a fact; a batch becomes one transaction.

``replenishment-demand`` reads stock's movement ledger into the demand history (issues
and installs straight from a shelf; issues refused for lack of stock as lost demand) and
re-evaluates each SKU x location that saw demand (its level and its demand travel on two
topics, so whichever arrives second evaluates with both);
``replenishment-levels`` keeps each SKU x location's latest stock level and re-evaluates
it at once; ``replenishment-reliability`` keeps assets' failure rates and installed base;
the runtime's catalog copy consumers keep the read copy of items and locations, and
re-evaluate the SKU x locations of an item or location that changed (its lead time,
criticality or region; or a level that arrived before the catalog told of its item). The
runtime's :class:`~stockwire.runtime.consumer.Consumer` does the rest: dead letters, the
inbox (a redelivered event changes nothing) and the offset commit after the transaction.
"""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.assets import ReliabilityComputed
from stockwire.contracts.stock import (
    StockLevelChanged,
    StockMovementRecorded,
    StockMovementRejected,
)
from stockwire.contracts.topics import (
    ASSETS_RELIABILITY,
    STOCK_LEVELS,
    STOCK_MOVEMENTS,
    TopicSpec,
)
from stockwire.contracts.vocabulary import MovementKind, RejectionReason
from stockwire.replenishment import facts, handlers
from stockwire.replenishment.settings import ReplenishmentSettings
from stockwire.replenishment.tables import CATALOG_COPY, positions
from stockwire.replenishment.unit_of_work import NewUnitOfWork, ReplenishmentUnitOfWork
from stockwire.runtime.catalog_copy import CatalogCopy, register_catalog_copy
from stockwire.runtime.consumer import Consumer, Handle, Received
from stockwire.runtime.service import ServiceRuntime

DEMAND_CONSUMER = "replenishment-demand"
LEVELS_CONSUMER = "replenishment-levels"
RELIABILITY_CONSUMER = "replenishment-reliability"

CONSUMING = frozenset({MovementKind.ISSUE, MovementKind.INSTALL})
"""Movements that are demand. Transfers, returns, counts and adjustments are not."""


def demand(received: Received) -> facts.Demand | None:
    """The demand a movement is, or None.

    An issue consumes stock where it happens; so does an install straight from a shelf
    (its location is the one it came from). An install of a part already issued to the
    job (its location is the customer site) was counted when it was issued. An issue or
    install refused for lack of stock is lost demand: it would have been consumed."""
    event = received.payload
    if isinstance(event, StockMovementRecorded):
        from_shelf = event.from_location in (None, event.location)
        if event.kind in CONSUMING and from_shelf:
            day = event.recorded_at.astimezone(UTC).date()
            return facts.Demand(event.sku, event.location, day, event.quantity)
    if (
        isinstance(event, StockMovementRejected)
        and event.kind in CONSUMING
        and event.reason is RejectionReason.NEGATIVE_STOCK
    ):
        day = received.envelope.occurred_at.astimezone(UTC).date()
        return facts.Demand(event.sku, event.location, day, event.quantity, lost=True)
    return None


def level(received: Received) -> facts.Level | None:
    event = received.payload
    if not isinstance(event, StockLevelChanged):
        return None
    return facts.Level(
        sku=event.sku,
        location=event.location,
        on_hand=event.on_hand,
        reserved=event.reserved,
        available=event.available,
        in_transit_in=event.in_transit_in,
        in_transit_out=event.in_transit_out,
        as_of=event.as_of,
    )


def figures(received: Received) -> facts.Reliability | None:
    event = received.payload
    if not isinstance(event, ReliabilityComputed):
        return None
    rate = event.failures_per_device_year
    return facts.Reliability(
        sku=event.sku,
        region=event.region,
        installed_base=event.installed_base,
        failures_per_device_year=float(rate) if rate is not None else None,
        as_of=event.as_of,
    )


def receipt_po(received: Received) -> str | None:
    """The PO number of a receipt movement: it may be a purchase replenishment requested."""
    event = received.payload
    if isinstance(event, StockMovementRecorded) and event.kind is MovementKind.RECEIPT:
        return event.po_number
    return None


def shipped_transfer(received: Received) -> str | None:
    """The transfer id of a shipment: it may be a transfer replenishment requested."""
    event = received.payload
    if isinstance(event, StockMovementRecorded) and event.kind is MovementKind.TRANSFER_SHIP:
        return event.transfer_id
    return None


def _demand_handle(within: NewUnitOfWork) -> Handle:
    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        found = [(d, r.envelope.event_id) for r in batch if (d := demand(r)) is not None]
        await facts.add_demand(session, [d for d, _ in found])
        received = [po for r in batch if (po := receipt_po(r)) is not None]
        shipped = [t for r in batch if (t := shipped_transfer(r)) is not None]
        await facts.mark_received(session, received, shipped, datetime.now(UTC))
        changed = {(d.sku, d.location): facts.Changed(d.sku, d.location, e) for d, e in found}
        if changed:
            await handlers.evaluate(list(changed.values()), within(session, batch))

    return handle


def _levels_handle(within: NewUnitOfWork) -> Handle:
    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        levels = [(lv, r.envelope.event_id) for r in batch if (lv := level(r)) is not None]
        changed = await facts.keep_levels(session, levels)
        if changed:
            await handlers.evaluate(changed, within(session, batch))

    return handle


def _reliability_handle() -> Handle:
    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        await facts.keep_reliability(session, [f for r in batch if (f := figures(r)) is not None])

    return handle


def register_consumers(runtime: ServiceRuntime, settings: ReplenishmentSettings) -> list[Consumer]:
    """Subscribe replenishment's consumers on the runtime's broker (they start with it)."""
    planning = settings.planning()

    def within(session: AsyncSession, batch: list[Received]) -> ReplenishmentUnitOfWork:
        return ReplenishmentUnitOfWork.within(session, runtime.outbox, batch, planning=planning)

    def consumer(
        name: str, topic: TopicSpec, handle: Handle, batch: int = settings.replenishment_batch_size
    ) -> Consumer:
        return Consumer(
            settings=settings,
            broker=runtime.broker,
            topics=[topic],
            consumer=name,
            sessions=runtime.sessions,
            inbox=runtime.inbox,
            handle=handle,
            max_batch=batch,
        )

    async def items_changed(session: AsyncSession, skus: list[str]) -> None:
        keys = await facts.positions_of(session, positions.c.sku, skus)
        if keys:
            await handlers.evaluate(keys, within(session, []))

    async def locations_changed(session: AsyncSession, codes: list[str]) -> None:
        keys = await facts.positions_of(session, positions.c.location, codes)
        if keys:
            await handlers.evaluate(keys, within(session, []))

    copy = CatalogCopy(
        CATALOG_COPY, items_changed=items_changed, locations_changed=locations_changed
    )
    return [
        consumer(DEMAND_CONSUMER, STOCK_MOVEMENTS, _demand_handle(within)),
        consumer(
            LEVELS_CONSUMER,
            STOCK_LEVELS,
            _levels_handle(within),
            settings.replenishment_levels_batch_size,
        ),
        consumer(RELIABILITY_CONSUMER, ASSETS_RELIABILITY, _reliability_handle()),
        *register_catalog_copy(runtime, copy),
    ]
