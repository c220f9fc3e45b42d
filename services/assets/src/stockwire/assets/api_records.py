"""Assets' read API of the records people keep: a device's maintenance log, RMAs, and the
RMA report (refurbish yield per model, turnaround per vendor).

Every route needs the ``read`` scope and reads one snapshot; lists are keyset-paginated.
The router goes before :func:`~stockwire.assets.api_queries.queries_router`'s, whose
``/devices/{serial}`` takes serials with '/' in them and would take
``/devices/{serial}/maintenance`` too.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.assets import queries, queries_records
from stockwire.assets.domain.records import NAME_MAX, Maintenance, Rma, refurbish_yield
from stockwire.assets.queries_records import RmaFilter
from stockwire.contracts.vocabulary import MaintenanceKind, RmaOutcome
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.pages import PageParams, decode_cursor, next_cursor
from stockwire.runtime.http.problems import error_responses, not_found
from stockwire.runtime.http.reads import MAX_ID_LENGTH, path_id, snapshots
from stockwire.runtime.http.text import text_field

DAYS = Decimal("0.01")


class MaintenanceOut(BaseModel):
    maintenance_id: str
    serial: str
    sku: str
    kind: MaintenanceKind
    performed_by: str
    performed_at: datetime
    outcome: str
    cost: Decimal | None
    currency: str | None
    firmware_version: str | None
    note: str | None

    @classmethod
    def of(cls, entry: Maintenance) -> "MaintenanceOut":
        return cls(
            maintenance_id=entry.maintenance_id,
            serial=entry.serial,
            sku=entry.sku,
            kind=entry.kind,
            performed_by=entry.performed_by,
            performed_at=entry.performed_at,
            outcome=entry.outcome,
            cost=entry.cost,
            currency=entry.currency,
            firmware_version=entry.firmware_version,
            note=entry.note,
        )


class MaintenancePage(BaseModel):
    entries: list[MaintenanceOut] = Field(description="Latest first.")
    next_cursor: str | None


class RmaOut(BaseModel):
    vendor: str
    rma_number: str
    serial: str
    sku: str
    reason: str
    opened_by: str
    opened_at: datetime
    shipped_at: datetime | None
    closed_at: datetime | None
    outcome: RmaOutcome | None
    replacement_serial: str | None
    note: str | None

    @classmethod
    def of(cls, rma: Rma) -> "RmaOut":
        return cls(
            vendor=rma.vendor,
            rma_number=rma.rma_number,
            serial=rma.serial,
            sku=rma.sku,
            reason=rma.reason,
            opened_by=rma.opened_by,
            opened_at=rma.opened_at,
            shipped_at=rma.shipped_at,
            closed_at=rma.closed_at,
            outcome=rma.outcome,
            replacement_serial=rma.replacement_serial,
            note=rma.note,
        )


class RmaPage(BaseModel):
    rmas: list[RmaOut] = Field(description="Oldest opened first.")
    next_cursor: str | None


class RmaParams(PageParams):
    open: bool | None = Field(default=None, description="true: open RMAs; false: closed ones.")
    vendor: Annotated[str, text_field(NAME_MAX)] | None = None
    serial: Annotated[str, text_field(MAX_ID_LENGTH)] | None = None


class ModelYieldOut(BaseModel):
    sku: str
    open: int
    closed: int
    repaired: int
    replaced: int
    scrapped: int
    refurbish_yield: Decimal | None = Field(
        description="repaired / closed; null while none is closed."
    )


class VendorTurnaroundOut(BaseModel):
    vendor: str
    open: int
    closed: int
    mean_turnaround_days: Decimal | None = Field(
        description="From opened to closed, over the closed RMAs; null while none is closed."
    )
    median_turnaround_days: Decimal | None


class RmaReport(BaseModel):
    models: list[ModelYieldOut]
    vendors: list[VendorTurnaroundOut]


def _days(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(DAYS)


def _rma_key(rma: Rma) -> tuple[datetime, str, str]:
    return rma.opened_at, rma.vendor, rma.rma_number


def records_router(engine: AsyncEngine) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    router = APIRouter(
        tags=["device records"],
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(401, 403, 404, 422),
    )

    @router.get("/devices/{serial:path}/maintenance", summary="A device's maintenance log")
    async def maintenance_log(
        serial: str, params: Annotated[PageParams, Query()], conn: Snapshot
    ) -> MaintenancePage:
        """Every maintenance entry of the device, latest first."""
        serial = path_id(serial, f"device {serial!r}")
        if await queries.get_device(conn, serial) is None:
            raise not_found(f"device {serial!r}")
        after = decode_cursor(params.cursor, "maintenance", (datetime, str))
        page = await queries_records.maintenance_log(conn, serial, after=after, limit=params.limit)
        return MaintenancePage(
            entries=[MaintenanceOut.of(entry) for entry in page.rows],
            next_cursor=next_cursor(
                "maintenance", page, lambda entry: (entry.performed_at, entry.maintenance_id)
            ),
        )

    @router.get("/rmas", summary="RMAs, open or closed, by vendor or serial")
    async def find_rmas(params: Annotated[RmaParams, Query()], conn: Snapshot) -> RmaPage:
        """RMAs matching every filter given, oldest opened first."""
        after = decode_cursor(params.cursor, "rmas", (datetime, str, str))
        page = await queries_records.find_rmas(
            conn,
            RmaFilter(open=params.open, vendor=params.vendor, serial=params.serial),
            after=after,
            limit=params.limit,
        )
        return RmaPage(
            rmas=[RmaOut.of(rma) for rma in page.rows],
            next_cursor=next_cursor("rmas", page, _rma_key),
        )

    @router.get("/reports/rmas", summary="Refurbish yield per model and RMA turnaround per vendor")
    async def rma_report(conn: Snapshot) -> RmaReport:
        """Per model, how its closed RMAs ended and the share repaired; per vendor, the
        mean and median days from opening an RMA to closing it."""
        models = await queries_records.yield_per_model(conn)
        vendors = await queries_records.turnaround_per_vendor(conn)
        return RmaReport(
            models=[
                ModelYieldOut(
                    sku=m.sku,
                    open=m.open,
                    closed=m.closed,
                    repaired=m.repaired,
                    replaced=m.replaced,
                    scrapped=m.scrapped,
                    refurbish_yield=refurbish_yield(m.repaired, m.closed),
                )
                for m in models
            ],
            vendors=[
                VendorTurnaroundOut(
                    vendor=v.vendor,
                    open=v.open,
                    closed=v.closed,
                    mean_turnaround_days=_days(v.mean_days),
                    median_turnaround_days=_days(v.median_days),
                )
                for v in vendors
            ],
        )

    return router
