"""Loading and storing catalog aggregates with SQLAlchemy Core.

A repository remembers the version of every aggregate it loaded and writes back with
``UPDATE ... WHERE version = <loaded>``, so of two concurrent writers of one record exactly
one succeeds, whatever either checked before. It also remembers every aggregate it
handed out, so the unit of work can collect their events.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.catalog.domain.model import (
    Item,
    ItemDetails,
    ItemRecord,
    Location,
    LocationDetails,
    LocationRecord,
    Parent,
    is_code,
)
from stockwire.catalog.tables import items, locations
from stockwire.contracts.vocabulary import (
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    LocationKind,
    TrackingMode,
)
from stockwire.runtime.domain_errors import Conflict, NotFound, VersionMismatch
from stockwire.runtime.http.pages import Page, after_key, page_of

HIERARCHY_LOCK = 0x4341_4C4F
"""Advisory lock taken by every change to the location tree, so two concurrent re-parentings
cannot each pass the cycle check and together form a cycle."""

MAX_DEPTH = 1000
"""A bound on walking up the tree, so even a corrupted tree cannot loop a query forever."""


@dataclass(frozen=True)
class ItemQuery:
    category: str | None = None
    tracking_mode: str | None = None
    status: str | None = None
    manufacturer: str | None = None
    text: str | None = None
    after: tuple[str, ...] | None = None
    """Keyset cursor: only SKUs sorting after this one."""
    limit: int = 50


@dataclass(frozen=True)
class LocationQuery:
    kind: str | None = None
    region: str | None = None
    parent_code: str | None = None
    active: bool | None = None
    after: tuple[str, ...] | None = None
    """Keyset cursor: only codes sorting after this one."""
    limit: int = 50


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _page(
    session: AsyncSession,
    table: sa.Table,
    key: sa.ColumnElement[str],
    conditions: list[sa.ColumnElement[bool]],
    after: tuple[str, ...] | None,
    limit: int,
) -> tuple[Page[sa.Row[Any]], int]:
    """One page of ``table`` in ``key`` order after ``after``, and how many rows match."""
    total = await session.scalar(sa.select(sa.func.count()).select_from(table).where(*conditions))
    statement = after_key(sa.select(table).where(*conditions), [key], after, limit)
    rows = (await session.execute(statement)).all()
    return page_of(rows, limit), int(total or 0)


async def _rows_updated(session: AsyncSession, statement: sa.Update) -> int:
    # AsyncSession.execute is typed to answer a Result, but a Core UPDATE answers a
    # CursorResult, which holds the row count.
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[str, int] = {}
        self.seen: list[Item] = []

    async def get(self, sku: str) -> Item:
        found = await self.get_many([sku])
        if sku not in found:
            raise NotFound("item", sku)
        return found[sku]

    async def get_many(self, skus: Collection[str]) -> dict[str, Item]:
        wanted = [sku for sku in skus if is_code(sku)]
        if not wanted:
            return {}
        rows = await self._session.execute(sa.select(items).where(items.c.sku.in_(wanted)))
        found = {}
        for row in rows:
            item = Item(_item_record(row))
            self._loaded[item.sku] = item.version
            self.seen.append(item)
            found[item.sku] = item
        return found

    async def existing(self, skus: Collection[str]) -> set[str]:
        wanted = [sku for sku in skus if is_code(sku)]
        if not wanted:
            return set()
        rows = await self._session.scalars(sa.select(items.c.sku).where(items.c.sku.in_(wanted)))
        return set(rows)

    async def add(self, item: Item) -> None:
        statement = (
            insert(items)
            .values(sku=item.sku, **_item_values(item.record))
            .on_conflict_do_nothing(index_elements=[items.c.sku])
            .returning(items.c.sku)
        )
        if await self._session.scalar(statement) is None:
            raise Conflict("sku", f"an item with SKU {item.sku!r} already exists")
        self._loaded[item.sku] = item.version
        self.seen.append(item)

    async def save(self, item: Item) -> None:
        """Write ``item`` back if nobody changed it since it was loaded."""
        loaded = self._loaded[item.sku]
        if item.version == loaded:
            return
        statement = (
            sa.update(items)
            .where(items.c.sku == item.sku, items.c.version == loaded)
            .values(**_item_values(item.record))
        )
        if await _rows_updated(self._session, statement) != 1:
            current = await self._session.scalar(
                sa.select(items.c.version).where(items.c.sku == item.sku)
            )
            raise VersionMismatch("item", item.sku, expected=loaded, current=int(current or 0))
        self._loaded[item.sku] = item.version

    async def find(self, query: ItemQuery) -> tuple[Page[ItemRecord], int]:
        conditions: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (items.c.category, query.category),
            (items.c.tracking_mode, query.tracking_mode),
            (items.c.status, query.status),
            (items.c.manufacturer, query.manufacturer),
        ):
            if value is not None:
                conditions.append(column == value)
        if query.text:
            pattern = _like(query.text)
            conditions.append(sa.or_(items.c.sku.ilike(pattern), items.c.name.ilike(pattern)))
        page, total = await _page(
            self._session, items, items.c.sku, conditions, query.after, query.limit
        )
        return Page([_item_record(row) for row in page.rows], page.has_more), total


def _item_values(record: ItemRecord) -> dict[str, Any]:
    details = record.details
    return {
        "name": details.name,
        "manufacturer": details.manufacturer,
        "category": details.category.value,
        "tracking_mode": details.tracking_mode.value,
        "unit": details.unit,
        "handling_class": details.handling_class.value,
        "criticality": details.criticality.value,
        "unit_cost": details.unit_cost,
        "currency": details.currency,
        "default_lead_time_days": details.default_lead_time_days,
        "substitutes": list(details.substitutes),
        "end_of_sale": details.end_of_sale,
        "end_of_life": details.end_of_life,
        "warranty_months": details.warranty_months,
        "status": record.status.value,
        "version": record.version,
        "updated_at": record.updated_at,
    }


def _item_record(row: sa.Row[Any]) -> ItemRecord:
    details = ItemDetails(
        name=row.name,
        manufacturer=row.manufacturer,
        category=Category(row.category),
        tracking_mode=TrackingMode(row.tracking_mode),
        unit=row.unit,
        handling_class=HandlingClass(row.handling_class),
        criticality=Criticality(row.criticality),
        unit_cost=row.unit_cost,
        currency=row.currency,
        default_lead_time_days=row.default_lead_time_days,
        substitutes=tuple(row.substitutes),
        end_of_sale=row.end_of_sale,
        end_of_life=row.end_of_life,
        warranty_months=row.warranty_months,
    )
    return ItemRecord(row.sku, details, ItemStatus(row.status), row.version, row.updated_at)


class LocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaded: dict[str, int] = {}
        self.seen: list[Location] = []

    async def get(self, code: str) -> Location:
        if is_code(code):
            row = (
                await self._session.execute(sa.select(locations).where(locations.c.code == code))
            ).one_or_none()
            if row is not None:
                location = Location(_location_record(row))
                self._loaded[code] = location.version
                self.seen.append(location)
                return location
        raise NotFound("location", code)

    async def lock_hierarchy(self) -> None:
        """Serialise changes to the tree until this transaction ends."""
        await self._session.execute(sa.select(sa.func.pg_advisory_xact_lock(HIERARCHY_LOCK)))

    async def parent(self, code: str | None) -> Parent | None:
        """``code`` as a prospective parent, with its ancestors; None if there is no such."""
        if code is None or not is_code(code):
            return None
        start = sa.select(
            locations.c.code,
            locations.c.parent_code,
            locations.c.active,
            sa.literal(0).label("depth"),
        ).where(locations.c.code == code)
        tree = start.cte("tree", recursive=True)
        tree = tree.union_all(
            sa.select(
                locations.c.code,
                locations.c.parent_code,
                locations.c.active,
                tree.c.depth + 1,
            )
            .join(tree, locations.c.code == tree.c.parent_code)
            .where(tree.c.depth < MAX_DEPTH)
        )
        rows = (await self._session.execute(sa.select(tree).order_by(tree.c.depth))).all()
        if not rows:
            return None
        return Parent(code=code, active=rows[0].active, ancestors=tuple(r.code for r in rows[1:]))

    async def active_children(self, code: str) -> list[str]:
        rows = await self._session.scalars(
            sa.select(locations.c.code).where(
                locations.c.parent_code == code, locations.c.active.is_(True)
            )
        )
        return list(rows)

    async def add(self, location: Location) -> None:
        statement = (
            insert(locations)
            .values(code=location.code, **_location_values(location.record))
            .on_conflict_do_nothing(index_elements=[locations.c.code])
            .returning(locations.c.code)
        )
        if await self._session.scalar(statement) is None:
            raise Conflict("code", f"a location with code {location.code!r} already exists")
        self._loaded[location.code] = location.version
        self.seen.append(location)

    async def save(self, location: Location) -> None:
        """Write ``location`` back if nobody changed it since it was loaded."""
        loaded = self._loaded[location.code]
        if location.version == loaded:
            return
        statement = (
            sa.update(locations)
            .where(locations.c.code == location.code, locations.c.version == loaded)
            .values(**_location_values(location.record))
        )
        if await _rows_updated(self._session, statement) != 1:
            current = await self._session.scalar(
                sa.select(locations.c.version).where(locations.c.code == location.code)
            )
            raise VersionMismatch(
                "location", location.code, expected=loaded, current=int(current or 0)
            )
        self._loaded[location.code] = location.version

    async def find(self, query: LocationQuery) -> tuple[Page[LocationRecord], int]:
        conditions: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (locations.c.kind, query.kind),
            (locations.c.region, query.region),
            (locations.c.parent_code, query.parent_code),
            (locations.c.active, query.active),
        ):
            if value is not None:
                conditions.append(column == value)
        page, total = await _page(
            self._session, locations, locations.c.code, conditions, query.after, query.limit
        )
        return Page([_location_record(row) for row in page.rows], page.has_more), total


def _location_values(record: LocationRecord) -> dict[str, Any]:
    details = record.details
    return {
        "name": details.name,
        "kind": details.kind.value,
        "region": details.region,
        "parent_code": details.parent_code,
        "latitude": details.latitude,
        "longitude": details.longitude,
        "active": record.active,
        "version": record.version,
        "updated_at": record.updated_at,
    }


def _location_record(row: sa.Row[Any]) -> LocationRecord:
    details = LocationDetails(
        name=row.name,
        kind=LocationKind(row.kind),
        region=row.region,
        parent_code=row.parent_code,
        latitude=row.latitude,
        longitude=row.longitude,
    )
    return LocationRecord(row.code, details, row.active, row.version, row.updated_at)
