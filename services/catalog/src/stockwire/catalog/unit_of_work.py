"""One catalog transaction: repositories over one session, and the outbox in it.

On commit the events every loaded or added aggregate recorded become outbox rows in the
same transaction as the change, so an event is published exactly when the change happened.
Leaving the block without committing rolls everything back, events included.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.catalog.domain.model import ItemRecord, LocationRecord
from stockwire.catalog.repository import ItemRepository, LocationRepository
from stockwire.contracts.base import Event
from stockwire.contracts.catalog import CatalogItemUpserted, LocationUpserted
from stockwire.contracts.ids import new_id
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.unit_of_work import SessionScope, utc_now


def item_payload(record: ItemRecord) -> CatalogItemUpserted:
    return CatalogItemUpserted(
        sku=record.sku,
        **asdict(record.details),
        status=record.status,
        version=record.version,
        updated_at=record.updated_at,
    )


def location_payload(record: LocationRecord) -> LocationUpserted:
    return LocationUpserted(
        code=record.code,
        **asdict(record.details),
        active=record.active,
        version=record.version,
        updated_at=record.updated_at,
    )


class CatalogUnitOfWork(SessionScope):
    items: ItemRepository
    locations: LocationRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: OutboxWriter,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(sessions, clock=clock)
        self._outbox = outbox

    def opened(self) -> None:
        self.items = ItemRepository(self.session)
        self.locations = LocationRepository(self.session)

    async def commit(self) -> None:
        """Stage every recorded event in the outbox, then commit change and events together.

        Events of one transaction share a correlation id: an import is one business flow.
        """
        payloads: list[Event] = []
        for item in self.items.seen:
            payloads.extend(item_payload(event.item) for event in item.events)
            item.events.clear()
        for location in self.locations.seen:
            payloads.extend(location_payload(event.location) for event in location.events)
            location.events.clear()
        await self._outbox.add_many(self.session, payloads, correlation_id=new_id())
        await self.finish()
