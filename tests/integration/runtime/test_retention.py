"""Sent outbox rows and inbox rows are purged when old: in chunks, beside the relay, one
instance at a time."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from runtime_helpers import MESSAGING, PROBE_SERVICE, add_outbox_rows, item_event, wait_for
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.relay import ADVISORY_NAMESPACE
from stockwire.runtime.retention import PURGE_LOCKS, purge
from stockwire.runtime.service import build_runtime
from stockwire.runtime.settings import Settings

outbox, inbox = MESSAGING.outbox, MESSAGING.inbox


RETENTION = {"outbox_retention_hours": 24, "inbox_retention_hours": 48, "retention_chunk_rows": 10}


def retaining(settings: Settings) -> Settings:
    """24 h for sent outbox rows, 48 h for inbox rows, purged 10 rows a statement."""
    return Settings(**(settings.model_dump() | RETENTION))


async def outbox_ids(sessions) -> set[int]:
    async with sessions() as session:
        return set(await session.scalars(sa.select(outbox.c.id)))


async def add_inbox_rows(sessions, consumer: str, count: int, *, days_ago: float) -> None:
    received_at = datetime.now(UTC) - timedelta(days=days_ago)
    async with sessions.begin() as session:
        await session.execute(
            sa.insert(inbox),
            [
                {"consumer": consumer, "event_id": uuid.uuid4(), "received_at": received_at}
                for _ in range(count)
            ],
        )


async def inbox_count(sessions, consumer: str) -> int:
    async with sessions() as session:
        return await session.scalar(
            sa.select(sa.func.count()).select_from(inbox).where(inbox.c.consumer == consumer)
        )


@pytest.fixture
async def service(settings) -> AsyncIterator:
    """Starts a runtime of the probe service (relay and purges) with the given settings."""
    runtimes = []

    async def start(service_settings: Settings):
        runtime = build_runtime(PROBE_SERVICE, service_settings, MESSAGING)
        await runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.stop()


async def test_outbox_purge_deletes_only_rows_sent_before_the_retention_window(
    settings, sessions, clean_outbox
):
    """Given 25 rows sent 30 days ago, one sent an hour ago and two unsent, when the outbox
    is purged (10 rows a chunk, 24 h retention), then exactly the 25 are gone."""
    await add_outbox_rows(sessions, 25, sent_days_ago=30)
    kept = await add_outbox_rows(sessions, 1, sent_days_ago=1 / 24)
    kept += await add_outbox_rows(sessions, 2, sent_days_ago=None)

    assert await purge(retaining(settings), PROBE_SERVICE, "outbox") == 25

    assert await outbox_ids(sessions) == set(kept)


async def test_one_instance_purges_at_a_time_and_releases_the_lock_after(
    settings, sessions, probe_engine: AsyncEngine, clean_outbox
):
    """Given another instance purging the outbox (it holds the purge lock), a purge does
    nothing; once that one is done, a purge deletes the expired rows and leaves the lock
    free for the next."""
    expired = await add_outbox_rows(sessions, 3, sent_days_ago=30)
    lock = sa.text(f"SELECT pg_try_advisory_lock({ADVISORY_NAMESPACE}, {PURGE_LOCKS['outbox']})")
    unlock = sa.text(f"SELECT pg_advisory_unlock({ADVISORY_NAMESPACE}, {PURGE_LOCKS['outbox']})")
    async with probe_engine.connect() as other_instance:
        assert await other_instance.scalar(lock)
        assert await purge(retaining(settings), PROBE_SERVICE, "outbox") is None
        assert set(expired) <= await outbox_ids(sessions)
        await other_instance.scalar(unlock)

        assert await purge(retaining(settings), PROBE_SERVICE, "outbox") == 3
        assert await other_instance.scalar(lock)
        await other_instance.scalar(unlock)


async def test_a_running_service_forgets_inbox_rows_older_than_the_inbox_retention(
    settings, sessions, service, clean_outbox
):
    """Given a consumer's inbox with 23 rows from 30 days ago and 3 from an hour ago, when
    the service runs with a 48 h inbox retention, then the 23 are purged (in pages of 10)
    and the 3 kept."""
    consumer = f"test-inbox-{uuid.uuid4().hex[:8]}"
    await add_inbox_rows(sessions, consumer, 23, days_ago=30)
    await add_inbox_rows(sessions, consumer, 3, days_ago=1 / 24)

    await service(retaining(settings))

    async def only_recent_left() -> bool:
        return await inbox_count(sessions, consumer) == 3

    await wait_for(only_recent_left, timeout_s=20)


async def test_a_locked_sent_row_stops_neither_publishing_nor_the_rest_of_the_purge(
    settings, sessions, scratch_topic, probe_engine: AsyncEngine, service, clean_outbox
):
    """Given an expired sent row locked by another transaction (an operator's replay, say),
    when the service runs, then the purge deletes the other expired rows and leaves that
    one, and meanwhile the relay publishes a new event."""
    expired = await add_outbox_rows(sessions, 4, sent_days_ago=30)
    topic = await scratch_topic(partitions=1)
    async with probe_engine.connect() as operator, operator.begin():
        await operator.execute(
            sa.select(outbox.c.id).where(outbox.c.id == expired[0]).with_for_update()
        )
        await service(retaining(settings))
        async with sessions.begin() as session:
            fresh = await OutboxWriter(MESSAGING, producer="tests").add(
                session, item_event(), topic=topic
            )

        async def published_and_purged() -> bool:
            async with sessions() as session:
                unsent = await session.scalar(
                    sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None))
                )
            return unsent == 0 and not set(expired[1:]) & await outbox_ids(sessions)

        await wait_for(published_and_purged, timeout_s=20)
    remaining = await outbox_ids(sessions)
    assert expired[0] in remaining
    async with sessions() as session:
        assert await session.scalar(
            sa.select(outbox.c.sent_at.is_not(None)).where(outbox.c.event_id == fresh.event_id)
        )
