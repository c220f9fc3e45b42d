"""The catalog's use cases: each takes a command and a unit of work, and commits once."""

from collections.abc import Iterable
from dataclasses import dataclass

from stockwire.catalog.domain.commands import (
    CreateItem,
    CreateLocation,
    ImportItems,
    RetireItem,
    RetireLocation,
    UpdateItem,
    UpdateLocation,
)
from stockwire.catalog.domain.model import (
    IMPORT_PROBLEMS_MAX,
    Item,
    ItemRecord,
    Location,
    LocationRecord,
    import_rejected,
    unknown_substitutes,
)
from stockwire.catalog.repository import ItemQuery, LocationQuery
from stockwire.catalog.unit_of_work import CatalogUnitOfWork
from stockwire.runtime.domain_errors import Conflict, Invalid, Problem, VersionMismatch
from stockwire.runtime.http.pages import Page


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


async def _require_substitutes(uow: CatalogUnitOfWork, substitutes: Iterable[str]) -> None:
    wanted = set(substitutes)
    error = unknown_substitutes(wanted, await uow.items.existing(wanted))
    if error is not None:
        raise error


async def create_item(cmd: CreateItem, uow: CatalogUnitOfWork) -> ItemRecord:
    async with uow:
        item = Item.create(cmd, uow.now())
        await _require_substitutes(uow, item.record.details.substitutes)
        await uow.items.add(item)
        await uow.commit()
    return item.record


async def update_item(cmd: UpdateItem, uow: CatalogUnitOfWork) -> ItemRecord:
    async with uow:
        item = await uow.items.get(cmd.sku)
        item.check_version(cmd.expected_version)
        item.update(cmd.changes, uow.now())
        if "substitutes" in cmd.changes:
            await _require_substitutes(uow, item.record.details.substitutes)
        await uow.items.save(item)
        await uow.commit()
    return item.record


async def retire_item(cmd: RetireItem, uow: CatalogUnitOfWork) -> ItemRecord:
    async with uow:
        item = await uow.items.get(cmd.sku)
        item.check_version(cmd.expected_version)
        item.retire(uow.now())
        await uow.items.save(item)
        await uow.commit()
    return item.record


async def get_item(sku: str, uow: CatalogUnitOfWork) -> ItemRecord:
    async with uow:
        return (await uow.items.get(sku)).record


async def find_items(query: ItemQuery, uow: CatalogUnitOfWork) -> tuple[Page[ItemRecord], int]:
    async with uow:
        return await uow.items.find(query)


async def import_items(cmd: ImportItems, uow: CatalogUnitOfWork) -> ImportResult:
    """Create new SKUs and replace existing ones from a file, all or none.

    Every row is checked before anything is written, so the answer to a bad file lists
    every bad row. Substitutes may name SKUs created by the same file.
    """
    problems = list(cmd.unreadable)
    first_line: dict[str, int] = {}
    rows = []
    for row in cmd.rows:
        if len(problems) >= IMPORT_PROBLEMS_MAX:
            raise import_rejected(problems)
        sku = row.item.sku
        if sku in first_line:
            problems.append(
                Problem("sku", f"SKU {sku!r} is also on line {first_line[sku]}", row.line)
            )
        else:
            first_line[sku] = row.line
            rows.append(row)
    async with uow:
        existing = await uow.items.get_many(first_line)
        substitutes = {sku for row in rows for sku in row.item.substitutes}
        known = set(first_line) | await uow.items.existing(substitutes)
        now = uow.now()
        created: list[Item] = []
        changed: list[Item] = []
        for row in rows:
            if len(problems) >= IMPORT_PROBLEMS_MAX:
                break
            try:
                item = existing.get(row.item.sku)
                if item is None:
                    item = Item.create(row.item, now)
                    created.append(item)
                else:
                    item.replace(row.item, now)
                    changed.append(item)
                error = unknown_substitutes(item.record.details.substitutes, known)
                if error is not None:
                    raise error
            except Invalid as error:
                problems.extend(Problem(p.field, p.reason, row.line) for p in error.problems)
        if problems:
            raise import_rejected(problems)
        updated = sum(1 for item in changed if item.events)
        for item in created:
            await uow.items.add(item)
        try:
            for item in changed:
                await uow.items.save(item)
        except VersionMismatch as error:
            raise Conflict("sku", f"item {error.key!r} changed during the import; retry") from error
        await uow.commit()
    return ImportResult(created=len(created), updated=updated, unchanged=len(changed) - updated)


async def create_location(cmd: CreateLocation, uow: CatalogUnitOfWork) -> LocationRecord:
    async with uow:
        await uow.locations.lock_hierarchy()
        parent = await uow.locations.parent(cmd.parent_code)
        location = Location.create(cmd, uow.now(), parent)
        await uow.locations.add(location)
        await uow.commit()
    return location.record


async def update_location(cmd: UpdateLocation, uow: CatalogUnitOfWork) -> LocationRecord:
    async with uow:
        await uow.locations.lock_hierarchy()
        location = await uow.locations.get(cmd.code)
        location.check_version(cmd.expected_version)
        parent_code = cmd.changes.get("parent_code", location.record.details.parent_code)
        parent = await uow.locations.parent(parent_code if isinstance(parent_code, str) else None)
        location.update(cmd.changes, uow.now(), parent)
        await uow.locations.save(location)
        await uow.commit()
    return location.record


async def retire_location(cmd: RetireLocation, uow: CatalogUnitOfWork) -> LocationRecord:
    async with uow:
        await uow.locations.lock_hierarchy()
        location = await uow.locations.get(cmd.code)
        location.check_version(cmd.expected_version)
        location.retire(uow.now(), await uow.locations.active_children(cmd.code))
        await uow.locations.save(location)
        await uow.commit()
    return location.record


async def get_location(code: str, uow: CatalogUnitOfWork) -> LocationRecord:
    async with uow:
        return (await uow.locations.get(code)).record


async def find_locations(
    query: LocationQuery, uow: CatalogUnitOfWork
) -> tuple[Page[LocationRecord], int]:
    async with uow:
        return await uow.locations.find(query)
