"""What every benchmark of a service process shares: its log folder and database prefix,
its error, and a main that runs it alone on the PostgreSQL server, on the test stack."""

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn

import asyncpg
from report import progress

from stockwire.devstack.teststack import test_stack
from stockwire.runtime.db import asyncpg_dsn
from stockwire.runtime.harness import ProcessFailed
from stockwire.runtime.settings import Settings

PREFIX = "stockwire_bench_"
"""Benchmarks' databases: fixed names, dropped and made again so every run starts clean."""
LOG_DIR = Path(".stockwire/bench")


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def main(name: str, lock: int, run: Callable[[Settings], Awaitable[bool]]) -> NoReturn:
    """Run benchmark ``name`` on the test stack and exit 0 if every target was met."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with test_stack() as settings:
        bench = settings.model_copy(update={"database_prefix": PREFIX})
        try:
            ok = asyncio.run(_exclusive(name, lock, bench, run))
        except (BenchError, ProcessFailed) as error:
            progress(f"error: {error}")
            ok = False
        except (KeyboardInterrupt, asyncio.CancelledError):
            progress(f"interrupted; the {name} service was stopped")
            sys.exit(130)
    sys.exit(0 if ok else 1)


async def _exclusive(
    name: str, lock: int, settings: Settings, run: Callable[[Settings], Awaitable[bool]]
) -> bool:
    """``run``, alone on this PostgreSQL (a session advisory lock held for the whole run:
    two runs would drop each other's databases, and on 2 cores their figures would mean
    nothing anyway; the lock goes with the connection, so a killed run never leaves it),
    and cancelled, so its service is stopped, on SIGTERM as on Ctrl-C."""
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    conn = await asyncpg.connect(asyncpg_dsn(settings.server_url()))
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock):
            progress(f"another bench-{name} run is using this PostgreSQL; waiting for it ...")
            await conn.execute("SELECT pg_advisory_lock($1)", lock)
        return await run(settings)
    finally:
        await conn.close()
