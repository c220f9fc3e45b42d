"""Jobs a service runs every so often (purges, figures, sweeps, ticks), and the lock that
lets one instance at a time run a job that must not run twice at once.

:func:`every` runs a job at start and then every interval until cancelled. A failed round
(the database away, a statement timeout) is logged and tried again at the next: what it
missed is still there then. :func:`only_one` takes a transaction-scoped advisory lock
named after the job, so when several replicas run the same job one does the work and the
others skip that round.
"""

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.runtime.relay import ADVISORY_NAMESPACE
from stockwire.runtime.telemetry import one_line

log = logging.getLogger(__name__)

JOB_KEYS = 0x4000_0000
"""Job locks take keys from 2**30 up, apart from the relay's shard locks and the
retention purges' (small numbers) in the same namespace."""


def job_key(job: str) -> int:
    """The advisory lock key of the job called ``job`` (stable across processes)."""
    return JOB_KEYS | (zlib.crc32(job.encode()) & (JOB_KEYS - 1))


async def only_one(session: AsyncSession, job: str) -> bool:
    """Whether this transaction holds ``job``'s lock (until it ends); False at once when
    another transaction holds it."""
    taken = await session.scalar(
        sa.select(sa.func.pg_try_advisory_xact_lock(ADVISORY_NAMESPACE, job_key(job)))
    )
    return bool(taken)


async def every(interval_s: float, job: Callable[[], Awaitable[str | None]], *, what: str) -> None:
    """Run ``job`` at start, then every ``interval_s``, until cancelled; what it returns
    is logged (None: nothing worth a line)."""
    while True:
        try:
            said = await job()
        except Exception as error:
            log.warning("%s failed, trying again in %g s: %s", what, interval_s, one_line(error))
        else:
            if said:
                log.info("%s: %s", what, said)
        await asyncio.sleep(interval_s)
