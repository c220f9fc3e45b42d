"""Alembic migrations for a service's own database.

Each service keeps its migrations in ``stockwire/<service>/migrations`` with an ``env.py``
that calls :func:`run_env`. ``python -m stockwire.runtime.migrate <service>`` creates the
service's database if it is missing and upgrades it to head.
"""

import argparse
import asyncio

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from stockwire.runtime.db import ensure_database
from stockwire.runtime.settings import Settings


def alembic_config(settings: Settings, service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"stockwire.{service}:migrations")
    url = settings.service_url(service).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, service: str, revision: str = "head") -> None:
    """Create ``service``'s database when absent, then upgrade it (blocking)."""
    asyncio.run(ensure_database(settings, service))
    command.upgrade(alembic_config(settings, service), revision)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py`` (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError(
            "sqlalchemy.url is not set; run migrations through stockwire.runtime.migrate"
        )

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description="Upgrade a Stockwire service's database.")
    parser.add_argument("service", help="service name, e.g. catalog")
    parser.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args()
    upgrade(Settings(), args.service, args.revision)
    print(f"{args.service}: database {Settings().database_name(args.service)} at {args.revision}")


if __name__ == "__main__":
    main()
