"""Read-side queries over the stock tables: balances, the ledger, serials, transfers,
reservations and counts.

Everything here only reads, so it runs on a plain connection the caller opens (one
snapshot per request, see :mod:`stockwire.stock.api_queries`). Lists are keyset-paginated:
each query takes the sort key of the last row already seen (``after``) and fetches one row
more than asked, so the caller knows whether there is a next page without counting.
``lot`` and ``serial`` are '' in the tables when not tracked; rows here carry None instead.
"""

import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from stockwire.runtime.http.pages import Page, after_key, page_of
from stockwire.stock.domain.cycle_counts import hides_expected
from stockwire.stock.domain.model import CountStatus
from stockwire.stock.tables import (
    QUANTITY,
    balances,
    catalog_items,
    catalog_locations,
    count_lines,
    counts,
    ledger,
    reservations,
    serials,
    transfers,
)


def _tracked(value: str) -> str | None:
    return value or None


def _columns(
    table: sa.Table, row_type: type, besides: tuple[str, ...] = ()
) -> list[sa.Column[Any]]:
    """The columns of ``table`` that ``row_type`` holds (but ``besides``), named one by one
    so a column the write side adds later changes no answer here."""
    return [table.c[f.name] for f in fields(row_type) if f.name not in besides]


# Balances ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceFilter:
    """Filters combine with AND; ``region`` and ``kind`` come from the catalog's read copy,
    so a location the catalog has not told stock about yet matches neither."""

    sku: str | None = None
    location: str | None = None
    region: str | None = None
    kind: str | None = None
    include_zero: bool = False
    by_lot: bool = False
    """One row per lot / serial instead of one per SKU x location."""


@dataclass(frozen=True)
class BalanceRow:
    location: str
    sku: str
    lot: str | None
    serial: str | None
    location_kind: str | None
    region: str | None
    unit: str | None
    on_hand: Decimal
    reserved: Decimal
    in_transit_in: Decimal
    in_transit_out: Decimal
    last_changed_at: datetime | None

    @property
    def available(self) -> Decimal:
        """What can be promised: on hand less reserved (stock in transit is not here yet)."""
        return self.on_hand - self.reserved


def balance_key(row: BalanceRow, by_lot: bool) -> tuple[str, ...]:
    """The keyset sort key of ``row``: (location, sku), and lot and serial when ``by_lot``."""
    if by_lot:
        return (row.location, row.sku, row.lot or "", row.serial or "")
    return (row.location, row.sku)


BALANCE_AMOUNTS = ("on_hand", "reserved", "in_transit_in", "in_transit_out")


async def find_balances(
    conn: AsyncConnection, query: BalanceFilter, *, after: tuple[str, ...] | None, limit: int
) -> Page[BalanceRow]:
    """Current balances, summed over lot and serial unless ``by_lot``."""
    amounts = [balances.c[name] for name in BALANCE_AMOUNTS]
    return await _balances(
        conn, balances, amounts, balances.c.updated_at, query, [], after=after, limit=limit
    )


async def balances_as_of(
    conn: AsyncConnection,
    at: datetime,
    query: BalanceFilter,
    *,
    after: tuple[str, ...] | None,
    limit: int,
) -> Page[BalanceRow]:
    """Balances as they stood at ``at``: the sum of every ledger leg recorded up to then."""
    amounts = [ledger.c[f"{name}_delta"] for name in BALANCE_AMOUNTS]
    return await _balances(
        conn,
        ledger,
        amounts,
        ledger.c.recorded_at,
        query,
        [ledger.c.recorded_at <= at],
        after=after,
        limit=limit,
    )


async def _balances(
    conn: AsyncConnection,
    source: sa.Table,
    amounts: list[sa.Column[Decimal]],
    changed: sa.Column[datetime],
    query: BalanceFilter,
    conditions: list[sa.ColumnElement[bool]],
    *,
    after: tuple[str, ...] | None,
    limit: int,
) -> Page[BalanceRow]:
    """One statement for current and past balances: ``source`` is the balances table or
    the ledger, ``amounts`` its four quantity columns, summed per balance key."""
    keys = [source.c.location, source.c.sku]
    if query.by_lot:
        keys += [source.c.lot, source.c.serial]
    sums = [
        sa.func.sum(column).label(name)
        for column, name in zip(amounts, BALANCE_AMOUNTS, strict=True)
    ]
    where = list(conditions)
    for column, value in (
        (source.c.sku, query.sku),
        (source.c.location, query.location),
        (catalog_locations.c.region, query.region),
        (catalog_locations.c.kind, query.kind),
    ):
        if value is not None:
            where.append(column == value)
    if after is not None:
        where.append(sa.tuple_(*keys) > tuple(after))
    context = [catalog_locations.c.kind, catalog_locations.c.region, catalog_items.c.unit]
    statement = (
        sa.select(*keys, *context, *sums, sa.func.max(changed).label("last_changed_at"))
        .select_from(
            source.outerjoin(
                catalog_locations, catalog_locations.c.code == source.c.location
            ).outerjoin(catalog_items, catalog_items.c.sku == source.c.sku)
        )
        .where(*where)
        .group_by(*keys, *context)
        .order_by(*keys)
        .limit(limit + 1)
    )
    if not query.include_zero:
        statement = statement.having(sa.or_(*(sa.func.sum(column) != 0 for column in amounts)))
    result = await conn.execute(statement)
    rows = [
        BalanceRow(
            location=row.location,
            sku=row.sku,
            lot=_tracked(row.lot) if query.by_lot else None,
            serial=_tracked(row.serial) if query.by_lot else None,
            location_kind=row.kind,
            region=row.region,
            unit=row.unit,
            on_hand=row.on_hand,
            reserved=row.reserved,
            in_transit_in=row.in_transit_in,
            in_transit_out=row.in_transit_out,
            last_changed_at=row.last_changed_at,
        )
        for row in result
    ]
    return page_of(rows, limit)


# Locations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocationRow:
    code: str
    kind: str
    region: str
    parent_code: str | None
    active: bool


async def get_location(conn: AsyncConnection, code: str) -> LocationRow | None:
    """A location from the catalog's read copy, or None if stock has not heard of it."""
    result = await conn.execute(
        sa.select(
            catalog_locations.c.code,
            catalog_locations.c.kind,
            catalog_locations.c.region,
            catalog_locations.c.parent_code,
            catalog_locations.c.active,
        ).where(catalog_locations.c.code == code)
    )
    row = result.one_or_none()
    return None if row is None else LocationRow(**row._mapping)


# Ledger -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegRow:
    """One ledger row: the change one movement made to one balance."""

    id: int
    movement_id: uuid.UUID
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


def _legs(result: sa.CursorResult[tuple[object, ...]]) -> list[LegRow]:
    legs = []
    for row in result:
        fields = dict(row._mapping)
        fields["lot"] = _tracked(fields["lot"])
        fields["serial"] = _tracked(fields["serial"])
        legs.append(LegRow(**fields))
    return legs


@dataclass(frozen=True)
class MovementFilter:
    location: str | None = None
    kind: str | None = None
    job_id: str | None = None
    recorded_from: datetime | None = None
    """Inclusive."""
    recorded_to: datetime | None = None
    """Exclusive."""


async def find_movements(
    conn: AsyncConnection,
    sku: str,
    query: MovementFilter,
    *,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Page[LegRow]:
    """A SKU's ledger legs, newest first (by recorded time, then ledger order)."""
    where: list[sa.ColumnElement[bool]] = [ledger.c.sku == sku]
    for column, value in (
        (ledger.c.location, query.location),
        (ledger.c.kind, query.kind),
        (ledger.c.job_id, query.job_id),
    ):
        if value is not None:
            where.append(column == value)
    if query.recorded_from is not None:
        where.append(ledger.c.recorded_at >= query.recorded_from)
    if query.recorded_to is not None:
        where.append(ledger.c.recorded_at < query.recorded_to)
    order = (ledger.c.recorded_at, ledger.c.id)
    if after is not None:
        where.append(sa.tuple_(*order) < after)
    result = await conn.execute(
        sa.select(*_columns(ledger, LegRow))
        .where(*where)
        .order_by(*(column.desc() for column in order))
        .limit(limit + 1)
    )
    return page_of(_legs(result), limit)


async def sku_known(conn: AsyncConnection, sku: str) -> bool:
    """Whether the catalog's read copy or the ledger has ever mentioned ``sku``."""
    statement = sa.select(
        sa.exists().where(catalog_items.c.sku == sku) | sa.exists().where(ledger.c.sku == sku)
    )
    return bool(await conn.scalar(statement))


# Serials ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SerialRow:
    serial: str
    sku: str
    location: str
    location_kind: str | None
    state: str
    lot: str | None
    job_id: str | None
    last_movement_id: uuid.UUID | None
    updated_at: datetime


async def get_serial(conn: AsyncConnection, serial: str) -> SerialRow | None:
    """Where ``serial`` is now, or None if stock does not hold a record of it."""
    result = await conn.execute(
        sa.select(
            *_columns(serials, SerialRow, besides=("location_kind",)),
            catalog_locations.c.kind.label("location_kind"),
        )
        .select_from(
            serials.outerjoin(catalog_locations, catalog_locations.c.code == serials.c.location)
        )
        .where(serials.c.serial == serial)
    )
    row = result.one_or_none()
    if row is None:
        return None
    fields = dict(row._mapping)
    fields["lot"] = _tracked(fields["lot"])
    return SerialRow(**fields)


async def serial_history(
    conn: AsyncConnection, serial: str, *, after: tuple[datetime, int] | None, limit: int
) -> Page[LegRow]:
    """The ledger legs that moved ``serial``, oldest first (by recorded time, then ledger
    order), a page at a time: a serial moved for years has a long history."""
    statement = sa.select(*_columns(ledger, LegRow)).where(ledger.c.serial == serial)
    order = [ledger.c.recorded_at, ledger.c.id]
    result = await conn.execute(after_key(statement, order, after, limit))
    return page_of(_legs(result), limit)


# Transfers and reservations ---------------------------------------------------------------


@dataclass(frozen=True)
class TransferFilter:
    status: str | None = None
    sku: str | None = None
    from_location: str | None = None
    to_location: str | None = None


@dataclass(frozen=True)
class TransferRow:
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


async def find_transfers(
    conn: AsyncConnection,
    query: TransferFilter,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Page[TransferRow]:
    """Transfers, oldest shipment first (the longest in transit lead a list of open ones)."""
    where = [
        column == value
        for column, value in (
            (transfers.c.status, query.status),
            (transfers.c.sku, query.sku),
            (transfers.c.from_location, query.from_location),
            (transfers.c.to_location, query.to_location),
        )
        if value is not None
    ]
    order = (transfers.c.shipped_at, transfers.c.transfer_id)
    if after is not None:
        where.append(sa.tuple_(*order) > after)
    result = await conn.execute(
        sa.select(*_columns(transfers, TransferRow)).where(*where).order_by(*order).limit(limit + 1)
    )
    rows = []
    for row in result:
        fields = dict(row._mapping)
        fields["lot"] = _tracked(fields["lot"])
        fields["serials"] = list(fields["serials"] or [])
        rows.append(TransferRow(**fields))
    return page_of(rows, limit)


@dataclass(frozen=True)
class ReservationFilter:
    job_id: str | None = None
    status: str | None = None
    sku: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class ReservationRow:
    reservation_id: str
    job_id: str
    sku: str
    location: str
    quantity: Decimal
    fulfilled: Decimal
    status: str
    created_at: datetime
    updated_at: datetime

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.fulfilled


async def find_reservations(
    conn: AsyncConnection,
    query: ReservationFilter,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Page[ReservationRow]:
    """Reservations, oldest first."""
    where = [
        column == value
        for column, value in (
            (reservations.c.job_id, query.job_id),
            (reservations.c.status, query.status),
            (reservations.c.sku, query.sku),
            (reservations.c.location, query.location),
        )
        if value is not None
    ]
    order = (reservations.c.created_at, reservations.c.reservation_id)
    if after is not None:
        where.append(sa.tuple_(*order) > after)
    result = await conn.execute(
        sa.select(*_columns(reservations, ReservationRow))
        .where(*where)
        .order_by(*order)
        .limit(limit + 1)
    )
    return page_of([ReservationRow(**row._mapping) for row in result], limit)


# Counts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    count_id: str
    location: str
    blind: bool
    status: str
    opened_at: datetime
    closed_at: datetime | None
    items_counted: int | None
    items_matching: int | None
    accuracy: Decimal | None

    @property
    def hides_expected(self) -> bool:
        """The domain's rule for blind counts (see :func:`hides_expected`)."""
        return hides_expected(self.blind, CountStatus(self.status))


@dataclass(frozen=True)
class CountFilter:
    location: str | None = None
    status: str | None = None


def _count(row: sa.Row[tuple[object, ...]]) -> CountRow:
    count = CountRow(**row._mapping)
    if count.hides_expected:
        return replace(count, items_matching=None, accuracy=None)
    return count


async def find_counts(
    conn: AsyncConnection,
    query: CountFilter,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Page[CountRow]:
    """Cycle counts, most recently opened first."""
    where = [
        column == value
        for column, value in ((counts.c.location, query.location), (counts.c.status, query.status))
        if value is not None
    ]
    order = (counts.c.opened_at, counts.c.count_id)
    if after is not None:
        where.append(sa.tuple_(*order) < after)
    result = await conn.execute(
        sa.select(*_columns(counts, CountRow))
        .where(*where)
        .order_by(*(column.desc() for column in order))
        .limit(limit + 1)
    )
    return page_of([_count(row) for row in result], limit)


async def get_count(conn: AsyncConnection, count_id: str) -> CountRow | None:
    result = await conn.execute(
        sa.select(*_columns(counts, CountRow)).where(counts.c.count_id == count_id)
    )
    row = result.one_or_none()
    return None if row is None else _count(row)


@dataclass(frozen=True)
class CountLineRow:
    sku: str
    lot: str | None
    serial: str | None
    counted: Decimal
    expected: Decimal | None

    @property
    def variance(self) -> Decimal | None:
        return None if self.expected is None else self.counted - self.expected


async def find_count_lines(
    conn: AsyncConnection,
    count: CountRow,
    *,
    after: tuple[str, str, str] | None,
    limit: int,
) -> Page[CountLineRow]:
    """The lines of ``count``, by SKU, lot and serial.

    Expected quantities: none while a blind count is open; what the count recorded when it
    closed (none for a cancelled count, which compared nothing); for an open count that is
    not blind, the balance now at the count's location (of that lot or serial, or of the
    whole SKU for a line that names neither).
    """
    if count.hides_expected:
        expected: sa.ColumnElement[Any] = sa.null()
    elif count.status != CountStatus.OPEN:
        expected = count_lines.c.expected
    else:
        now = (
            sa.select(sa.func.coalesce(sa.func.sum(balances.c.on_hand), sa.cast(0, QUANTITY)))
            .where(
                balances.c.sku == count_lines.c.sku,
                balances.c.location == count.location,
                sa.or_(count_lines.c.lot == "", balances.c.lot == count_lines.c.lot),
                sa.or_(count_lines.c.serial == "", balances.c.serial == count_lines.c.serial),
            )
            .scalar_subquery()
        )
        expected = sa.func.coalesce(count_lines.c.expected, now)
    order = (count_lines.c.sku, count_lines.c.lot, count_lines.c.serial)
    where = [count_lines.c.count_id == count.count_id]
    if after is not None:
        where.append(sa.tuple_(*order) > after)
    result = await conn.execute(
        sa.select(*order, count_lines.c.counted, expected.label("expected"))
        .where(*where)
        .order_by(*order)
        .limit(limit + 1)
    )
    rows = [
        CountLineRow(
            sku=row.sku,
            lot=_tracked(row.lot),
            serial=_tracked(row.serial),
            counted=row.counted,
            expected=row.expected,
        )
        for row in result
    ]
    return page_of(rows, limit)
