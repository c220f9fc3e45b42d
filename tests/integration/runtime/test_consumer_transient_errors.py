"""Transient database failures are waited out by the consumer, never dead-lettered.

Each test makes the real fault happen on the real database, through the real consumer on
a real topic, more times than ``consumer_max_handler_failures`` allows for a poison
message, and then lets it pass: the message must be applied once, and nothing may reach
the dead-letter topic.
"""

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from runtime_helpers import (
    MESSAGING,
    PROBE_SERVICE,
    applied,
    applied_skus,
    envelope_bytes,
    item_event,
    publish_raw,
    read_all,
    wait_for,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from stockwire.runtime.broker import create_broker
from stockwire.runtime.consumer import Consumer, Received
from stockwire.runtime.db import session_factory
from stockwire.runtime.inbox import Inbox

MAX_FAILURES = 2
"""A poison message is dead-lettered after this many failures; every fault here lasts longer."""

FAULTY_ATTEMPTS = MAX_FAILURES + 2

LOCK_KEY = 0x7E57
"""An advisory lock the test holds while the lock_timeout fault is on."""


def raise_sqlstate(sqlstate: str) -> str:
    """A statement that fails with ``sqlstate``, raised by PostgreSQL itself.

    Disk full, out of memory and a crash restart cannot be caused on a shared test server;
    PL/pgSQL can raise their very SQLSTATE, which then travels through asyncpg (as
    ``DiskFullError``, ...) and SQLAlchemy's wrapping exactly as the real fault's would.
    """
    return f"DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{sqlstate}'; END $$"


IN_HANDLER_FAULTS = {
    "statement-timeout": ["SET LOCAL statement_timeout = '20ms'", "SELECT pg_sleep(5)"],
    "lock-timeout": [
        "SET LOCAL lock_timeout = '20ms'",
        f"SELECT pg_advisory_xact_lock({LOCK_KEY})",
    ],
    "terminated-backend": ["SELECT pg_terminate_backend(pg_backend_pid())"],
    "admin-shutdown": [raise_sqlstate("57P01")],
    "crash-shutdown": [raise_sqlstate("57P02")],
    "cannot-connect-now": [raise_sqlstate("57P03")],
    "disk-full": [raise_sqlstate("53100")],
    "out-of-memory": [raise_sqlstate("53200")],
    "insufficient-resources": [raise_sqlstate("53000")],
}


def fast(settings):
    return settings.model_copy(
        update={
            "consumer_retry_initial_s": 0.01,
            "consumer_retry_max_s": 0.05,
            "consumer_max_handler_failures": MAX_FAILURES,
        }
    )


@pytest.fixture
async def held_advisory_lock(probe_engine: AsyncEngine) -> AsyncIterator[None]:
    async with probe_engine.connect() as conn:
        await conn.execute(sa.text(f"SELECT pg_advisory_lock({LOCK_KEY})"))
        try:
            yield
        finally:
            await conn.execute(sa.text(f"SELECT pg_advisory_unlock({LOCK_KEY})"))


async def run_consumer_until_applied(
    settings, spec, consumer_sessions, name, handle, last_sku, *, sessions, max_batch=1
) -> None:
    """Consume ``spec`` with a consumer on ``consumer_sessions`` until ``last_sku`` is
    applied, as seen through ``sessions`` (the probe database's own pool)."""
    broker = create_broker(settings, "tests")
    Consumer(
        settings=fast(settings),
        broker=broker,
        topics=[spec],
        consumer=name,
        sessions=consumer_sessions,
        inbox=Inbox(MESSAGING),
        handle=handle,
        max_batch=max_batch,
    )
    await broker.start()
    try:
        await wait_for(lambda: _has(sessions, name, last_sku), timeout_s=60)
    finally:
        await broker.stop()


async def _has(sessions, name: str, sku: str) -> bool:
    return sku in await applied_skus(sessions, name)


async def test_database_faults_that_pass_are_waited_out_and_never_dead_lettered(
    settings, sessions, scratch_topic, held_advisory_lock
):
    """Given one message per fault (statement and lock timeouts, a terminated backend,
    admin and crash shutdown, a server not accepting connections, disk full, out of
    memory, insufficient resources), each failing more often than a poison message may,
    then every message is applied once, in order, and none is dead-lettered."""
    spec = await scratch_topic(partitions=1)
    name = f"test-transient-{uuid.uuid4().hex[:8]}"
    events = [item_event(f"{fault}-{uuid.uuid4().hex[:6]}") for fault in IN_HANDLER_FAULTS]
    await publish_raw(settings, spec.name, [(b"k", envelope_bytes(e)) for e in events])
    attempts: Counter[str] = Counter()

    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        for received in batch:
            sku = received.payload.sku
            attempts[sku] += 1
            if attempts[sku] <= FAULTY_ATTEMPTS:
                for statement in IN_HANDLER_FAULTS[sku.rsplit("-", 1)[0]]:
                    await session.execute(sa.text(statement))
            await session.execute(sa.insert(applied).values(consumer=name, sku=sku))

    await run_consumer_until_applied(
        settings, spec, sessions, name, handle, events[-1].sku, sessions=sessions
    )

    assert await applied_skus(sessions, name) == [e.sku for e in events]
    assert all(attempts[e.sku] == FAULTY_ATTEMPTS + 1 for e in events), attempts
    dead = await read_all(settings, spec.dlq, expect=0)
    assert [dict(record.headers)["dlq-reason"] for record in dead] == []


async def test_a_read_only_database_is_waited_out_like_a_failover(
    settings, sessions, scratch_topic
):
    """Given the consumer's connections land on a read-only server (as they do on a
    standby during a failover) for longer than a poison message may fail, then once they
    land on a writable one the message is applied, and it is never dead-lettered."""
    spec = await scratch_topic(partitions=1)
    name = f"test-readonly-{uuid.uuid4().hex[:8]}"
    first, second = item_event(), item_event()
    await publish_raw(settings, spec.name, [(b"k", envelope_bytes(e)) for e in (first, second)])
    engine = create_async_engine(settings.service_url(PROBE_SERVICE), poolclass=NullPool)
    read_only_connections = 0

    @event.listens_for(engine.sync_engine, "do_connect")
    def connect_read_only_at_first(dialect, conn_rec, cargs, cparams) -> None:
        nonlocal read_only_connections
        if read_only_connections < FAULTY_ATTEMPTS:
            read_only_connections += 1
            cparams["server_settings"] = {"default_transaction_read_only": "on"}

    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        for received in batch:
            await session.execute(
                sa.insert(applied).values(consumer=name, sku=received.payload.sku)
            )

    try:
        await run_consumer_until_applied(
            settings, spec, session_factory(engine), name, handle, second.sku, sessions=sessions
        )
    finally:
        await engine.dispose()

    assert read_only_connections == FAULTY_ATTEMPTS
    assert await applied_skus(sessions, name) == [first.sku, second.sku]
    assert await read_all(settings, spec.dlq, expect=0) == []


async def test_an_exhausted_connection_pool_is_waited_out(
    settings, sessions, scratch_topic, caplog
):
    """Given every connection of the consumer's pool is taken (SQLAlchemy raises its
    pool TimeoutError) for longer than a poison message may fail, then once one comes
    free the message is applied, and it is never dead-lettered."""
    spec = await scratch_topic(partitions=1)
    name = f"test-pool-{uuid.uuid4().hex[:8]}"
    first = item_event()
    engine = create_async_engine(
        settings.service_url(PROBE_SERVICE), pool_size=1, max_overflow=0, pool_timeout=0.05
    )

    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        for received in batch:
            await session.execute(
                sa.insert(applied).values(consumer=name, sku=received.payload.sku)
            )

    async def waited_out_more_than_a_poison_message_may_fail() -> bool:
        pool_timeouts = sum(
            "TimeoutError" in record.getMessage() and name in record.getMessage()
            for record in caplog.records
        )
        return pool_timeouts > MAX_FAILURES or consuming.done()

    caplog.set_level(logging.WARNING, logger="stockwire.runtime.consumer")
    try:
        async with engine.connect() as hog:
            await hog.execute(sa.select(1))
            await publish_raw(settings, spec.name, [(b"k", envelope_bytes(first))])
            consuming = asyncio.create_task(
                run_consumer_until_applied(
                    settings,
                    spec,
                    session_factory(engine),
                    name,
                    handle,
                    first.sku,
                    sessions=sessions,
                )
            )
            await wait_for(waited_out_more_than_a_poison_message_may_fail)
        await consuming
    finally:
        await engine.dispose()

    assert await applied_skus(sessions, name) == [first.sku]
    assert await read_all(settings, spec.dlq, expect=0) == []


async def test_a_batch_that_always_times_out_is_applied_one_by_one(
    settings, sessions, scratch_topic
):
    """Given a batch whose transaction exceeds the statement timeout every time (while one
    event at a time fits), then the consumer stops retrying it as a whole, applies its
    events one by one, in order, and dead-letters none."""
    spec = await scratch_topic(partitions=1)
    name = f"test-split-{uuid.uuid4().hex[:8]}"
    events = [item_event() for _ in range(20)]
    await publish_raw(settings, spec.name, [(b"k", envelope_bytes(e)) for e in events])

    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        if len(batch) > 1:
            await session.execute(sa.text("SET LOCAL statement_timeout = '20ms'"))
            await session.execute(sa.text("SELECT pg_sleep(5)"))
        for received in batch:
            await session.execute(
                sa.insert(applied).values(consumer=name, sku=received.payload.sku)
            )

    await run_consumer_until_applied(
        settings, spec, sessions, name, handle, events[-1].sku, sessions=sessions, max_batch=100
    )

    assert await applied_skus(sessions, name) == [e.sku for e in events]
    assert await read_all(settings, spec.dlq, expect=0) == []
