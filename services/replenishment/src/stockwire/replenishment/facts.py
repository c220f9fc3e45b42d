"""What replenishment keeps of other services' events: demand per SKU x location and day,
the latest stock level per SKU x location, and the latest reliability per model and region.

A batch is folded in Python first (one row per key), because one INSERT ... ON CONFLICT
may not touch a row twice; each write then takes one statement.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.replenishment.tables import demand_daily, positions, reliability, suggestions
from stockwire.runtime.bulk import insert_unnested


@dataclass(frozen=True, slots=True)
class Demand:
    """Units a movement consumed at a location on a day; ``lost``: refused for lack of
    stock (lost demand)."""

    sku: str
    location: str
    day: date
    quantity: Decimal
    lost: bool = False


@dataclass(frozen=True, slots=True)
class Level:
    sku: str
    location: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    in_transit_in: Decimal
    in_transit_out: Decimal
    as_of: datetime


@dataclass(frozen=True, slots=True)
class Changed:
    """A SKU x location whose level changed, and the event that told of it."""

    sku: str
    location: str
    source_event_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Reliability:
    sku: str
    region: str | None
    installed_base: int
    failures_per_device_year: float | None
    as_of: datetime


EVERYWHERE = ""
"""The ``region`` of a model's figures over every region."""


async def add_demand(session: AsyncSession, demands: Iterable[Demand]) -> None:
    used: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
    lost: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
    for d in demands:
        (lost if d.lost else used)[d.sku, d.location, d.day] += d.quantity
    keys = sorted(used.keys() | lost.keys())
    if not keys:
        return
    await session.execute(
        insert_unnested(
            demand_daily,
            ["sku", "location", "day", "quantity", "lost_quantity"],
            "ON CONFLICT (sku, location, day) DO UPDATE SET "
            "quantity = d.quantity + excluded.quantity, "
            "lost_quantity = d.lost_quantity + excluded.lost_quantity",
            alias="d",
        ),
        {
            "sku": [k[0] for k in keys],
            "location": [k[1] for k in keys],
            "day": [k[2] for k in keys],
            "quantity": [used.get(k, Decimal(0)) for k in keys],
            "lost_quantity": [lost.get(k, Decimal(0)) for k in keys],
        },
    )


async def keep_levels(
    session: AsyncSession, levels: Sequence[tuple[Level, uuid.UUID | None]]
) -> list[Changed]:
    """Keep each SKU x location's newest level (each given with the event that told of
    it); returns the ones that changed."""
    newest: dict[tuple[str, str], tuple[Level, uuid.UUID | None]] = {}
    for level, source in levels:
        key = (level.sku, level.location)
        if key not in newest or newest[key][0].as_of <= level.as_of:
            newest[key] = (level, source)
    if not newest:
        return []
    rows = [newest[k][0] for k in sorted(newest)]
    columns = [
        "sku",
        "location",
        "on_hand",
        "reserved",
        "available",
        "in_transit_in",
        "in_transit_out",
        "as_of",
    ]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    changed = await session.execute(
        insert_unnested(
            positions,
            columns,
            f"ON CONFLICT (sku, location) DO UPDATE SET {updates} "
            "WHERE p.as_of <= excluded.as_of RETURNING sku, location",
            alias="p",
        ),
        {c: [getattr(r, c) for r in rows] for c in columns},
    )
    return [Changed(row.sku, row.location, newest[row.sku, row.location][1]) for row in changed]


async def keep_reliability(session: AsyncSession, figures: Sequence[Reliability]) -> None:
    newest: dict[tuple[str, str], Reliability] = {}
    for f in figures:
        key = (f.sku, f.region or EVERYWHERE)
        if key not in newest or newest[key].as_of <= f.as_of:
            newest[key] = f
    if not newest:
        return
    keys = sorted(newest)
    await session.execute(
        insert_unnested(
            reliability,
            ["sku", "region", "installed_base", "failures_per_device_year", "as_of"],
            "ON CONFLICT (sku, region) DO UPDATE SET installed_base = excluded.installed_base, "
            "failures_per_device_year = excluded.failures_per_device_year, "
            "as_of = excluded.as_of WHERE r.as_of <= excluded.as_of",
            alias="r",
        ),
        {
            "sku": [k[0] for k in keys],
            "region": [k[1] for k in keys],
            "installed_base": [newest[k].installed_base for k in keys],
            "failures_per_device_year": [newest[k].failures_per_device_year for k in keys],
            "as_of": [newest[k].as_of for k in keys],
        },
    )


async def mark_received(
    session: AsyncSession, po_numbers: Iterable[str], transfer_ids: Iterable[str], at: datetime
) -> None:
    """Stock took over what was on order: purchases whose request id a receipt quotes as
    its PO number, transfers stock shipped under the suggestion's id."""
    for column, given in (
        (suggestions.c.purchase_request_id, po_numbers),
        (suggestions.c.suggestion_id, transfer_ids),
    ):
        ids = sorted({uid for text in given if (uid := _uuid(text)) is not None})
        if ids:
            await session.execute(
                sa.update(suggestions)
                .where(column.in_(ids), suggestions.c.received_at.is_(None))
                .values(received_at=at)
            )


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def positions_of(
    session: AsyncSession, column: sa.ColumnElement[str], values: Sequence[str]
) -> list[Changed]:
    """The SKU x locations with a level whose ``column`` is one of ``values``."""
    rows = await session.execute(
        sa.select(positions.c.sku, positions.c.location)
        .where(column.in_(sorted(set(values))))
        .order_by(positions.c.sku, positions.c.location)
    )
    return [Changed(row.sku, row.location, None) for row in rows]
