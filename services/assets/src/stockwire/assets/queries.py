"""Reads for the HTTP API: a device with its warranty, its timeline, and device search.
Each takes the request's snapshot connection; lists are keyset pages."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from stockwire.assets.domain.mac import normal_mac
from stockwire.assets.tables import CATALOG_COPY, device_history, devices
from stockwire.runtime.http.pages import Page, after_key, page_of

ITEMS = CATALOG_COPY.items


@dataclass(frozen=True)
class DeviceRow:
    serial: str
    sku: str
    state: str
    location: str | None
    location_kind: str | None
    region: str | None
    job_id: str | None
    health: str
    mac: str | None
    firmware_version: str | None
    received_at: datetime
    installed_since: datetime | None
    operating_hours: Decimal
    warranty_months: int | None
    warranty_ends_override: date | None
    replaces_serial: str | None
    as_of: datetime


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    at: datetime
    kind: str
    summary: str
    detail: dict[str, Any]
    source_event_id: uuid.UUID | None


@dataclass(frozen=True)
class DeviceFilter:
    serial: str | None = None
    mac: str | None = None
    sku: str | None = None
    location: str | None = None
    region: str | None = None
    state: str | None = None


def _device_select() -> sa.Select[Any]:
    return sa.select(
        devices.c.serial,
        devices.c.sku,
        devices.c.state,
        devices.c.location,
        devices.c.location_kind,
        devices.c.region,
        devices.c.job_id,
        devices.c.health,
        devices.c.mac,
        devices.c.firmware_version,
        devices.c.received_at,
        devices.c.installed_since,
        devices.c.operating_hours,
        ITEMS.c.warranty_months,
        devices.c.warranty_ends_override,
        devices.c.replaces_serial,
        devices.c.as_of,
    ).select_from(devices.outerjoin(ITEMS, ITEMS.c.sku == devices.c.sku))


async def get_device(conn: AsyncConnection, serial: str) -> DeviceRow | None:
    row = (await conn.execute(_device_select().where(devices.c.serial == serial))).first()
    return DeviceRow(**row._mapping) if row else None


async def find_devices(
    conn: AsyncConnection, query: DeviceFilter, *, after: tuple[Any, ...] | None, limit: int
) -> Page[DeviceRow]:
    """Devices matching every given filter, by serial. A MAC matches in any case and with
    ``:`` or ``-``."""
    statement = _device_select()
    for column, value in (
        (devices.c.serial, query.serial),
        (devices.c.sku, query.sku),
        (devices.c.location, query.location),
        (devices.c.region, query.region),
        (devices.c.state, query.state),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.mac is not None:
        statement = statement.where(devices.c.mac == normal_mac(query.mac))
    rows = await conn.execute(after_key(statement, [devices.c.serial], after, limit))
    return page_of([DeviceRow(**row._mapping) for row in rows], limit)


async def timeline(
    conn: AsyncConnection, serial: str, *, after: tuple[Any, ...] | None, limit: int
) -> Page[HistoryEntry]:
    """A page of everything that happened to the serial, oldest first."""
    statement = sa.select(
        device_history.c.id,
        device_history.c.at,
        device_history.c.kind,
        device_history.c.summary,
        device_history.c.detail,
        device_history.c.source_event_id,
    ).where(device_history.c.serial == serial)
    rows = await conn.execute(
        after_key(statement, [device_history.c.at, device_history.c.id], after, limit)
    )
    return page_of([HistoryEntry(**row._mapping) for row in rows], limit)
