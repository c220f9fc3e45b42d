"""Assets' read API: a device with its whole timeline, and device search by serial, MAC,
model, location, region or state.

Every route needs the ``read`` scope and reads one snapshot (the runtime's
:mod:`~stockwire.runtime.http.reads`); lists are keyset-paginated.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.assets import queries
from stockwire.assets.domain.warranty import warranty_end
from stockwire.assets.queries import DeviceFilter, DeviceRow, HistoryEntry
from stockwire.contracts.vocabulary import DeviceState
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.pages import PageParams, decode_cursor, next_cursor
from stockwire.runtime.http.problems import error_responses, not_found
from stockwire.runtime.http.reads import MAX_ID_LENGTH, path_id, snapshots
from stockwire.runtime.http.text import text_field

Code = Annotated[str, text_field(MAX_ID_LENGTH)]
Mac = Annotated[
    str,
    Field(
        pattern=r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$",
        description="aa:bb:cc:dd:ee:ff, in either case, with : or -.",
    ),
]


class DeviceParams(PageParams):
    serial: Code | None = None
    mac: Mac | None = None
    sku: Code | None = None
    location: Code | None = None
    region: Code | None = None
    state: DeviceState | None = None


class DeviceOut(BaseModel):
    serial: str
    sku: str
    state: DeviceState
    location: str | None
    location_kind: str | None
    region: str | None
    job_id: str | None
    health: str = Field(description="ok, or degraded while monitoring says so.")
    mac: str | None
    firmware_version: str | None
    received_at: datetime
    installed_since: datetime | None
    operating_hours: Decimal = Field(description="Time installed so far, in hours.")
    warranty_ends: date | None = Field(
        description="The model's warranty from receipt, or the device's own; null if unknown."
    )
    replaces_serial: str | None = Field(
        description="The unit this one replaced under an RMA, whose history it continues."
    )
    as_of: datetime = Field(description="When the last fact that moved the device happened.")

    @classmethod
    def of(cls, row: DeviceRow, now: datetime) -> "DeviceOut":
        hours = row.operating_hours
        if row.installed_since is not None:
            hours += Decimal(str((now - row.installed_since).total_seconds())) / 3600
        return cls(
            serial=row.serial,
            sku=row.sku,
            state=DeviceState(row.state),
            location=row.location,
            location_kind=row.location_kind,
            region=row.region,
            job_id=row.job_id,
            health=row.health,
            mac=row.mac,
            firmware_version=row.firmware_version,
            received_at=row.received_at,
            installed_since=row.installed_since,
            operating_hours=round(max(hours, Decimal(0)), 3),
            warranty_ends=warranty_end(
                row.received_at, row.warranty_months, row.warranty_ends_override
            ),
            replaces_serial=row.replaces_serial,
            as_of=row.as_of,
        )


class HistoryOut(BaseModel):
    at: datetime
    kind: str = Field(
        description="movement, state_changed, transition_rejected, parked, superseded, "
        "maintenance, failure, rma_opened, rma_closed, monitoring, disposed, ..."
    )
    summary: str
    detail: dict[str, Any]
    source_event_id: uuid.UUID | None

    @classmethod
    def of(cls, entry: HistoryEntry) -> "HistoryOut":
        return cls(
            at=entry.at,
            kind=entry.kind,
            summary=entry.summary,
            detail=entry.detail,
            source_event_id=entry.source_event_id,
        )


class TimelineOut(BaseModel):
    device: DeviceOut
    timeline: list[HistoryOut] = Field(description="Oldest first.")
    next_cursor: str | None


class DevicePage(BaseModel):
    devices: list[DeviceOut]
    next_cursor: str | None


def _history_key(entry: HistoryEntry) -> tuple[datetime, int]:
    return entry.at, entry.id


def queries_router(engine: AsyncEngine) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    router = APIRouter(
        tags=["devices"],
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(401, 403, 404, 422),
    )

    @router.get("/devices", summary="Find devices by serial, MAC, model, location or state")
    async def find_devices(params: Annotated[DeviceParams, Query()], conn: Snapshot) -> DevicePage:
        """Devices matching every filter given, by serial."""
        after = decode_cursor(params.cursor, "devices", (str,))
        page = await queries.find_devices(
            conn,
            DeviceFilter(
                serial=params.serial,
                mac=params.mac,
                sku=params.sku,
                location=params.location,
                region=params.region,
                state=params.state.value if params.state else None,
            ),
            after=after,
            limit=params.limit,
        )
        now = datetime.now().astimezone()
        return DevicePage(
            devices=[DeviceOut.of(row, now) for row in page.rows],
            next_cursor=next_cursor("devices", page, lambda row: (row.serial,)),
        )

    @router.get(
        "/devices/{serial:path}", summary="A device now, and everything that happened to it"
    )
    async def device_timeline(
        serial: str, params: Annotated[PageParams, Query()], conn: Snapshot
    ) -> TimelineOut:
        """The device's state, place, health, firmware and warranty, and a page of its
        timeline, oldest first: stock movements, state changes and refusals, maintenance,
        failures, RMAs, monitoring reports and disposal. Serials may contain '/'."""
        serial = path_id(serial, f"device {serial!r}")
        device = await queries.get_device(conn, serial)
        if device is None:
            raise not_found(f"device {serial!r}")
        after = decode_cursor(params.cursor, "timeline", (datetime, int))
        page = await queries.timeline(conn, serial, after=after, limit=params.limit)
        return TimelineOut(
            device=DeviceOut.of(device, datetime.now().astimezone()),
            timeline=[HistoryOut.of(entry) for entry in page.rows],
            next_cursor=next_cursor("timeline", page, _history_key),
        )

    return router
