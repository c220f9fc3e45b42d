"""What every read API needs: one consistent snapshot per request, and path segments
that name a record.

A request reads in a read-only REPEATABLE READ transaction, so a page never mixes states
from before and after a change; every statement also runs under the database's statement
timeout. A path segment that no record could have (too long, or not storable text) is a
404, as an id nobody has is.
"""

from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.runtime.http.problems import not_found
from stockwire.runtime.http.text import storable

MAX_ID_LENGTH = 128
"""Longest SKU, location code, serial or id a path names."""


def snapshots(engine: AsyncEngine) -> Callable[[], AsyncIterator[AsyncConnection]]:
    """A FastAPI dependency: a read-only REPEATABLE READ connection for one request."""

    async def snapshot() -> AsyncIterator[AsyncConnection]:
        async with engine.connect() as conn:
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            yield conn

    return snapshot


def path_id(value: str, what: str, max_length: int = MAX_ID_LENGTH) -> str:
    """A path segment naming a record; a 404 naming ``what`` if none could have it."""
    if not value or len(value) > max_length or not storable(value):
        raise not_found(what)
    return value
