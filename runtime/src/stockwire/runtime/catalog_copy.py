"""The catalog read copy: the equipment models and locations a service keeps from the
catalog's compacted topics, in its own database.

A service's rules ask the catalog questions all the time (is this SKU serialized, is this
location active, which region is this van in, how critical is this part); asking over
HTTP would couple the services and stall on every catalog outage. Instead each service
keeps a copy, fed by two consumers (``<service>-catalog-items`` and
``<service>-catalog-locations``) that read ``catalog.items.v1`` and
``catalog.locations.v1`` from the beginning.

The copy holds what stock, assets, replenishment and the notifier need, not the whole
record. A record replaces the copy only when its version is newer, so a replay, a
duplicate or an out-of-order delivery changes nothing. Columns added after a service
first kept its copy (``name``, ``category``, ``warranty_months``, ...) are null in the rows
it kept before, until the catalog next changes that record.

A service declares the tables on its own MetaData with :func:`define_catalog_copy` (its
migrations create them with :mod:`stockwire.runtime.migration_steps`), builds a
:class:`CatalogCopy` on them and calls :func:`register_catalog_copy` in its bootstrap.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.catalog import CatalogItemUpserted, LocationUpserted
from stockwire.contracts.topics import CATALOG_ITEMS, CATALOG_LOCATIONS
from stockwire.runtime.bulk import insert_unnested
from stockwire.runtime.consumer import Consumer, Handle, Received
from stockwire.runtime.service import ServiceRuntime

BATCH = 500
"""Catalog records applied per transaction (a compacted topic replays in big bursts)."""


@dataclass(frozen=True)
class CatalogCopyTables:
    items: sa.Table
    locations: sa.Table


def define_catalog_copy(metadata: sa.MetaData) -> CatalogCopyTables:
    """The copy's two tables, on the service's own MetaData."""

    def updated_at() -> sa.Column[object]:
        return sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )

    items = sa.Table(
        "catalog_items",
        metadata,
        sa.Column("sku", sa.Text, primary_key=True),
        sa.Column("tracking_mode", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        updated_at(),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("category", sa.Text, nullable=True),
        sa.Column("criticality", sa.Text, nullable=True),
        sa.Column("default_lead_time_days", sa.Integer, nullable=True),
        sa.Column("end_of_sale", sa.Date, nullable=True),
        sa.Column("end_of_life", sa.Date, nullable=True),
        sa.Column("warranty_months", sa.Integer, nullable=True),
    )
    locations = sa.Table(
        "catalog_locations",
        metadata,
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("parent_code", sa.Text, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        updated_at(),
        sa.Column("name", sa.Text, nullable=True),
        sa.Index("catalog_locations_parent", "parent_code"),
    )
    return CatalogCopyTables(items=items, locations=locations)


@dataclass(frozen=True)
class ItemCopy:
    """An equipment model as the catalog published it, as much as services keep."""

    sku: str
    name: str
    category: str
    tracking_mode: str
    unit: str
    criticality: str
    default_lead_time_days: int
    end_of_sale: date | None
    end_of_life: date | None
    status: str
    version: int
    warranty_months: int | None = None
    """None when the catalog does not know it (or had not published it yet)."""

    @classmethod
    def of(cls, item: CatalogItemUpserted) -> "ItemCopy":
        return cls(
            sku=item.sku,
            name=item.name,
            category=item.category.value,
            tracking_mode=item.tracking_mode.value,
            unit=item.unit,
            criticality=item.criticality.value,
            default_lead_time_days=item.default_lead_time_days,
            end_of_sale=item.end_of_sale,
            end_of_life=item.end_of_life,
            status=item.status.value,
            version=item.version,
            warranty_months=item.warranty_months,
        )


@dataclass(frozen=True)
class LocationCopy:
    code: str
    name: str
    kind: str
    region: str
    parent_code: str | None
    active: bool
    version: int

    @classmethod
    def of(cls, location: LocationUpserted) -> "LocationCopy":
        return cls(
            code=location.code,
            name=location.name,
            kind=location.kind.value,
            region=location.region,
            parent_code=location.parent_code,
            active=location.active,
            version=location.version,
        )


C = TypeVar("C", ItemCopy, LocationCopy)


def newest(copies: Iterable[C], key: Callable[[C], str]) -> list[C]:
    """One copy per key, the highest version, whatever order they arrived in; sorted by
    key, so concurrent writers take row locks in one order."""
    kept: dict[str, C] = {}
    for copy in copies:
        current = kept.get(key(copy))
        if current is None or current.version < copy.version:
            kept[key(copy)] = copy
    return [kept[name] for name in sorted(kept)]


LocationsChanged = Callable[[AsyncSession, list[str]], Awaitable[None]]
"""What a service does, in the copy's transaction, when locations may have changed (their
codes): e.g. keep what it stored of a location (its region) in step with the catalog."""

ItemsChanged = Callable[[AsyncSession, list[str]], Awaitable[None]]
"""What a service does, in the copy's transaction, when items may have changed (their
SKUs): e.g. plan again what depends on an item's lead time or criticality."""


class CatalogCopy:
    """Writes the copy; a service's own queries read its tables directly."""

    def __init__(
        self,
        tables: CatalogCopyTables,
        *,
        locations_changed: LocationsChanged | None = None,
        items_changed: ItemsChanged | None = None,
    ) -> None:
        self.tables = tables
        self._locations_changed = locations_changed
        self._items_changed = items_changed
        item_columns = [
            "sku",
            "name",
            "category",
            "tracking_mode",
            "unit",
            "criticality",
            "default_lead_time_days",
            "end_of_sale",
            "end_of_life",
            "status",
            "version",
            "warranty_months",
        ]
        location_columns = ["code", "name", "kind", "region", "parent_code", "active", "version"]
        self._items = _upsert_newer(tables.items, "sku", item_columns)
        self._locations = _upsert_newer(tables.locations, "code", location_columns)

    async def keep_items(self, session: AsyncSession, copies: Sequence[ItemCopy]) -> None:
        kept = newest(copies, lambda copy: copy.sku)
        if kept:
            await session.execute(self._items, _columns(kept))
            if self._items_changed is not None:
                await self._items_changed(session, [copy.sku for copy in kept])

    async def keep_locations(self, session: AsyncSession, copies: Sequence[LocationCopy]) -> None:
        kept = newest(copies, lambda copy: copy.code)
        if kept:
            await session.execute(self._locations, _columns(kept))
            if self._locations_changed is not None:
                await self._locations_changed(session, [copy.code for copy in kept])


def _upsert_newer(table: sa.Table, key: str, columns: list[str]) -> sa.TextClause:
    """One statement for any number of rows: insert, or replace a row of an older version."""
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns if name != key)
    return insert_unnested(
        table,
        columns,
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}, updated_at = now() "
        "WHERE t.version < EXCLUDED.version",
        alias="t",
    )


def _columns(copies: Sequence[ItemCopy] | Sequence[LocationCopy]) -> dict[str, list[object]]:
    names = list(copies[0].__dataclass_fields__)
    return {name: [getattr(copy, name) for copy in copies] for name in names}


def register_catalog_copy(runtime: ServiceRuntime, copy: CatalogCopy) -> list[Consumer]:
    """Subscribe the two consumers that keep ``copy`` (they start with the runtime)."""

    def consumer(topic: str, handle: Handle) -> Consumer:
        spec = CATALOG_ITEMS if topic == "items" else CATALOG_LOCATIONS
        return Consumer(
            settings=runtime.settings,
            broker=runtime.broker,
            topics=[spec],
            consumer=f"{runtime.name}-catalog-{topic}",
            sessions=runtime.sessions,
            inbox=runtime.inbox,
            handle=handle,
            max_batch=BATCH,
        )

    async def keep_items(session: AsyncSession, batch: list[Received]) -> None:
        items = [r.payload for r in batch if isinstance(r.payload, CatalogItemUpserted)]
        await copy.keep_items(session, [ItemCopy.of(item) for item in items])

    async def keep_locations(session: AsyncSession, batch: list[Received]) -> None:
        found = [r.payload for r in batch if isinstance(r.payload, LocationUpserted)]
        await copy.keep_locations(session, [LocationCopy.of(location) for location in found])

    return [consumer("items", keep_items), consumer("locations", keep_locations)]
