"""Transactional outbox: events are written in the caller's transaction, published later.

:class:`OutboxWriter` adds rows inside the same transaction as the state change, so an
event exists exactly when the change committed. :mod:`stockwire.runtime.relay` publishes
them.
"""

import json
import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import sqlalchemy as sa
from opentelemetry.propagate import inject
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.topics import TopicSpec, topic_for
from stockwire.runtime.tables import OUTBOX_CHANNEL, OUTBOX_SHARDS, MessagingTables


class DuplicateEventId(Exception):
    """An event with this event_id is already in the outbox (a retried ingress call)."""


COPY_COLUMNS = ("event_id", "topic", "key", "shard", "event_type", "envelope", "headers")


def shard_of(key: str) -> int:
    """Same key, same shard: one relay publishes a key's events, in order."""
    return zlib.crc32(key.encode()) % OUTBOX_SHARDS


def trace_headers() -> dict[str, str]:
    """The current trace context, to travel with the event as Kafka headers."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


class OutboxWriter:
    """Adds events to the outbox in the caller's session; the caller commits."""

    def __init__(self, tables: MessagingTables, producer: str) -> None:
        self._outbox = tables.outbox
        self._producer = producer

    async def add(
        self,
        session: AsyncSession,
        payload: Event,
        *,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        topic: TopicSpec | None = None,
        event_id: uuid.UUID | None = None,
        producer: str | None = None,
    ) -> Envelope:
        """Wrap ``payload`` in an envelope and stage it for publishing on its topic.

        ``event_id`` and ``producer`` keep those of an event received from outside (the
        FSM webhook relays job events this way): a retried delivery keeps its id, so the
        consumers' inboxes de-duplicate it, and the envelope still names its producer.
        """
        staged = self._stage(
            payload,
            topic,
            producer=producer,
            event_id=event_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=occurred_at,
        )
        await self._insert(session, [staged])
        return staged[2]

    async def add_many(
        self,
        session: AsyncSession,
        payloads: Sequence[Event],
        *,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        topic: TopicSpec | None = None,
    ) -> list[Envelope]:
        """Stage many events in one statement (the batch path of busy consumers)."""
        if not payloads:
            return []
        staged = [
            self._stage(
                payload,
                topic,
                correlation_id=correlation_id,
                causation_id=causation_id,
                occurred_at=occurred_at,
            )
            for payload in payloads
        ]
        await self._insert(session, staged)
        return [envelope for _, _, envelope in staged]

    def _stage(
        self,
        payload: Event,
        topic: TopicSpec | None,
        *,
        correlation_id: uuid.UUID | None,
        causation_id: uuid.UUID | None,
        occurred_at: datetime | None,
        producer: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> tuple[str, TopicSpec, Envelope]:
        """The key, topic and envelope one payload is staged under."""
        spec = topic or topic_for(type(payload))
        envelope = wrap(
            payload,
            producer=producer or self._producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=occurred_at,
            event_id=event_id,
        )
        return spec.key_for(payload), spec, envelope

    async def _insert(
        self, session: AsyncSession, staged: Sequence[tuple[str, TopicSpec, Envelope]]
    ) -> None:
        """COPY the rows in on the session's own connection, inside its transaction.

        COPY with JSON serialized once by pydantic costs a fraction of an ORM
        executemany, which matters on the batch path where every movement stages
        several events.
        """
        headers = json.dumps(trace_headers())
        records = [
            (
                envelope.event_id,
                spec.name,
                key,
                shard_of(key),
                envelope.event_type,
                envelope.model_dump_json(),
                headers,
            )
            for key, spec, envelope in staged
        ]
        # NOTIFY first: it is delivered only on commit, and going through the session makes
        # the driver open the caller's transaction (it begins lazily), which the COPY below
        # must join rather than commit on its own.
        await session.execute(sa.select(sa.func.pg_notify(OUTBOX_CHANNEL, "")))
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection
        if not driver.is_in_transaction():
            raise RuntimeError("outbox rows must be written inside the caller's transaction")
        try:
            await driver.copy_records_to_table(
                self._outbox.name, columns=COPY_COLUMNS, records=records
            )
        except asyncpg.UniqueViolationError as error:
            raise DuplicateEventId(str(error)) from error
