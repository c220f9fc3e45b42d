"""Which failures go away by themselves: a consumer retries them for as long as they last
(never dead-letters them), and the HTTP layer answers them 503 with Retry-After.

Database errors arrive wrapped: SQLAlchemy's ``DBAPIError`` holds the driver's error in
``orig``, whose ``__cause__`` is asyncpg's own exception, so the whole chain is examined.
"""

import asyncpg
from sqlalchemy import exc as sa_exc

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
"""What a database call can raise (a connection refused is an ``OSError``)."""


def is_transient(error: BaseException) -> bool:
    """True for failures that go away by themselves: retry, never drop."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(
            seen,
            OSError
            | TimeoutError
            | asyncpg.PostgresConnectionError
            | asyncpg.CannotConnectNowError
            | asyncpg.InterfaceError
            | asyncpg.SerializationError
            | asyncpg.DeadlockDetectedError
            | asyncpg.TooManyConnectionsError
            | sa_exc.InterfaceError,
        ):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, sa_exc.OperationalError):
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return False
