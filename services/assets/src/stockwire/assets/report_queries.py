"""Reads behind the reports and the sweep: reconciliation of the records with the
network, firmware compliance, utilization, models nearing their end, and the firmware
minimums. Counting is done by the database (aggregates per model and region); only what a
rule in the domain must decide comes back row by row: the distinct firmware versions per
model and region, and each mismatch.

The reconciliation relation (:func:`mismatch_rows`) states in SQL the rule of
:mod:`stockwire.assets.domain.reconciliation`, so a report counts exactly what the sweep
alerts on; the domain decides each alert again from the rows.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from stockwire.assets.domain.firmware import FirmwareCount
from stockwire.assets.domain.lifecycle import IN_SERVICE, OWNED
from stockwire.assets.domain.reconciliation import Mismatch
from stockwire.assets.tables import CATALOG_COPY, devices, firmware_minimums, sightings
from stockwire.contracts.vocabulary import DeviceState, TrackingMode
from stockwire.runtime.http.pages import Page, after_key, page_of

ITEMS = CATALOG_COPY.items
PLACES = CATALOG_COPY.locations

IS_INSTALLED = devices.c.state.in_(sorted(state.value for state in IN_SERVICE))
IS_OWNED = devices.c.state.in_(sorted(state.value for state in OWNED))

Reader = AsyncConnection | AsyncSession


def _null(kind: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    return sa.cast(sa.null(), kind)


# ------------------------------------------------------------------------- reconciliation


def _recent(since: datetime) -> sa.CTE:
    return sa.select(sightings).where(sightings.c.seen_at >= since).cte("recent")


def _seen(recent: sa.CTE) -> sa.CTE:
    """Each recorded device's latest recent sighting: of its serial, or of its MAC under
    a serial the records do not have."""
    known = devices.alias("known")

    def naming(condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
        return sa.select(
            devices.c.serial.label("device"),
            recent.c.serial.label("seen_as"),
            recent.c.mac,
            recent.c.site,
            recent.c.source,
            recent.c.seen_at,
        ).join_from(recent, devices, condition)

    by_serial = naming(devices.c.serial == recent.c.serial)
    by_mac = naming(devices.c.mac == recent.c.mac).where(
        ~sa.exists().where(known.c.serial == recent.c.serial)
    )
    either = sa.union_all(by_serial, by_mac).subquery("either")
    return (
        sa.select(either)
        .ext(distinct_on(either.c.device))
        .order_by(either.c.device, either.c.seen_at.desc())
        .cte("seen")
    )


def mismatch_rows(since: datetime) -> sa.Subquery:
    """Every mismatch at a moment whose window starts at ``since``: misplaced devices,
    ghosts and unrecorded sightings, one row each (keyed by serial), with the device as
    recorded (none for an unrecorded one) and the sighting that tells (a ghost's last
    one, older than the window, if any). ``region`` is the device's, or for an
    unrecorded sighting its site's."""
    recent = _recent(since)
    seen = _seen(recent)
    recorded = devices.outerjoin(ITEMS, ITEMS.c.sku == devices.c.sku)

    def device_columns() -> list[sa.ColumnElement[Any]]:
        return [
            devices.c.serial,
            devices.c.sku,
            devices.c.state,
            devices.c.location,
            devices.c.region,
            devices.c.installed_since,
            ITEMS.c.category,
        ]

    misplaced = (
        sa.select(
            sa.literal(Mismatch.MISPLACED.value).label("mismatch"),
            *device_columns(),
            seen.c.seen_as,
            seen.c.mac,
            seen.c.site,
            seen.c.source,
            seen.c.seen_at,
        )
        .select_from(recorded.join(seen, seen.c.device == devices.c.serial))
        .where(seen.c.site.is_not(None), seen.c.site.is_distinct_from(devices.c.location))
    )
    last = sightings.alias("last")
    ghosts = (
        sa.select(
            sa.literal(Mismatch.GHOST.value).label("mismatch"),
            *device_columns(),
            last.c.serial.label("seen_as"),
            last.c.mac,
            last.c.site,
            last.c.source,
            last.c.seen_at,
        )
        .select_from(
            recorded.outerjoin(seen, seen.c.device == devices.c.serial).outerjoin(
                last, last.c.serial == devices.c.serial
            )
        )
        .where(
            seen.c.device.is_(None),
            devices.c.state == DeviceState.INSTALLED.value,
            devices.c.installed_since <= since,
        )
    )
    unrecorded = (
        sa.select(
            sa.literal(Mismatch.UNRECORDED.value).label("mismatch"),
            recent.c.serial,
            _null(sa.Text()),
            _null(sa.Text()),
            _null(sa.Text()),
            PLACES.c.region,
            _null(sa.DateTime(timezone=True)),
            _null(sa.Text()),
            recent.c.serial.label("seen_as"),
            recent.c.mac,
            recent.c.site,
            recent.c.source,
            recent.c.seen_at,
        )
        .select_from(recent.outerjoin(PLACES, PLACES.c.code == recent.c.site))
        .where(
            ~sa.exists().where(devices.c.serial == recent.c.serial),
            ~sa.exists().where(devices.c.mac == recent.c.mac),
        )
    )
    return sa.union_all(misplaced, ghosts, unrecorded).subquery("mismatches")


@dataclass(frozen=True)
class MismatchRow:
    mismatch: str
    serial: str
    sku: str | None
    state: str | None
    location: str | None
    region: str | None
    installed_since: datetime | None
    category: str | None
    seen_as: str | None
    mac: str | None
    site: str | None
    source: str | None
    seen_at: datetime | None


async def all_mismatches(reader: Reader, since: datetime) -> list[MismatchRow]:
    rows = await reader.execute(sa.select(mismatch_rows(since)))
    return [MismatchRow(**row._mapping) for row in rows]


async def mismatches(
    conn: AsyncConnection,
    since: datetime,
    *,
    region: str | None,
    mismatch: Mismatch | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> Page[MismatchRow]:
    """A page of mismatches, by serial."""
    found = mismatch_rows(since)
    statement = sa.select(found)
    if region is not None:
        statement = statement.where(found.c.region == region)
    if mismatch is not None:
        statement = statement.where(found.c.mismatch == mismatch.value)
    rows = await conn.execute(after_key(statement, [found.c.serial], after, limit))
    return page_of([MismatchRow(**row._mapping) for row in rows], limit)


@dataclass
class RegionReconciliation:
    region: str | None
    installed: int = 0
    confirmed: int = 0
    misplaced: int = 0
    ghosts: int = 0
    unrecorded: int = 0


async def reconciliation(
    conn: AsyncConnection, since: datetime, region: str | None
) -> list[RegionReconciliation]:
    """Per region: installed devices, those seen at their recorded site (confirmed), and
    the mismatches counted by the region they belong to."""
    seen = _seen(_recent(since))
    installed = (
        sa.select(
            devices.c.region,
            sa.func.count().label("installed"),
            sa.func.count().filter(seen.c.site == devices.c.location).label("confirmed"),
        )
        .select_from(devices.outerjoin(seen, seen.c.device == devices.c.serial))
        .where(IS_INSTALLED)
        .group_by(devices.c.region)
    )
    found = mismatch_rows(since)
    counted = sa.select(found.c.region, found.c.mismatch, sa.func.count().label("n")).group_by(
        found.c.region, found.c.mismatch
    )
    if region is not None:
        installed = installed.where(devices.c.region == region)
        counted = counted.where(found.c.region == region)
    regions: dict[str | None, RegionReconciliation] = {}
    for row in await conn.execute(installed):
        regions[row.region] = RegionReconciliation(row.region, row.installed, row.confirmed)
    for row in await conn.execute(counted):
        tally = regions.setdefault(row.region, RegionReconciliation(row.region))
        match Mismatch(row.mismatch):
            case Mismatch.MISPLACED:
                tally.misplaced = row.n
            case Mismatch.GHOST:
                tally.ghosts = row.n
            case Mismatch.UNRECORDED:
                tally.unrecorded = row.n
    return sorted(regions.values(), key=lambda r: (r.region is not None, r.region or ""))


# --------------------------------------------------------------------- firmware compliance


async def minimums(reader: Reader, sku: str | None = None) -> dict[str, str]:
    statement = sa.select(firmware_minimums.c.sku, firmware_minimums.c.minimum_version)
    if sku is not None:
        statement = statement.where(firmware_minimums.c.sku == sku)
    return {row.sku: row.minimum_version for row in await reader.execute(statement)}


async def firmware_counts(
    conn: AsyncConnection, *, sku: str | None, region: str | None
) -> list[FirmwareCount]:
    """Installed devices of models with a minimum, per model, region and firmware."""
    statement = (
        sa.select(devices.c.sku, devices.c.region, devices.c.firmware_version, sa.func.count())
        .join_from(devices, firmware_minimums, firmware_minimums.c.sku == devices.c.sku)
        .where(IS_INSTALLED)
        .group_by(devices.c.sku, devices.c.region, devices.c.firmware_version)
    )
    if sku is not None:
        statement = statement.where(devices.c.sku == sku)
    if region is not None:
        statement = statement.where(devices.c.region == region)
    return [FirmwareCount(*row) for row in await conn.execute(statement)]


@dataclass(frozen=True)
class MinimumRow:
    sku: str
    minimum_version: str
    reason: str | None
    set_by: str
    set_at: datetime


async def minimum_page(
    conn: AsyncConnection, *, after: tuple[Any, ...] | None, limit: int
) -> Page[MinimumRow]:
    statement = sa.select(
        firmware_minimums.c.sku,
        firmware_minimums.c.minimum_version,
        firmware_minimums.c.reason,
        firmware_minimums.c.set_by,
        firmware_minimums.c.set_at,
    )
    rows = await conn.execute(after_key(statement, [firmware_minimums.c.sku], after, limit))
    return page_of([MinimumRow(**row._mapping) for row in rows], limit)


# ------------------------------------------------------------------- utilization and EOL


@dataclass(frozen=True)
class Utilization:
    sku: str
    region: str | None
    installed: int
    owned: int


async def utilization(
    conn: AsyncConnection, *, sku: str | None, region: str | None
) -> list[Utilization]:
    """Installed and owned (not disposed) devices per model and region."""
    statement = (
        sa.select(
            devices.c.sku,
            devices.c.region,
            sa.func.count().filter(IS_INSTALLED).label("installed"),
            sa.func.count().label("owned"),
        )
        .where(IS_OWNED)
        .group_by(devices.c.sku, devices.c.region)
        .order_by(devices.c.sku, devices.c.region.nulls_first())
    )
    if sku is not None:
        statement = statement.where(devices.c.sku == sku)
    if region is not None:
        statement = statement.where(devices.c.region == region)
    return [Utilization(**row._mapping) for row in await conn.execute(statement)]


@dataclass(frozen=True)
class ModelEnd:
    sku: str
    name: str | None
    category: str | None
    end_of_sale: date | None
    end_of_life: date | None
    installed: int
    owned: int


async def models_ending(
    conn: AsyncConnection, until: date, *, after: tuple[Any, ...] | None, limit: int
) -> Page[ModelEnd]:
    """Serialized models whose end of sale or end of life is on or before ``until``
    (past ones included), with their installed and owned devices, by SKU."""
    statement = (
        sa.select(
            ITEMS.c.sku,
            ITEMS.c.name,
            ITEMS.c.category,
            ITEMS.c.end_of_sale,
            ITEMS.c.end_of_life,
            sa.func.count(devices.c.serial).filter(IS_INSTALLED).label("installed"),
            sa.func.count(devices.c.serial).filter(IS_OWNED).label("owned"),
        )
        .select_from(ITEMS.outerjoin(devices, devices.c.sku == ITEMS.c.sku))
        .where(
            ITEMS.c.tracking_mode == TrackingMode.SERIAL.value,
            sa.or_(ITEMS.c.end_of_sale <= until, ITEMS.c.end_of_life <= until),
        )
        .group_by(ITEMS.c.sku)
    )
    rows = await conn.execute(after_key(statement, [ITEMS.c.sku], after, limit))
    return page_of([ModelEnd(**row._mapping) for row in rows], limit)
