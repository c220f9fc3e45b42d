"""Async engine and session factory, bulk COPY in a session's transaction, and creating a
service's database when missing."""

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from stockwire.runtime.settings import Settings


def create_engine(settings: Settings, service: str) -> AsyncEngine:
    return create_async_engine(
        settings.service_url(service),
        pool_size=settings.database_pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings(settings)},
    )


def server_settings(settings: Settings) -> dict[str, str]:
    """Session settings of every connection the runtime opens, pooled or raw.

    ``statement_timeout`` cancels a statement stuck behind a lock or running away, which
    would otherwise hold its connection, and whatever waits on it, forever. It does not
    touch an idle session, so a LISTEN connection waiting for notifications is safe.
    """
    timeout_ms = round(settings.database_statement_timeout_s * 1000)
    if settings.database_statement_timeout_s > 0:
        timeout_ms = max(timeout_ms, 1)  # 0 would mean no timeout at all
    return {"statement_timeout": str(timeout_ms)}


async def connect(settings: Settings, url: URL) -> asyncpg.Connection:
    """A raw asyncpg connection (LISTEN/NOTIFY, the relay, admin tools) with the session
    settings of the pool."""
    return await asyncpg.connect(asyncpg_dsn(url), server_settings=server_settings(settings))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(url: URL) -> str:
    """A plain libpq DSN for asyncpg (LISTEN/NOTIFY and admin work bypass SQLAlchemy)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_database(settings: Settings, service: str) -> bool:
    """Create ``service``'s database on the configured server if absent; True if created."""
    name = settings.database_name(service)
    conn = await connect(settings, settings.server_url())
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await conn.close()


async def drop_database(settings: Settings, name: str) -> None:
    """Drop the database ``name`` on the configured server, sessions and all (a test or
    benchmark run's own database goes with it, so runs do not pile databases up)."""
    conn = await connect(settings, settings.server_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def copy_records(
    session: AsyncSession, table: str, columns: Sequence[str], records: Iterable[Sequence[Any]]
) -> None:
    """COPY ``records`` into ``table`` on the session's own connection, inside its open
    transaction: the cheapest bulk insert there is (no statement, no parameter arrays).

    The transaction must have begun at the driver: SQLAlchemy begins lazily, at its first
    statement, so run one through the session first.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if not isinstance(driver, asyncpg.Connection) or not driver.is_in_transaction():
        raise RuntimeError(f"rows for {table} must be copied inside the caller's transaction")
    await driver.copy_records_to_table(table, columns=list(columns), records=records)
