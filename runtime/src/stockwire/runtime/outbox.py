"""Transactional outbox: events are written in the caller's transaction, published later.

:class:`OutboxWriter` adds rows inside the same transaction as the state change, so an
event exists exactly when the change committed. :mod:`stockwire.runtime.relay` publishes
them.
"""

import json
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import sqlalchemy as sa
from opentelemetry.propagate import inject
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import envelope_json
from stockwire.contracts.ids import new_id
from stockwire.contracts.topics import TopicSpec, topic_for
from stockwire.runtime.db import copy_records
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


@dataclass(frozen=True, slots=True)
class Staged:
    """One outbox row: an event in its envelope, and where it is published."""

    event_id: uuid.UUID
    event_type: str
    topic: str
    key: str
    occurred_at: datetime
    envelope: str
    """The envelope's JSON."""
    trace: Mapping[str, str] | None = None
    """The trace the event continues; None: the one current when it is inserted."""


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
    ) -> Staged:
        """Wrap ``payload`` in an envelope and stage it for publishing on its topic.

        ``event_id`` and ``producer`` keep those of an event received from outside (the
        FSM webhook relays job events this way): a retried delivery keeps its id, so the
        consumers' inboxes de-duplicate it, and the envelope still names its producer.
        """
        staged = self.stage(
            payload,
            topic=topic,
            producer=producer,
            event_id=event_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=occurred_at or datetime.now(UTC),
        )
        await self.insert(session, [staged])
        return staged

    async def add_many(
        self,
        session: AsyncSession,
        payloads: Sequence[Event],
        *,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        topic: TopicSpec | None = None,
    ) -> list[Staged]:
        """Stage many events in one statement (the batch path of busy consumers)."""
        at = occurred_at or datetime.now(UTC)
        staged = [
            self.stage(
                payload,
                topic=topic,
                correlation_id=correlation_id,
                causation_id=causation_id,
                occurred_at=at,
            )
            for payload in payloads
        ]
        await self.insert(session, staged)
        return staged

    def stage(
        self,
        payload: Event,
        *,
        occurred_at: datetime,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        topic: TopicSpec | None = None,
        producer: str | None = None,
        event_id: uuid.UUID | None = None,
        trace: Mapping[str, str] | None = None,
    ) -> Staged:
        """The outbox row for one payload, for :meth:`insert` (callers that give each event
        its own correlation build the rows themselves). ``trace`` is the context of the
        event that caused this one, where that is not the current span's (a batch)."""
        spec = topic or topic_for(type(payload))
        event_id = event_id or new_id()
        key = spec.key_for(payload)
        envelope = envelope_json(
            payload,
            event_id=event_id,
            producer=producer or self._producer,
            occurred_at=occurred_at,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        return Staged(
            event_id, payload.event_type, spec.name, key, occurred_at, envelope.decode(), trace
        )

    async def insert(self, session: AsyncSession, staged: Sequence[Staged]) -> None:
        """COPY the rows in on the session's own connection, inside its transaction.

        COPY costs a fraction of an ORM executemany, which matters on the batch path
        where every movement stages several events.
        """
        if not staged:
            return
        headers = json.dumps(trace_headers())
        records = [
            (
                row.event_id,
                row.topic,
                row.key,
                shard_of(row.key),
                row.event_type,
                row.envelope,
                json.dumps(dict(row.trace)) if row.trace else headers,
            )
            for row in staged
        ]
        # NOTIFY first: it is delivered only on commit, and going through the session makes
        # the driver open the caller's transaction (it begins lazily), which the COPY below
        # must join rather than commit on its own.
        await session.execute(sa.select(sa.func.pg_notify(OUTBOX_CHANNEL, "")))
        try:
            await copy_records(session, self._outbox.name, COPY_COLUMNS, records)
        except asyncpg.UniqueViolationError as error:
            raise DuplicateEventId(str(error)) from error
