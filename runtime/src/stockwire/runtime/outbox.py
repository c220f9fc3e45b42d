"""Transactional outbox: events are written in the caller's transaction, published later.

:class:`OutboxWriter` adds rows inside the same transaction as the state change, so an
event exists exactly when the change committed. :mod:`stockwire.runtime.relay` publishes
them.
"""

import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from opentelemetry.propagate import inject
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.topics import TopicSpec, topic_for
from stockwire.runtime.tables import OUTBOX_CHANNEL, OUTBOX_SHARDS, MessagingTables


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
        spec = topic or topic_for(type(payload))
        envelope = wrap(
            payload,
            producer=producer or self._producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=occurred_at,
            event_id=event_id,
        )
        await self._insert(session, [(spec.key_for(payload), spec, envelope)])
        return envelope

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
        staged = []
        for payload in payloads:
            spec = topic or topic_for(type(payload))
            envelope = wrap(
                payload,
                producer=self._producer,
                correlation_id=correlation_id,
                causation_id=causation_id,
                occurred_at=occurred_at,
            )
            staged.append((spec.key_for(payload), spec, envelope))
        await self._insert(session, staged)
        return [envelope for _, _, envelope in staged]

    async def _insert(
        self, session: AsyncSession, staged: Sequence[tuple[str, TopicSpec, Envelope]]
    ) -> None:
        headers = trace_headers()
        rows = [
            {
                "event_id": envelope.event_id,
                "topic": spec.name,
                "key": key,
                "shard": shard_of(key),
                "event_type": envelope.event_type,
                "envelope": envelope.model_dump(mode="json"),
                "headers": headers,
            }
            for key, spec, envelope in staged
        ]
        await session.execute(sa.insert(self._outbox), rows)
        await session.execute(sa.select(sa.func.pg_notify(OUTBOX_CHANNEL, "")))
