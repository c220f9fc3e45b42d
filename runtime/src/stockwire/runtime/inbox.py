"""Inbox de-duplication: a consumer applies each event id at most once.

The claim is an insert in the handler's own transaction, so the state change and the
record that it happened commit (or roll back) together.
"""

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.runtime.tables import MessagingTables


class Inbox:
    def __init__(self, tables: MessagingTables) -> None:
        self._inbox = tables.inbox

    async def claim(self, session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
        """True if ``event_id`` is new for ``consumer`` (and is now recorded), else False."""
        return bool(await self.claim_many(session, consumer, [event_id]))

    async def claim_many(
        self, session: AsyncSession, consumer: str, event_ids: list[uuid.UUID]
    ) -> set[uuid.UUID]:
        """The subset of ``event_ids`` not seen before by ``consumer``, now recorded."""
        if not event_ids:
            return set()
        statement = (
            insert(self._inbox)
            .values([{"consumer": consumer, "event_id": event_id} for event_id in event_ids])
            .on_conflict_do_nothing()
            .returning(self._inbox.c.event_id)
        )
        result = await session.execute(statement)
        return set(result.scalars())
