"""The transaction a service's unit of work runs in.

An HTTP command opens its own session: leaving the block without committing rolls it
back, and :meth:`SessionScope.finish` commits it (a connection lost during COMMIT becomes
:class:`~stockwire.runtime.transient.CommitOutcomeUnknown`, never retried). A consumer
hands in the session of the transaction that already holds its inbox claims and commits
it after the batch: then the unit of work neither rolls back nor commits. A service's
unit of work subclasses :class:`SessionScope`, builds its repositories in
:meth:`SessionScope.opened`, and ends its ``commit`` with :meth:`SessionScope.finish`.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.runtime.transient import commit


def utc_now() -> datetime:
    return datetime.now(UTC)


class SessionScope:
    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        *,
        session: AsyncSession | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if (sessions is None) == (session is None):
            raise ValueError("a unit of work opens its own session or is given one, not both")
        self._sessions = sessions
        self._given = session
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def opened(self) -> None:
        """Build what works on :attr:`session` (repositories); called on entering."""

    async def __aenter__(self) -> Self:
        if self._given is not None:
            self.session = self._given
        else:
            assert self._sessions is not None
            self.session = self._sessions()
        self.opened()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._given is None:
            await self.session.rollback()
            await self.session.close()

    async def commit(self) -> None:
        """Write what the unit of work staged and :meth:`finish`; a service's unit of work
        that stages anything overrides it and ends with :meth:`finish`."""
        await self.finish()

    async def finish(self) -> None:
        """Commit, unless the caller owns the transaction (it commits after its batch)."""
        if self._given is None:
            await commit(self.session)
