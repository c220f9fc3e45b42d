"""Kafka entry points: each message becomes a command; a batch becomes one transaction.

FSM job events, scans, goods receipts and replenishment's transfer requests go to the
book; the runtime's catalog copy consumers (``stock-catalog-items``,
``stock-catalog-locations``) keep stock's read copy of items and locations. The
runtime's :class:`Consumer` does the rest: dead letters for what cannot be read, the
inbox (a redelivered event changes nothing), and the offset commit after the transaction.
"""

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts import fsm, receipts, replenishment, scans
from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope
from stockwire.contracts.topics import (
    FSM_JOB_EVENTS,
    GOODS_RECEIPTS,
    REPLENISHMENT_TRANSFER_REQUESTS,
    SCANS,
    TopicSpec,
    by_name,
)
from stockwire.runtime.catalog_copy import CatalogCopy, register_catalog_copy
from stockwire.runtime.consumer import Consumer, Handle, Received
from stockwire.runtime.service import ServiceRuntime
from stockwire.stock import handlers
from stockwire.stock.domain.commands import (
    Command,
    CompleteJob,
    InstallPart,
    IssueParts,
    Line,
    Origin,
    ReceiptLine,
    ReceiveGoods,
    RecordCount,
    ReturnPart,
    ShipTransfer,
    SwapDevice,
)
from stockwire.stock.domain.model import ONE, Policy
from stockwire.stock.settings import StockSettings
from stockwire.stock.tables import CATALOG_COPY
from stockwire.stock.unit_of_work import StockUnitOfWork

log = logging.getLogger(__name__)

MOVEMENTS_CONSUMER = "stock-movements"
"""The consumer group (and inbox name) applying every topic whose events move stock."""


def _origin(envelope: Envelope, who: str | None = None) -> Origin:
    actor = f"{envelope.producer}:{who}" if who else envelope.producer
    return Origin(actor=actor, source_event_id=envelope.event_id)


def _line(part: fsm.PartLine) -> Line:
    return Line(part.sku, part.quantity, part.serials, part.lot)


def job_command(envelope: Envelope, event: Event) -> Command | None:
    """The command an FSM job event asks for; None for events stock has no use for."""
    if not isinstance(event, fsm.JobEvent):
        return None
    origin = _origin(envelope, event.technician_id)
    match event:
        case fsm.PartsIssued():
            lines = tuple(_line(part) for part in event.lines)
            return IssueParts(event.from_location, lines, origin, job_id=event.job_id)
        case fsm.PartInstalled():
            return InstallPart(
                event.from_location, event.customer_site, _line(event.line), origin, event.job_id
            )
        case fsm.PartReturned():
            return ReturnPart(
                event.to_location, _line(event.line), event.condition, origin, event.job_id
            )
        case fsm.DeviceSwapped():
            return SwapDevice(
                customer_site=event.customer_site,
                from_location=event.from_location,
                installed=Line(event.installed_sku, ONE, (event.installed_serial,)),
                removed=Line(event.removed_sku, ONE, (event.removed_serial,)),
                removed_condition=event.removed_condition,
                origin=origin,
                job_id=event.job_id,
            )
        case fsm.JobCompleted():
            return CompleteJob(event.job_id, origin)
    return None


def scan_command(envelope: Envelope, scan: scans.ScanRecorded) -> Command:
    """A receipt scan books stock in, a pick scan issues it, a count scan counts it."""
    origin = _origin(envelope, f"scanner {scan.scanner_id}")
    serials = (scan.serial,) if scan.serial else ()
    match scan.purpose:
        case scans.ScanPurpose.RECEIPT:
            received = ReceiptLine(scan.sku, scan.quantity, None, serials, scan.lot)
            return ReceiveGoods(scan.location, (received,), origin)
        case scans.ScanPurpose.PICK:
            picked = Line(scan.sku, scan.quantity, serials, scan.lot)
            return IssueParts(scan.location, (picked,), origin, scanned=True)
    return RecordCount(
        count_id=scan.count_id or "",
        sku=scan.sku,
        quantity=scan.quantity,
        origin=origin,
        lot=scan.lot,
        serial=scan.serial,
        location=scan.location,
    )


def receipt_command(envelope: Envelope, receipt: receipts.GoodsReceived) -> Command:
    lines = tuple(
        ReceiptLine(line.sku, line.received_quantity, line.ordered_quantity, line.serials, line.lot)
        for line in receipt.lines
    )
    return ReceiveGoods(
        receipt.location,
        lines,
        _origin(envelope, receipt.supplier),
        po_number=receipt.po_number,
        receipt_id=receipt.receipt_id,
    )


def transfer_command(envelope: Envelope, request: replenishment.TransferRequested) -> Command:
    """An accepted transfer suggestion ships under its ``transfer_id``; it names a
    quantity only, so stock picks what ships (serials too)."""
    return ShipTransfer(
        request.transfer_id,
        request.sku,
        request.from_location,
        request.to_location,
        request.quantity,
        _origin(envelope, request.requested_by),
        stock_picks=True,
    )


Translate = Callable[[Envelope, Event], Command | None]


def _scan(envelope: Envelope, event: Event) -> Command | None:
    return scan_command(envelope, event) if isinstance(event, scans.ScanRecorded) else None


def _receipt(envelope: Envelope, event: Event) -> Command | None:
    return receipt_command(envelope, event) if isinstance(event, receipts.GoodsReceived) else None


def _transfer(envelope: Envelope, event: Event) -> Command | None:
    if isinstance(event, replenishment.TransferRequested):
        return transfer_command(envelope, event)
    return None


TRANSLATIONS: dict[str, Translate] = {
    FSM_JOB_EVENTS.name: job_command,
    SCANS.name: _scan,
    GOODS_RECEIPTS.name: _receipt,
    REPLENISHMENT_TRANSFER_REQUESTS.name: _transfer,
}
"""The topics whose events move stock, and how each event becomes a command. One group
applies them all, so a batch mixes them: a trickle of goods receipts rides along with the
job events instead of taking the same balances' locks in transactions of its own."""


def _book_handle(runtime: ServiceRuntime, policy: Policy, public_url: str) -> Handle:
    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        cmds = [
            cmd
            for received in batch
            if (cmd := TRANSLATIONS[received.topic](received.envelope, received.payload))
            is not None
        ]
        if cmds:
            uow = StockUnitOfWork.within(
                session, runtime.outbox, policy, batch, public_url=public_url
            )
            outcomes = await handlers.apply_commands(cmds, uow)
            for cmd, outcome in zip(cmds, outcomes, strict=True):
                if outcome.repeat_of:
                    log.info(
                        "%s: event %s repeats an applied command and changes nothing: %s",
                        MOVEMENTS_CONSUMER,
                        cmd.origin.source_event_id,
                        outcome.repeat_of,
                    )

    return handle


def register_consumers(
    runtime: ServiceRuntime, settings: StockSettings, policy: Policy
) -> list[Consumer]:
    """Subscribe stock's consumers on the runtime's broker (they start with it); their
    units of work apply ``policy``."""

    def consumer(topics: list[TopicSpec], name: str, handle: Handle, members: int) -> Consumer:
        return Consumer(
            settings=settings,
            broker=runtime.broker,
            topics=topics,
            consumer=name,
            sessions=runtime.sessions,
            inbox=runtime.inbox,
            handle=handle,
            max_batch=settings.stock_batch_size,
            members=members,
        )

    movements = consumer(
        [by_name(name) for name in TRANSLATIONS],
        MOVEMENTS_CONSUMER,
        _book_handle(runtime, policy, settings.public_url()),
        settings.stock_consumer_members,
    )
    return [movements, *register_catalog_copy(runtime, CatalogCopy(CATALOG_COPY))]
