"""Reads of the records people keep: a device's maintenance log, RMAs, and how RMAs went
per model and per vendor. Each takes the request's snapshot connection; lists are keyset
pages."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from stockwire.assets.domain.records import Maintenance, Rma
from stockwire.assets.repository_records import rma_of
from stockwire.assets.tables import maintenance, rmas
from stockwire.contracts.vocabulary import MaintenanceKind, RmaOutcome
from stockwire.runtime.http.pages import Page, after_key, page_of

SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class RmaFilter:
    open: bool | None = None
    vendor: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class ModelYield:
    sku: str
    open: int
    closed: int
    repaired: int
    replaced: int
    scrapped: int


@dataclass(frozen=True)
class VendorTurnaround:
    vendor: str
    open: int
    closed: int
    mean_days: Decimal | None
    median_days: Decimal | None


async def maintenance_log(
    conn: AsyncConnection, serial: str, *, after: tuple[Any, ...] | None, limit: int
) -> Page[Maintenance]:
    """A page of the device's maintenance log, latest first."""
    statement = sa.select(*(maintenance.c[name] for name in Maintenance.__slots__)).where(
        maintenance.c.serial == serial
    )
    rows = await conn.execute(
        after_key(
            statement,
            [maintenance.c.performed_at, maintenance.c.maintenance_id],
            after,
            limit,
            descending=True,
        )
    )
    entries = [Maintenance(**{**row._mapping, "kind": MaintenanceKind(row.kind)}) for row in rows]
    return page_of(entries, limit)


async def find_rmas(
    conn: AsyncConnection, query: RmaFilter, *, after: tuple[Any, ...] | None, limit: int
) -> Page[Rma]:
    """RMAs matching every given filter, oldest opened first."""
    statement = sa.select(rmas)
    if query.open is not None:
        statement = statement.where(
            rmas.c.closed_at.is_(None) if query.open else rmas.c.closed_at.is_not(None)
        )
    if query.vendor is not None:
        statement = statement.where(rmas.c.vendor == query.vendor)
    if query.serial is not None:
        statement = statement.where(rmas.c.serial == query.serial)
    order = [rmas.c.opened_at, rmas.c.vendor, rmas.c.rma_number]
    rows = await conn.execute(after_key(statement, order, after, limit))
    return page_of([rma_of(row._mapping) for row in rows], limit)


async def yield_per_model(conn: AsyncConnection) -> list[ModelYield]:
    """RMAs per model: open, closed, and how each closed one ended."""
    closed = rmas.c.closed_at.is_not(None)
    rows = await conn.execute(
        sa.select(
            rmas.c.sku,
            sa.func.count().filter(rmas.c.closed_at.is_(None)).label("open"),
            sa.func.count().filter(closed).label("closed"),
            *(
                sa.func.count().filter(rmas.c.outcome == outcome.value).label(outcome.value)
                for outcome in RmaOutcome
            ),
        )
        .group_by(rmas.c.sku)
        .order_by(rmas.c.sku)
    )
    return [ModelYield(**row._mapping) for row in rows]


async def turnaround_per_vendor(conn: AsyncConnection) -> list[VendorTurnaround]:
    """RMAs per vendor, and the days from opened to closed of those closed."""
    days = sa.extract("epoch", rmas.c.closed_at - rmas.c.opened_at) / SECONDS_PER_DAY
    closed = rmas.c.closed_at.is_not(None)
    rows = await conn.execute(
        sa.select(
            rmas.c.vendor,
            sa.func.count().filter(rmas.c.closed_at.is_(None)).label("open"),
            sa.func.count().filter(closed).label("closed"),
            sa.func.avg(days).filter(closed).label("mean_days"),
            sa.func.percentile_cont(0.5).within_group(days).filter(closed).label("median_days"),
        )
        .group_by(rmas.c.vendor)
        .order_by(rmas.c.vendor)
    )
    return [
        VendorTurnaround(
            row.vendor,
            row.open,
            row.closed,
            _decimal(row.mean_days),
            _decimal(row.median_days),
        )
        for row in rows
    ]


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))
