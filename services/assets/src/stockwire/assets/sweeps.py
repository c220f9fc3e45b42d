"""The periodic sweep: raises the alerts of conditions that hold now (warranties ending,
models nearing end of sale or life, devices past end of life or below their minimum
firmware, records disagreeing with the network) and resolves those that no longer hold.

The database narrows each kind to its candidates (joins and aggregates; a warranty's end
is computed in SQL only to filter); the rules of :mod:`.domain.sweeps` and
:mod:`.domain.reconciliation` decide. What is found is compared with the active alerts
of the swept kinds (:func:`~.domain.alerts.changes`): new conditions are raised, cleared
ones resolved, standing ones left alone, so a sweep that finds nothing new publishes
nothing. One sweep is one transaction, under a transaction-scoped advisory lock, so
however many replicas run, one sweeps at a time and the others skip that round.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.assets import report_queries
from stockwire.assets.domain.alerts import Alert, changes, dedup_key
from stockwire.assets.domain.devices import unknown_serial
from stockwire.assets.domain.firmware import meets_minimum
from stockwire.assets.domain.reconciliation import Recorded, Sighting, mismatch_alert
from stockwire.assets.domain.sweeps import (
    SWEPT,
    Installed,
    ModelDates,
    WarrantyTerms,
    Windows,
    firmware_alerts,
    model_date_alerts,
    past_end_of_life_alerts,
    resolution,
    warranty_alerts,
)
from stockwire.assets.handlers import REJECTED, refusal_alert
from stockwire.assets.report_queries import IS_INSTALLED, IS_OWNED, ITEMS, MismatchRow
from stockwire.assets.settings import AssetsSettings
from stockwire.assets.tables import devices, firmware_minimums
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.vocabulary import DeviceState
from stockwire.runtime.periodic import only_one
from stockwire.runtime.service import ServiceRuntime

log = logging.getLogger(__name__)
tracer = trace.get_tracer("stockwire.assets")

JOB = "assets-sweep"
"""The job's name: its advisory lock, and its log lines."""

MONTH: sa.ColumnElement[Any] = sa.literal_column("interval '1 month'")


@dataclass(frozen=True)
class Swept:
    """What one sweep did: the dedup keys it raised and resolved."""

    raised: list[str]
    resolved: list[str]


def windows_of(settings: AssetsSettings) -> Windows:
    return Windows(
        warranty_days=settings.assets_warranty_alert_days,
        end_of_life_days=settings.assets_end_of_life_alert_days,
        ghost_days=settings.assets_ghost_after_days,
    )


async def sweep(
    runtime: ServiceRuntime, settings: AssetsSettings, *, now: datetime | None = None
) -> Swept | None:
    """Sweep once, as of ``now`` (default: the clock); None if another instance is
    sweeping at this moment."""
    at = now or datetime.now(UTC)
    windows = windows_of(settings)
    uow = AssetsUnitOfWork(
        runtime.sessions, runtime.outbox, public_url=settings.public_url(), clock=lambda: at
    )
    with tracer.start_as_current_span("assets.sweep"):
        async with uow:
            if not await only_one(uow.session, JOB):
                return None
            found = await conditions(uow.session, at, windows)
            active = await uow.assets.active_alerts_of(kind.value for kind in SWEPT)
            raised, cleared = changes(found, {k: a.kind for k, a in active.items()}, SWEPT)
            await uow.raise_alerts(raised)
            await uow.resolve_alerts(
                [
                    resolution(
                        a.kind,
                        a.dedup_key,
                        serial=a.serial,
                        sku=a.sku,
                        region=a.region,
                        location=a.location,
                    )
                    for a in (active[key] for key in cleared)
                ]
            )
            stuck = await refuse_stuck_facts(uow, at - settings.assets_parked_alert_after)
            await uow.commit()
    return Swept([a.dedup_key for a in raised] + stuck, cleared)


async def refuse_stuck_facts(uow: AssetsUnitOfWork, before: datetime) -> list[str]:
    """Serials whose facts have waited since before ``before`` for their first one are
    refused as unknown: published and alerted once (the serial's first fact, when it
    comes, applies them and resolves the alert); the dedup keys raised."""
    stuck = await uow.assets.parked_since(before)
    if not stuck:
        return []
    active = await uow.assets.active_alerts(dedup_key(REJECTED, fact.serial) for fact in stuck)
    fresh = [fact for fact in stuck if dedup_key(REJECTED, fact.serial) not in active]
    refused = [unknown_serial(fact) for fact in fresh]
    await uow.record_device_events(refused)
    await uow.raise_alerts([refusal_alert(event) for event in refused])
    return [dedup_key(REJECTED, event.serial) for event in refused]


async def sweep_round(runtime: ServiceRuntime, settings: AssetsSettings) -> str:
    """One round of the periodic sweep, and what to log of it."""
    swept = await sweep(runtime, settings)
    if swept is None:
        return "another instance is sweeping"
    return f"{len(swept.raised)} raised, {len(swept.resolved)} resolved"


async def conditions(session: AsyncSession, now: datetime, windows: Windows) -> list[Alert]:
    """Every condition of the swept kinds that holds at ``now``."""
    today = now.astimezone(UTC).date()
    found = warranty_alerts(
        await _warranties(session, today, windows), today, windows.warranty_days
    )
    found += model_date_alerts(
        await _models(session, today, windows.end_of_life_days), today, windows.end_of_life_days
    )
    found += past_end_of_life_alerts(await _past_end_of_life(session, today), today)
    minimums = await report_queries.minimums(session)
    found += firmware_alerts(await _below_minimum(session, minimums), minimums)
    window = windows.ghost_window
    for row in await report_queries.all_mismatches(session, now - window):
        alert = mismatch_alert(_recorded(row), _sighting(row), now, window)
        if alert is not None:
            found.append(alert)
    return found


def _installed(row: Any) -> Installed:
    return Installed(row.serial, row.sku, row.location, row.region, row.category)


def _installed_devices(*columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
    return (
        sa.select(
            devices.c.serial,
            devices.c.sku,
            devices.c.location,
            devices.c.region,
            ITEMS.c.category,
            *columns,
        )
        .select_from(devices.outerjoin(ITEMS, ITEMS.c.sku == devices.c.sku))
        .where(IS_INSTALLED)
    )


async def _warranties(
    session: AsyncSession, today: date, windows: Windows
) -> list[tuple[Installed, WarrantyTerms]]:
    """Installed devices whose warranty ends around the window (a day's slack either
    side: the domain decides)."""
    received = sa.cast(sa.func.timezone("UTC", devices.c.received_at), sa.Date)
    ends = sa.func.coalesce(
        devices.c.warranty_ends_override,
        sa.cast(received + ITEMS.c.warranty_months * MONTH, sa.Date),
    )
    statement = _installed_devices(
        devices.c.received_at, ITEMS.c.warranty_months, devices.c.warranty_ends_override
    ).where(
        ends.between(today - timedelta(days=1), today + timedelta(days=windows.warranty_days + 1))
    )
    return [
        (
            _installed(row),
            WarrantyTerms(row.received_at, row.warranty_months, row.warranty_ends_override),
        )
        for row in await session.execute(statement)
    ]


async def _models(session: AsyncSession, today: date, within_days: int) -> list[ModelDates]:
    """Models with an installed base whose end of sale or of life is in the window."""
    until = today + timedelta(days=within_days)
    installed = sa.func.count().filter(IS_INSTALLED)
    statement = (
        sa.select(
            ITEMS.c.sku,
            ITEMS.c.category,
            ITEMS.c.end_of_sale,
            ITEMS.c.end_of_life,
            installed.label("installed"),
            sa.func.count().filter(IS_OWNED).label("owned"),
        )
        .join_from(ITEMS, devices, devices.c.sku == ITEMS.c.sku)
        .where(
            sa.or_(
                ITEMS.c.end_of_sale.between(today, until), ITEMS.c.end_of_life.between(today, until)
            )
        )
        .group_by(ITEMS.c.sku)
        .having(installed > 0)
    )
    return [ModelDates(**row._mapping) for row in await session.execute(statement)]


async def _past_end_of_life(session: AsyncSession, today: date) -> list[tuple[Installed, date]]:
    statement = _installed_devices(ITEMS.c.end_of_life).where(ITEMS.c.end_of_life < today)
    return [(_installed(row), row.end_of_life) for row in await session.execute(statement)]


async def _below_minimum(
    session: AsyncSession, minimums: dict[str, str]
) -> list[tuple[Installed, str]]:
    """Installed devices whose firmware is below their model's minimum: the distinct
    versions per model are compared here, then only the devices of those versions read."""
    if not minimums:
        return []
    versions = await session.execute(
        sa.select(devices.c.sku, devices.c.firmware_version)
        .distinct()
        .join_from(devices, firmware_minimums, firmware_minimums.c.sku == devices.c.sku)
        .where(IS_INSTALLED, devices.c.firmware_version.is_not(None))
    )
    below = [
        (sku, version)
        for sku, version in versions
        if sku in minimums and not meets_minimum(version, minimums[sku])
    ]
    if not below:
        return []
    statement = _installed_devices(devices.c.firmware_version).where(
        sa.tuple_(devices.c.sku, devices.c.firmware_version).in_(below)
    )
    return [(_installed(row), row.firmware_version) for row in await session.execute(statement)]


def _recorded(row: MismatchRow) -> Recorded | None:
    if row.sku is None or row.state is None:
        return None
    return Recorded(
        row.serial,
        row.sku,
        DeviceState(row.state),
        row.location,
        row.region,
        row.installed_since,
        row.category,
    )


def _sighting(row: MismatchRow) -> Sighting | None:
    if row.seen_as is None or row.source is None or row.seen_at is None:
        return None
    return Sighting(row.seen_as, row.mac, row.site, row.source, row.seen_at, row.region)
