"""Inbox de-duplication: a consumer applies each event id at most once.

The claim is an insert in the handler's own transaction, so the state change and the
record that it happened commit (or roll back) together.
"""

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.runtime.tables import MessagingTables


class Inbox:
    def __init__(self, tables: MessagingTables) -> None:
        # One statement for any batch size: unnest keeps it compiled and prepared once.
        self._claim = sa.text(
            f"INSERT INTO {tables.inbox.name} (consumer, event_id) "
            "SELECT :consumer, unnest(CAST(:event_ids AS uuid[])) "
            "ON CONFLICT DO NOTHING RETURNING event_id"
        )

    async def claim(self, session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
        """True if ``event_id`` is new for ``consumer`` (and is now recorded), else False."""
        return bool(await self.claim_many(session, consumer, [event_id]))

    async def claim_many(
        self, session: AsyncSession, consumer: str, event_ids: list[uuid.UUID]
    ) -> set[uuid.UUID]:
        """The subset of ``event_ids`` not seen before by ``consumer``, now recorded."""
        if not event_ids:
            return set()
        result = await session.execute(self._claim, {"consumer": consumer, "event_ids": event_ids})
        return set(result.scalars())
