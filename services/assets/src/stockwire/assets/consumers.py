"""Kafka entry points: each message becomes a command; a batch becomes one transaction.

``assets-movements`` reads stock's movement ledger and keeps each serialized device's
state and timeline (assets never reads stock's tables); ``assets-monitoring`` reads what
network monitoring reports of devices (failures, health, sightings); the runtime's catalog copy
consumers keep assets' read copy of items and locations. The runtime's
:class:`~stockwire.runtime.consumer.Consumer` does the rest: dead letters, the inbox (a
redelivered event changes nothing) and the offset commit after the transaction.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.assets import handlers, handlers_reports
from stockwire.assets.domain.monitoring import ReportKind
from stockwire.assets.domain.movements import Moved
from stockwire.assets.domain.reports import Report
from stockwire.assets.repository import follow_locations
from stockwire.assets.settings import AssetsSettings
from stockwire.assets.tables import CATALOG_COPY
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts import network
from stockwire.contracts.stock import StockMovementRecorded
from stockwire.contracts.topics import NETWORK_DEVICE_EVENTS, STOCK_MOVEMENTS
from stockwire.runtime.catalog_copy import CatalogCopy, register_catalog_copy
from stockwire.runtime.consumer import Consumer, Handle, Received
from stockwire.runtime.service import ServiceRuntime

MOVEMENTS_CONSUMER = "assets-movements"
REPORTS_CONSUMER = "assets-monitoring"


def moved(received: Received) -> Moved | None:
    """A recorded movement of one serial; None for everything else on the topic."""
    event = received.payload
    if not isinstance(event, StockMovementRecorded) or event.serial is None:
        return None
    return Moved(
        serial=event.serial,
        sku=event.sku,
        kind=event.kind,
        reason_code=event.reason_code,
        location=event.location,
        from_location=event.from_location,
        to_location=event.to_location,
        condition=event.condition,
        job_id=event.job_id,
        at=event.recorded_at,
        source_event_id=received.envelope.event_id,
    )


REPORT_KINDS: dict[type[network.DeviceEvent], ReportKind] = {
    network.DeviceFailed: ReportKind.FAILED,
    network.DeviceDegraded: ReportKind.DEGRADED,
    network.DeviceRecovered: ReportKind.RECOVERED,
    network.DeviceSeen: ReportKind.SEEN,
}


def report(received: Received) -> Report | None:
    """What a monitoring system reported of one serial."""
    event = received.payload
    if not isinstance(event, network.DeviceEvent) or type(event) not in REPORT_KINDS:
        return None
    kind = REPORT_KINDS[type(event)]
    return Report(
        serial=event.serial,
        kind=kind,
        source=event.source.value,
        severity=event.severity.value,
        at=event.observed_at or received.envelope.occurred_at,
        source_event_id=received.envelope.event_id,
        site=event.site,
        mac=event.mac,
        detail=event.detail,
        firmware_version=event.firmware_version,
    )


def _reports_handle(runtime: ServiceRuntime, public_url: str) -> Handle:
    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        reports = [r for received in batch if (r := report(received)) is not None]
        if reports:
            uow = AssetsUnitOfWork.within(session, runtime.outbox, batch, public_url=public_url)
            await handlers_reports.apply_reports(reports, uow)

    return handle


def _movements_handle(runtime: ServiceRuntime, public_url: str) -> Handle:
    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        moves = [m for received in batch if (m := moved(received)) is not None]
        if moves:
            uow = AssetsUnitOfWork.within(session, runtime.outbox, batch, public_url=public_url)
            await handlers.apply_movements(moves, uow)

    return handle


def register_consumers(runtime: ServiceRuntime, settings: AssetsSettings) -> list[Consumer]:
    """Subscribe assets' consumers on the runtime's broker (they start with it)."""
    movements = Consumer(
        settings=settings,
        broker=runtime.broker,
        topics=[STOCK_MOVEMENTS],
        consumer=MOVEMENTS_CONSUMER,
        sessions=runtime.sessions,
        inbox=runtime.inbox,
        handle=_movements_handle(runtime, settings.public_url()),
        max_batch=settings.assets_batch_size,
    )
    reports = Consumer(
        settings=settings,
        broker=runtime.broker,
        topics=[NETWORK_DEVICE_EVENTS],
        consumer=REPORTS_CONSUMER,
        sessions=runtime.sessions,
        inbox=runtime.inbox,
        handle=_reports_handle(runtime, settings.public_url()),
        max_batch=settings.assets_batch_size,
    )
    return [
        movements,
        reports,
        *register_catalog_copy(
            runtime, CatalogCopy(CATALOG_COPY, locations_changed=follow_locations)
        ),
    ]
