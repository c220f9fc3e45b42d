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
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal

import asyncpg

from stockwire.runtime.db import connect
from stockwire.runtime.metrics import RETENTION_PURGED
from stockwire.runtime.relay import ADVISORY_NAMESPACE
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import OUTBOX_SHARDS
from stockwire.runtime.telemetry import one_line

log = logging.getLogger(__name__)

Table = Literal["outbox", "inbox"]

PURGE_LOCKS: dict[Table, int] = {"outbox": OUTBOX_SHARDS, "inbox": OUTBOX_SHARDS + 1}
"""Advisory lock keys in the relay's namespace, beside (not among) its shard locks."""

OUTBOX_CHUNK = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox
    WHERE sent_at IS NOT NULL AND sent_at < now() - $1::interval
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
"""
"""Uses the partial index on ``sent_at``; rows locked elsewhere (a replay marking them
unsent) are skipped rather than waited for."""

_INBOX_PAGE = """
WITH page AS (
    SELECT consumer, event_id, received_at FROM inbox
    {after}
    ORDER BY consumer, event_id
    LIMIT $2
), purged AS (
    DELETE FROM inbox USING page
    WHERE inbox.consumer = page.consumer AND inbox.event_id = page.event_id
      AND page.received_at < now() - $1::interval
    RETURNING 1
)
SELECT (SELECT count(*) FROM purged) AS purged, last.consumer, last.event_id
FROM (SELECT consumer, event_id FROM page ORDER BY consumer DESC, event_id DESC LIMIT 1) last
"""
"""The inbox has no index on ``received_at`` (one would cost every consumer's insert), so
the purge walks the primary key a page at a time and deletes the expired rows of each
page: every statement reads one bounded range of the index, and a purge reads the table
once. It returns nothing after the last page."""

INBOX_FIRST_PAGE = _INBOX_PAGE.format(after="")
INBOX_NEXT_PAGE = _INBOX_PAGE.format(after="WHERE (consumer, event_id) > ($3, $4)")


async def _purge_outbox(conn: asyncpg.Connection, settings: Settings) -> tuple[int, int]:
    retention = timedelta(hours=settings.outbox_retention_hours)
    purged = chunks = 0
    while True:
        status = await conn.execute(OUTBOX_CHUNK, retention, settings.retention_chunk_rows)
        deleted = int(status.split()[-1])
        purged += deleted
        chunks += 1
        if deleted < settings.retention_chunk_rows:
            return purged, chunks


async def _purge_inbox(conn: asyncpg.Connection, settings: Settings) -> tuple[int, int]:
    retention = timedelta(hours=settings.inbox_retention_hours)
    page = settings.retention_chunk_rows
    row = await conn.fetchrow(INBOX_FIRST_PAGE, retention, page)
    purged = chunks = 0
    while row is not None:
        purged += row["purged"]
        chunks += 1
        last: tuple[str, uuid.UUID] = (row["consumer"], row["event_id"])
        row = await conn.fetchrow(INBOX_NEXT_PAGE, retention, page, *last)
    return purged, chunks


PURGES: dict[Table, Callable[[asyncpg.Connection, Settings], Awaitable[tuple[int, int]]]] = {
    "outbox": _purge_outbox,
    "inbox": _purge_inbox,
}


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
            purged, chunks = await PURGES[table](conn, settings)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1, $2)", *lock)
    finally:
        await conn.close()
    RETENTION_PURGED.labels(service, table).inc(purged)
    retention = getattr(settings, f"{table}_retention_hours")
    log.info(
        "%s: purged %d %s rows older than %g h (%d chunks, %.1f s)",
        service,
        purged,
        table,
        retention,
        chunks,
        time.monotonic() - started,
    )
    return purged


async def purge_periodically(settings: Settings, service: str) -> None:
    """Purge both tables at start, then every ``retention_purge_interval_s``, until
    cancelled. A failed purge (database away, statement timeout) is logged and tried
    again at the next interval; the rows it left are simply older by then."""
    while True:
        for table in PURGES:
            try:
                await purge(settings, service, table)
            except Exception as error:
                log.warning("%s: purging the %s failed: %s", service, table, one_line(error))
        await asyncio.sleep(settings.retention_purge_interval_s)
