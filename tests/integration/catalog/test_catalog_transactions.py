"""The unit of work against the real database: the change and its event commit together,
a writer that read a stale version is stopped by SQL."""

from datetime import UTC, datetime

import pytest
from catalog_refs import create_item, outbox_rows, random_ref

from stockwire.catalog import handlers
from stockwire.catalog.domain.commands import CreateItem
from stockwire.catalog.unit_of_work import CatalogUnitOfWork
from stockwire.runtime.domain_errors import NotFound, VersionMismatch
from stockwire.runtime.outbox import OutboxWriter


class CrashAfterStaging:
    """An outbox writer that stages the events and then fails, as a crash before commit."""

    def __init__(self, real: OutboxWriter) -> None:
        self._real = real

    async def add_many(self, session, payloads, **options):
        await self._real.add_many(session, payloads, **options)
        raise RuntimeError("crashed after staging events")


def create_command(sku: str) -> CreateItem:
    return CreateItem(
        sku=sku,
        name="Patch cord",
        manufacturer="Acme",
        category="cable",
        tracking_mode="bulk",
        unit_cost=1,
        currency="EUR",
    )


async def test_a_failed_commit_leaves_neither_the_item_nor_its_event(runtime, engine):
    sku = random_ref("CORD")
    uow = CatalogUnitOfWork(runtime.sessions, CrashAfterStaging(runtime.outbox))

    with pytest.raises(RuntimeError):
        await handlers.create_item(create_command(sku), uow)

    with pytest.raises(NotFound):
        await handlers.get_item(sku, CatalogUnitOfWork(runtime.sessions, runtime.outbox))
    assert await outbox_rows(engine, sku) == []


async def test_a_committed_change_and_its_event_are_both_there(uow, engine):
    sku = random_ref("CORD")

    record = await handlers.create_item(create_command(sku), uow)

    [row] = await outbox_rows(engine, sku)
    assert row.envelope["payload"]["version"] == record.version == 1


async def test_sql_stops_a_writer_whose_version_went_stale_after_it_read(client, runtime, engine):
    item = await create_item(client)
    now = datetime.now(UTC)
    first = CatalogUnitOfWork(runtime.sessions, runtime.outbox)
    second = CatalogUnitOfWork(runtime.sessions, runtime.outbox)

    async with first, second:
        mine = await first.items.get(item["sku"])
        theirs = await second.items.get(item["sku"])
        mine.update({"name": "first writer"}, now)
        await first.items.save(mine)
        await first.commit()
        theirs.update({"name": "second writer"}, now)
        with pytest.raises(VersionMismatch) as error:
            await second.items.save(theirs)

    assert (error.value.expected, error.value.current) == (1, 2)
    fetched = (await client.get(f"/api/v1/items/{item['sku']}")).json()
    assert fetched["name"] == "first writer"
    assert len(await outbox_rows(engine, item["sku"])) == 2
