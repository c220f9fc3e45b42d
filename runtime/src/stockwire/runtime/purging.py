"""Deleting a service's own old rows in chunks, beside the service.

A table that grows with use (kept Idempotency-Key answers, the notifier's delivery log)
is purged of rows older than its retention, a chunk per short transaction, so a large
backlog never holds many locks or one long transaction; rows another instance is deleting
at the same moment are skipped, not waited for.
"""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.runtime.periodic import every

CHUNK_ROWS = 1000


async def purge_older(
    engine: AsyncEngine,
    table: sa.Table,
    age_column: str,
    retention: timedelta,
    *,
    only: str = "",
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Delete the rows of ``table`` whose ``age_column`` is older than ``retention`` (and
    that match the SQL condition ``only``, if given); how many."""
    keys = ", ".join(column.name for column in table.primary_key.columns)
    condition = f"{age_column} < now() - CAST(:retention AS interval)"
    if only:
        condition += f" AND ({only})"
    chunk = sa.text(
        f"DELETE FROM {table.name} WHERE ({keys}) IN ("
        f"SELECT {keys} FROM {table.name} WHERE {condition} "
        "LIMIT :chunk_rows FOR UPDATE SKIP LOCKED)"
    )
    purged = 0
    while True:
        async with engine.begin() as conn:
            result = await conn.execute(chunk, {"retention": retention, "chunk_rows": chunk_rows})
        purged += result.rowcount
        if result.rowcount < chunk_rows:
            return purged


async def purge_periodically(
    engine: AsyncEngine,
    table: sa.Table,
    age_column: str,
    retention: timedelta,
    interval_s: float,
    *,
    what: str,
    only: str = "",
) -> None:
    """Purge at start, then every ``interval_s``, until cancelled (:func:`every`)."""

    async def purge() -> str:
        purged = await purge_older(engine, table, age_column, retention, only=only)
        return f"{purged} older than {retention}"

    await every(interval_s, purge, what=f"purging {what}")
