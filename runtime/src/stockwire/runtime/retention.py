"""Retention of the messaging tables: sent outbox rows and inbox rows are deleted when old.

The outbox keeps sent rows for ``outbox_retention_hours`` so that ``outboxctl replay`` can
re-emit a service's history. The inbox keeps each consumer's record of an applied event
for ``inbox_retention_hours``, which is the **replay horizon**: an event delivered again
after its inbox row was purged is applied again. Settings refuse an inbox retention that
is not longer than the outbox's, so a replay from the outbox stays harmless; a consumer
group reset to the start of a topic whose Kafka retention is longer than the inbox's is
not covered by that check.

Each purge runs beside the relay (never inside a publishing round), deletes in chunks
of ``retention_chunk_rows``, each chunk its own short statement, so neither a long
transaction nor many locks are held, and runs in one instance at a time across all
processes: it holds a session advisory lock on a connection of its own, and an instance
that finds the lock taken skips that round.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal

import asyncpg

from stockwire.runtime.db import connect
from stockwire.runtime.metrics import RETENTION_PURGED
from stockwire.runtime.periodic import every
from stockwire.runtime.relay import ADVISORY_NAMESPACE
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import OUTBOX_SHARDS

log = logging.getLogger(__name__)

Table = Literal["outbox", "inbox"]

PURGE_LOCKS: dict[Table, int] = {"outbox": OUTBOX_SHARDS, "inbox": OUTBOX_SHARDS + 1}
"""Advisory lock keys in the relay's namespace, beside (not among) its shard locks."""

CHUNKS: dict[Table, str] = {
    "outbox": """
        DELETE FROM outbox WHERE id IN (
            SELECT id FROM outbox
            WHERE sent_at IS NOT NULL AND sent_at < now() - $1::interval
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
    """,
    "inbox": """
        DELETE FROM inbox WHERE (consumer, event_id) IN (
            SELECT consumer, event_id FROM inbox
            WHERE received_at < now() - $1::interval
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
    """,
}
"""One chunk of expired rows, found by the index on their age (the outbox's partial index
on ``sent_at``, the inbox's on ``received_at``); rows locked elsewhere (a replay marking
outbox rows unsent) are skipped rather than waited for."""


async def _purge_chunks(
    conn: asyncpg.Connection, table: Table, retention: timedelta, chunk_rows: int
) -> tuple[int, int]:
    purged = chunks = 0
    while True:
        status = await conn.execute(CHUNKS[table], retention, chunk_rows)
        deleted = int(status.split()[-1])
        purged += deleted
        chunks += 1
        if deleted < chunk_rows:
            return purged, chunks


async def purge(settings: Settings, service: str, table: Table) -> int | None:
    """Delete ``table``'s expired rows in chunks; how many, or None if another instance
    is purging it. The advisory lock is held on this purge's own connection, and released
    when it ends (or when the connection does, if the process dies)."""
    conn = await connect(settings, settings.service_url(service))
    try:
        lock = (ADVISORY_NAMESPACE, PURGE_LOCKS[table])
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *lock):
            log.info("%s: another instance is purging the %s; skipped", service, table)
            return None
        try:
            started = time.monotonic()
            retention = timedelta(hours=getattr(settings, f"{table}_retention_hours"))
            purged, chunks = await _purge_chunks(
                conn, table, retention, settings.retention_chunk_rows
            )
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1, $2)", *lock)
    finally:
        await conn.close()
    RETENTION_PURGED.labels(service, table).inc(purged)
    log.info(
        "%s: purged %d %s rows older than %s (%d chunks, %.1f s)",
        service,
        purged,
        table,
        retention,
        chunks,
        time.monotonic() - started,
    )
    return purged


async def purge_periodically(settings: Settings, service: str) -> None:
    """Purge each table at start, then every ``retention_purge_interval_s``, until
    cancelled (:func:`~stockwire.runtime.periodic.every`: a failed purge is tried again at
    the next interval; the rows it left are simply older by then)."""

    def purging(table: Table) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            await purge(settings, service, table)

        return job

    await asyncio.gather(
        *(
            every(
                settings.retention_purge_interval_s,
                purging(table),
                what=f"{service}: purging the {table}",
            )
            for table in CHUNKS
        )
    )
