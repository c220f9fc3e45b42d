"""The stock service's read API: balances (now and as of a time), a van's stock, a serial's
whereabouts and history, a SKU's movements, transfers, reservations and counts.

Every route needs the ``read`` scope. A request reads one consistent snapshot (a read-only
REPEATABLE READ transaction), so a page never mixes states from before and after a
movement. Lists, a serial's history included, are keyset-paginated (the runtime's
:mod:`~stockwire.runtime.http.pages`), so no read is unbounded; every statement also runs
under the database's statement timeout. Errors, unknown parameters and cursors are the
shared HTTP layer's.
"""

import uuid
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import (
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.contracts.stock import MovementKind
from stockwire.contracts.vocabulary import LocationKind
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.pages import (
    CursorPart,
    Page,
    PageParams,
    decode_cursor,
    next_cursor,
)
from stockwire.runtime.http.problems import error_responses, invalid, not_found
from stockwire.runtime.http.query import Instant
from stockwire.runtime.http.reads import MAX_ID_LENGTH, path_id, snapshots
from stockwire.runtime.http.text import text_field
from stockwire.stock import queries
from stockwire.stock.domain.model import CountStatus, ReservationStatus, TransferStatus
from stockwire.stock.queries import (
    BalanceFilter,
    BalanceRow,
    CountFilter,
    CountLineRow,
    CountRow,
    LegRow,
    LocationRow,
    MovementFilter,
    ReservationFilter,
    ReservationRow,
    SerialRow,
    TransferFilter,
    TransferRow,
    balance_key,
)

# Parameters -------------------------------------------------------------------------------


Code = Annotated[str, text_field(MAX_ID_LENGTH)]
"""A SKU, location code, region, serial or id given as a filter."""


class StockParams(PageParams):
    include_zero: bool = Field(
        default=False, description="Also list balances whose four quantities are all zero."
    )
    detail: Literal["lots"] | None = Field(
        default=None, description="lots: one row per lot / serial instead of per SKU x location."
    )


class BalanceParams(StockParams):
    sku: Code | None = None
    location: Code | None = None
    region: Code | None = Field(default=None, description="The location's region (catalog).")
    kind: LocationKind | None = Field(default=None, description="The location's kind (catalog).")


class AsOfParams(StockParams):
    at: Instant = Field(description="ISO 8601 with a time zone; legs recorded up to it count.")
    sku: Code | None = None
    location: Code | None = None


class MovementParams(PageParams):
    location: Code | None = None
    kind: MovementKind | None = None
    job_id: Code | None = None
    recorded_from: Instant | None = Field(
        default=None, alias="from", description="Recorded at or after (inclusive)."
    )
    recorded_to: Instant | None = Field(
        default=None, alias="to", description="Recorded before (exclusive)."
    )

    @field_validator("recorded_to")
    @classmethod
    def _after_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("recorded_from")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be after from")
        return value


class TransferParams(PageParams):
    status: TransferStatus | None = None
    sku: Code | None = None
    from_location: Code | None = None
    to_location: Code | None = None


class ReservationParams(PageParams):
    job_id: Code | None = None
    status: ReservationStatus | None = None
    sku: Code | None = None
    location: Code | None = None


class CountParams(PageParams):
    location: Code | None = None
    status: CountStatus | None = None


# Answers ----------------------------------------------------------------------------------


class BalanceOut(BaseModel):
    sku: str
    location: str
    location_kind: str | None = Field(description="From the catalog; null if not known yet.")
    region: str | None
    unit: str | None
    lot: str | None = Field(description="With detail=lots; null when lots are not tracked.")
    serial: str | None = Field(description="With detail=lots; null when not serialised.")
    on_hand: Decimal
    reserved: Decimal
    in_transit_in: Decimal
    in_transit_out: Decimal
    available: Decimal = Field(description="on_hand - reserved.")
    last_changed_at: datetime | None

    @classmethod
    def of(cls, row: BalanceRow) -> "BalanceOut":
        return cls(**asdict(row), available=row.available)


class BalancePage(BaseModel):
    balances: list[BalanceOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at end.")


class AsOfPage(BalancePage):
    at: datetime


class LocationOut(BaseModel):
    code: str
    kind: str
    region: str
    parent_code: str | None
    active: bool

    @classmethod
    def of(cls, row: LocationRow) -> "LocationOut":
        return cls(**asdict(row))


class VanStockOut(BalancePage):
    van: LocationOut


class LegOut(BaseModel):
    """One ledger leg: what one movement did to one balance."""

    leg_id: int = Field(description="Ledger order.")
    movement_id: uuid.UUID = Field(description="Shared by the legs of one movement.")
    kind: str
    reason_code: str
    sku: str
    location: str
    lot: str | None
    serial: str | None
    quantity: Decimal
    on_hand_delta: Decimal
    reserved_delta: Decimal
    in_transit_in_delta: Decimal
    in_transit_out_delta: Decimal
    from_location: str | None
    to_location: str | None
    condition: str | None
    job_id: str | None
    po_number: str | None
    transfer_id: str | None
    count_id: str | None
    actor: str
    source_event_id: uuid.UUID | None
    recorded_at: datetime

    @classmethod
    def of(cls, row: LegRow) -> "LegOut":
        fields = asdict(row)
        return cls(leg_id=fields.pop("id"), **fields)


class MovementPage(BaseModel):
    sku: str
    movements: list[LegOut]
    next_cursor: str | None


class SerialNowOut(BaseModel):
    sku: str
    location: str
    location_kind: str | None
    state: str
    lot: str | None
    job_id: str | None
    last_movement_id: uuid.UUID | None
    updated_at: datetime

    @classmethod
    def of(cls, row: SerialRow) -> "SerialNowOut":
        fields = asdict(row)
        del fields["serial"]
        return cls(**fields)


class SerialOut(BaseModel):
    serial: str
    current: SerialNowOut | None = Field(description="Null if only the ledger knows it.")
    history: list[LegOut] = Field(description="A page of the legs that moved it, oldest first.")
    next_cursor: str | None = Field(description="For the next page of its history.")


class TransferOut(BaseModel):
    transfer_id: str
    sku: str
    from_location: str
    to_location: str
    lot: str | None
    serials: list[str]
    quantity_shipped: Decimal
    quantity_received: Decimal | None
    status: str
    shipped_at: datetime
    received_at: datetime | None

    @classmethod
    def of(cls, row: TransferRow) -> "TransferOut":
        return cls(**asdict(row))


class TransferPage(BaseModel):
    transfers: list[TransferOut]
    next_cursor: str | None


class ReservationOut(BaseModel):
    reservation_id: str
    job_id: str
    sku: str
    location: str
    quantity: Decimal
    fulfilled: Decimal
    remaining: Decimal = Field(description="quantity - fulfilled.")
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ReservationRow) -> "ReservationOut":
        return cls(**asdict(row), remaining=row.remaining)


class ReservationPage(BaseModel):
    reservations: list[ReservationOut]
    next_cursor: str | None


class CountOut(BaseModel):
    count_id: str
    location: str
    blind: bool
    status: str
    opened_at: datetime
    closed_at: datetime | None
    items_counted: int | None
    items_matching: int | None = Field(description="Null until closed, and for open blind counts.")
    accuracy: Decimal | None = Field(description="items_matching / items_counted once closed.")

    @classmethod
    def of(cls, row: CountRow) -> "CountOut":
        return cls(**asdict(row))


class CountPage(BaseModel):
    counts: list[CountOut]
    next_cursor: str | None


class CountLineOut(BaseModel):
    sku: str
    lot: str | None
    serial: str | None
    counted: Decimal
    expected: Decimal | None
    variance: Decimal | None = Field(description="counted - expected.")

    @classmethod
    def of(cls, row: CountLineRow) -> "CountLineOut":
        return cls(**asdict(row), variance=row.variance)


class CountDetailOut(BaseModel):
    count: CountOut
    expected_hidden: bool = Field(description="True while a blind count is open.")
    lines: list[CountLineOut]
    next_cursor: str | None = Field(description="For the next page of lines.")


# Routes -----------------------------------------------------------------------------------


def _leg_key(leg: LegRow) -> tuple[CursorPart, ...]:
    return (leg.recorded_at, leg.id)


def _balance_filter(params: StockParams, **filters: Any) -> BalanceFilter:
    return BalanceFilter(
        **filters, include_zero=params.include_zero, by_lot=params.detail == "lots"
    )


def _balance_cursor(params: StockParams, tag: str) -> tuple[str, ...] | None:
    by_lot = params.detail == "lots"
    return decode_cursor(
        params.cursor, f"{tag}:lots" if by_lot else tag, (str,) * (4 if by_lot else 2)
    )


def _balance_next(params: StockParams, tag: str, page: Page[BalanceRow]) -> str | None:
    by_lot = params.detail == "lots"
    return next_cursor(f"{tag}:lots" if by_lot else tag, page, lambda row: balance_key(row, by_lot))


def queries_router(engine: AsyncEngine) -> APIRouter:
    """The read routes, each on one read-only snapshot of ``engine``'s database."""

    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    router = APIRouter(
        tags=["stock queries"],
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(401, 403, 404, 422),
    )

    @router.get("/balances", summary="Balances per SKU x location, filtered")
    async def find_balances(
        params: Annotated[BalanceParams, Query()], conn: Snapshot
    ) -> BalancePage:
        """Current balances, summed over lots and serials (or per lot / serial with
        ``detail=lots``), sorted by location then SKU. ``region`` and ``kind`` filter on the
        catalog's copy of the location, e.g. ``?kind=technician_van&region=north`` for every
        van of a region."""
        query = _balance_filter(
            params, sku=params.sku, location=params.location, region=params.region, kind=params.kind
        )
        after = _balance_cursor(params, "balances")
        page = await queries.find_balances(conn, query, after=after, limit=params.limit)
        return BalancePage(
            balances=[BalanceOut.of(row) for row in page.rows],
            next_cursor=_balance_next(params, "balances", page),
        )

    @router.get("/balances/as-of", summary="Balances as they stood at a past time")
    async def balances_as_of(params: Annotated[AsOfParams, Query()], conn: Snapshot) -> AsOfPage:
        """The sum of the ledger legs recorded up to ``at`` (inclusive). Name a ``sku``, a
        ``location`` or both: the answer is computed from the ledger, not stored."""
        if params.sku is None and params.location is None:
            raise invalid("sku", "give sku or location (or both) to bound the ledger read")
        query = _balance_filter(params, sku=params.sku, location=params.location)
        after = _balance_cursor(params, "as-of")
        page = await queries.balances_as_of(conn, params.at, query, after=after, limit=params.limit)
        return AsOfPage(
            at=params.at,
            balances=[BalanceOut.of(row) for row in page.rows],
            next_cursor=_balance_next(params, "as-of", page),
        )

    @router.get("/vans/{code}/stock", summary="What a technician van holds")
    async def van_stock(
        code: str, params: Annotated[StockParams, Query()], conn: Snapshot
    ) -> VanStockOut:
        """The van's balances, by SKU (or by lot / serial with ``detail=lots``). 404 if the
        catalog has not told stock about the location, 422 if it is not a technician van."""
        van = await queries.get_location(conn, path_id(code, f"location {code!r}"))
        if van is None:
            raise not_found(f"location {code!r}")
        if van.kind != LocationKind.TECHNICIAN_VAN:
            raise invalid("code", f"location {code!r} is a {van.kind}, not a technician_van")
        query = _balance_filter(params, location=van.code)
        after = _balance_cursor(params, "van")
        page = await queries.find_balances(conn, query, after=after, limit=params.limit)
        return VanStockOut(
            van=LocationOut.of(van),
            balances=[BalanceOut.of(row) for row in page.rows],
            next_cursor=_balance_next(params, "van", page),
        )

    @router.get("/serials/{serial:path}", summary="Where a serial is, and every move it made")
    async def find_serial(
        serial: str, params: Annotated[PageParams, Query()], conn: Snapshot
    ) -> SerialOut:
        """The serial's current SKU, location, state and job, and a page of its ledger legs,
        oldest first. Serials may contain '/'; send them percent-encoded or as they are."""
        serial = path_id(serial, f"serial {serial!r}")
        current = await queries.get_serial(conn, serial)
        after = decode_cursor(params.cursor, "serial-history", (datetime, int))
        history = await queries.serial_history(conn, serial, after=after, limit=params.limit)
        if current is None and not history.rows and after is None:
            raise not_found(f"serial {serial!r}")
        return SerialOut(
            serial=serial,
            current=SerialNowOut.of(current) if current else None,
            history=[LegOut.of(leg) for leg in history.rows],
            next_cursor=next_cursor("serial-history", history, _leg_key),
        )

    @router.get("/skus/{sku}/movements", summary="A SKU's ledger legs, newest first")
    async def sku_movements(
        sku: str, params: Annotated[MovementParams, Query()], conn: Snapshot
    ) -> MovementPage:
        """One entry per ledger leg (a transfer shipment is two legs: out of the source and in
        transit to the destination); ``movement_id`` groups the legs of one movement. Filters:
        ``location``, ``kind``, ``job_id``, ``from`` (inclusive) and ``to`` (exclusive)."""
        sku = path_id(sku, f"SKU {sku!r}")
        query = MovementFilter(
            location=params.location,
            kind=params.kind,
            job_id=params.job_id,
            recorded_from=params.recorded_from,
            recorded_to=params.recorded_to,
        )
        after = decode_cursor(params.cursor, "movements", (datetime, int))
        page = await queries.find_movements(conn, sku, query, after=after, limit=params.limit)
        if not page.rows and after is None and not await queries.sku_known(conn, sku):
            raise not_found(f"SKU {sku!r}")
        return MovementPage(
            sku=sku,
            movements=[LegOut.of(leg) for leg in page.rows],
            next_cursor=next_cursor("movements", page, _leg_key),
        )

    @router.get("/transfers", summary="Transfers, oldest shipment first")
    async def find_transfers(
        params: Annotated[TransferParams, Query()], conn: Snapshot
    ) -> TransferPage:
        """``?status=in_transit`` lists the open ones, longest in transit first."""
        query = TransferFilter(
            status=params.status,
            sku=params.sku,
            from_location=params.from_location,
            to_location=params.to_location,
        )
        after = decode_cursor(params.cursor, "transfers", (datetime, str))
        page = await queries.find_transfers(conn, query, after=after, limit=params.limit)
        return TransferPage(
            transfers=[TransferOut.of(row) for row in page.rows],
            next_cursor=next_cursor(
                "transfers", page, lambda row: (row.shipped_at, row.transfer_id)
            ),
        )

    @router.get("/reservations", summary="Reservations for jobs, oldest first")
    async def find_reservations(
        params: Annotated[ReservationParams, Query()], conn: Snapshot
    ) -> ReservationPage:
        query = ReservationFilter(
            job_id=params.job_id, status=params.status, sku=params.sku, location=params.location
        )
        after = decode_cursor(params.cursor, "reservations", (datetime, str))
        page = await queries.find_reservations(conn, query, after=after, limit=params.limit)
        return ReservationPage(
            reservations=[ReservationOut.of(row) for row in page.rows],
            next_cursor=next_cursor(
                "reservations", page, lambda row: (row.created_at, row.reservation_id)
            ),
        )

    @router.get("/counts", summary="Cycle counts with their accuracy, newest first")
    async def find_counts(params: Annotated[CountParams, Query()], conn: Snapshot) -> CountPage:
        query = CountFilter(location=params.location, status=params.status)
        after = decode_cursor(params.cursor, "counts", (datetime, str))
        page = await queries.find_counts(conn, query, after=after, limit=params.limit)
        return CountPage(
            counts=[CountOut.of(row) for row in page.rows],
            next_cursor=next_cursor("counts", page, lambda row: (row.opened_at, row.count_id)),
        )

    @router.get("/counts/{count_id}", summary="One count and its lines")
    async def get_count(
        count_id: str, params: Annotated[PageParams, Query()], conn: Snapshot
    ) -> CountDetailOut:
        """The count and a page of its lines. While a blind count is open, no expected
        quantity (nor variance, matches or accuracy) is shown; an open count that is not
        blind shows the balance at its location now; a closed one what it expected at close."""
        count = await queries.get_count(conn, path_id(count_id, f"count {count_id!r}"))
        if count is None:
            raise not_found(f"count {count_id!r}")
        after = decode_cursor(params.cursor, "count-lines", (str, str, str))
        page = await queries.find_count_lines(conn, count, after=after, limit=params.limit)
        return CountDetailOut(
            count=CountOut.of(count),
            expected_hidden=count.hides_expected,
            lines=[CountLineOut.of(row) for row in page.rows],
            next_cursor=next_cursor(
                "count-lines", page, lambda row: (row.sku, row.lot or "", row.serial or "")
            ),
        )

    return router
