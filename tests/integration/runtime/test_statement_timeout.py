"""Every connection the runtime opens cancels a statement that runs past the timeout.

A statement stuck behind a lock (or a runaway query) otherwise holds its connection, and
the relay or consumer that waits on it, forever.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from runtime_helpers import MESSAGING, PROBE_SERVICE, item_event, read_all
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.runtime.db import create_engine
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.outboxctl import status
from stockwire.runtime.relay import OutboxRelay

TIMEOUT_S = 0.3

HANG_GUARD_S = 20
"""Without a statement timeout these statements would wait forever; the test gives up here."""


@pytest.fixture
def short(settings):
    return settings.model_copy(update={"database_statement_timeout_s": TIMEOUT_S})


@contextlib.asynccontextmanager
async def outbox_locked(probe_engine: AsyncEngine) -> AsyncIterator[None]:
    """The outbox table locked against every reader and writer, as a long migration or a
    forgotten ``LOCK TABLE`` in a psql session would lock it."""
    async with probe_engine.connect() as conn, conn.begin():
        await conn.execute(sa.text(f"LOCK TABLE {MESSAGING.outbox.name} IN ACCESS EXCLUSIVE MODE"))
        yield


async def test_the_session_pool_cancels_a_statement_past_the_timeout(short):
    engine = create_engine(short, PROBE_SERVICE)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as raised:
                await asyncio.wait_for(
                    conn.execute(sa.text("SELECT pg_sleep(10)")), timeout=HANG_GUARD_S
                )
    finally:
        await engine.dispose()
    assert isinstance(raised.value.orig.__cause__, asyncpg.QueryCanceledError)


async def test_the_relay_gives_up_on_a_claim_stuck_behind_a_lock(short, probe_engine, clean_outbox):
    relay = OutboxRelay(short, PROBE_SERVICE)
    await relay.start()
    try:
        async with outbox_locked(probe_engine):
            with pytest.raises(asyncpg.QueryCanceledError):
                await asyncio.wait_for(relay.publish_pending(), timeout=HANG_GUARD_S)
    finally:
        await relay.stop()


async def test_outboxctl_gives_up_on_a_query_stuck_behind_a_lock(short, probe_engine):
    async with outbox_locked(probe_engine):
        with pytest.raises(asyncpg.QueryCanceledError):
            await asyncio.wait_for(status(short, PROBE_SERVICE), timeout=HANG_GUARD_S)


async def test_the_relays_listener_outlives_the_timeout_while_idle(
    short, sessions, scratch_topic, clean_outbox
):
    """Given a relay that polls only once a minute, idle for longer than the statement
    timeout, when an event is written, then NOTIFY still wakes it: LISTEN is not a
    statement the timeout can cancel."""
    topic = await scratch_topic(partitions=1)
    relay = OutboxRelay(short.model_copy(update={"outbox_poll_interval_s": 60.0}), PROBE_SERVICE)
    await relay.start()
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(TIMEOUT_S * 3)
        async with sessions.begin() as session:
            staged = await OutboxWriter(MESSAGING, producer="tests").add(
                session, item_event(), topic=topic
            )
        [record] = await read_all(short, topic.name, expect=1, timeout_s=15)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await relay.stop()
    assert record.key == staged.key.encode()
