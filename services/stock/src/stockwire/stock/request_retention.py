"""Forgets stored Idempotency-Key answers once their clients have stopped retrying.

``command_requests`` keeps each HTTP command's answer so that a retry with the same
``Idempotency-Key`` is answered the same without being applied again. After
``STOCKWIRE_STOCK_REQUEST_RETENTION_HOURS`` the row is deleted, and a request with that key
is a new request.

Rows go in chunks, each its own short transaction, so a large backlog (the first purge
after an upgrade or a long outage) never holds one long transaction or many locks.
Several instances may purge at once: a chunk skips rows another one is deleting.
"""

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.stock.settings import StockSettings

log = logging.getLogger(__name__)

CHUNK_ROWS = 1000

PURGE_CHUNK = text(
    """
    DELETE FROM command_requests WHERE request_id IN (
        SELECT request_id FROM command_requests
        WHERE created_at < now() - CAST(:retention AS interval)
        LIMIT :chunk_rows
        FOR UPDATE SKIP LOCKED
    )
    """
)


async def purge_expired_requests(
    engine: AsyncEngine, retention: timedelta, chunk_rows: int = CHUNK_ROWS
) -> int:
    """Delete the answers stored longer ago than ``retention``; returns how many."""
    purged = 0
    while True:
        async with engine.begin() as conn:
            result = await conn.execute(
                PURGE_CHUNK, {"retention": retention, "chunk_rows": chunk_rows}
            )
        purged += result.rowcount
        if result.rowcount < chunk_rows:
            return purged


async def purge_requests_periodically(engine: AsyncEngine, settings: StockSettings) -> None:
    """Purge at start, then every ``stock_request_purge_interval_s``, until cancelled.

    A failed purge (database away) is logged and tried again at the next interval; the
    rows it left are simply older by then.
    """
    retention = timedelta(hours=settings.stock_request_retention_hours)
    interval = settings.stock_request_purge_interval_s
    while True:
        try:
            purged = await purge_expired_requests(engine, retention)
        except Exception:
            log.exception("purging expired stock requests failed; retrying in %.0f s", interval)
        else:
            log.info("purged %d stock request answers older than %s", purged, retention)
        await asyncio.sleep(interval)
