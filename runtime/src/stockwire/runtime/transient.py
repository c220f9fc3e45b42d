"""Which failures go away by themselves, and retrying them safely.

A consumer retries transient failures for as long as they last (never dead-letters them);
an HTTP command retries them a few times (:func:`retry_transaction`), then the HTTP layer
answers 503 with Retry-After. One failure is never retried: a connection lost while
committing (:class:`CommitOutcomeUnknown`), since the transaction may have committed.

Database errors arrive wrapped: SQLAlchemy's ``DBAPIError`` holds the driver's error in
``orig``, whose ``__cause__`` is asyncpg's own exception, so the whole chain is examined.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
"""What a database call can raise (a connection refused is an ``OSError``)."""


TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset connections, and TimeoutError
    asyncpg.InterfaceError,
    sa_exc.InterfaceError,
    sa_exc.OperationalError,
    sa_exc.TimeoutError,  # no pooled connection came free within pool_timeout
)
"""Failures recognised by type: the connection, the driver or the pool, not the statement."""

STATEMENT_TIMEOUT = "57014"

TRANSIENT_SQLSTATE_CLASSES = frozenset({"08"})
"""Connection exceptions (08xxx): the connection failed or was lost."""

TRANSIENT_SQLSTATES = frozenset(
    {
        "25006",  # read-only transaction: a standby, which is what a failover looks like
        "40001",  # serialization failure, including conflicts with recovery on a standby
        "40P01",  # deadlock detected
        "53000",  # insufficient resources
        "53100",  # disk full
        "53200",  # out of memory
        "53300",  # too many connections
        "55P03",  # lock not available: lock_timeout
        STATEMENT_TIMEOUT,  # query canceled: statement_timeout, or pg_cancel_backend
        "57P01",  # admin shutdown: a fast shutdown or pg_terminate_backend
        "57P02",  # crash shutdown: another backend crashed, the server restarts
        "57P03",  # cannot connect now: the server is starting up or in recovery
    }
)
"""PostgreSQL errors that go away by themselves. ``53400`` (configuration limit exceeded,
e.g. too many locks in one transaction) is left out on purpose: a batch that hits it hits
it every time, and classing it as poison lets the batch be split."""


def backoff_s(initial_s: float, max_s: float, failures: int) -> float:
    """The wait after ``failures`` failures in a row (0 for the first retry): doubling from
    ``initial_s``, never more than ``max_s``. Consumers, the outbox relay and the notifier's
    deliveries all back off this way, each from its own settings."""
    return float(min(max_s, initial_s * 2**failures))


def is_transient(error: BaseException) -> bool:
    """True for failures that go away by themselves: retry, never dead-letter.

    SQLAlchemy wraps the driver's exception (``DBAPIError.orig``, whose ``__cause__`` is
    the asyncpg exception), so the whole chain is examined. PostgreSQL errors are told
    apart by SQLSTATE, which asyncpg's exceptions and SQLAlchemy's adapted ones both carry.
    """
    for seen in _causes(error):
        if isinstance(seen, CommitOutcomeUnknown):
            return False
        if isinstance(seen, TRANSIENT_TYPES):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        sqlstate = getattr(seen, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate in TRANSIENT_SQLSTATES or sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES
        ):
            return True
    return False


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps, outermost first: its ``__cause__``, or SQLAlchemy's
    ``orig`` (each once, should a chain ever loop)."""
    seen: BaseException | None = error
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        yield seen
        seen = seen.__cause__ or getattr(seen, "orig", None)


class CommitOutcomeUnknown(Exception):
    """The connection failed while the transaction was committing: PostgreSQL may have
    committed it, and only the reply was lost. Running it again could apply it twice, so
    it is never retried; the caller learns that the outcome is unknown."""


async def commit(session: AsyncSession) -> None:
    """``session.commit()``, raising :class:`CommitOutcomeUnknown` when the connection
    fails during it (a commit PostgreSQL refused, e.g. a serialization failure, did not
    happen, and raises as it is)."""
    try:
        await session.commit()
    except Exception as error:
        if _connection_failed(error):
            raise CommitOutcomeUnknown(
                "the database connection failed while committing; the change may or may "
                "not have been applied"
            ) from error
        raise


def _connection_failed(error: BaseException) -> bool:
    return any(
        isinstance(seen, OSError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError)
        or (isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated)
        for seen in _causes(error)
    )


def _timed_out(error: BaseException) -> bool:
    return any(getattr(seen, "sqlstate", None) == STATEMENT_TIMEOUT for seen in _causes(error))


async def retry_transaction(
    attempt: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    delay_s: float = 0.05,
    also: Callable[[BaseException], bool] = lambda _: False,
) -> T:
    """Run ``attempt`` (one whole transaction) until it succeeds, retrying a transient
    failure, or one ``also`` accepts, up to ``attempts`` times; never after
    :class:`CommitOutcomeUnknown`, nor after a statement timeout (the same work would
    most likely time out again, and a caller waits for every try)."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except CommitOutcomeUnknown:
            raise
        except Exception as error:
            retry = (is_transient(error) and not _timed_out(error)) or also(error)
            if number == attempts or not retry:
                raise
        await asyncio.sleep(delay_s * number)
    raise AssertionError("unreachable: the last attempt returns or raises")
