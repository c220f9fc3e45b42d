"""One transaction: the configuration, the engine's state, the deliveries it decides and
the events it publishes (acknowledgements) commit together."""

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.notifier.configuration import ConfigurationRepository
from stockwire.notifier.state import KeptState, StateRepository
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.transient import commit


class NotifierUnitOfWork:
    session: AsyncSession
    configuration: ConfigurationRepository
    state: StateRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        outbox: OutboxWriter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        session: AsyncSession | None = None,
        kept: KeptState | None = None,
    ) -> None:
        self._sessions = sessions
        self._given = session
        self.outbox = outbox
        self._clock = clock
        self._kept = kept or KeptState()

    @classmethod
    def within(
        cls, session: AsyncSession, outbox: OutboxWriter, kept: KeptState
    ) -> "NotifierUnitOfWork":
        """A unit of work inside the caller's transaction (a consumer's batch)."""
        return cls(None, outbox, session=session, kept=kept)

    def now(self) -> datetime:
        return self._clock()

    async def __aenter__(self) -> Self:
        if self._given is not None:
            self.session = self._given
        else:
            assert self._sessions is not None
            self.session = self._sessions()
        self.configuration = ConfigurationRepository(self.session)
        self.state = StateRepository(self.session, self._kept)
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
        """Commit, unless the caller owns the transaction (it commits after the batch)."""
        if self._given is None:
            await commit(self.session)
