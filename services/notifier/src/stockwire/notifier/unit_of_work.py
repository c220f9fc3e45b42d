"""One transaction: the configuration, the engine's state, the deliveries it decides and
the events it publishes (acknowledgements) commit together."""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.notifier.configuration import ConfigurationRepository
from stockwire.notifier.state import KeptState, StateRepository
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.unit_of_work import SessionScope, utc_now


class NotifierUnitOfWork(SessionScope):
    configuration: ConfigurationRepository
    state: StateRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        outbox: OutboxWriter,
        clock: Callable[[], datetime] = utc_now,
        *,
        session: AsyncSession | None = None,
        kept: KeptState | None = None,
    ) -> None:
        super().__init__(sessions, session=session, clock=clock)
        self.outbox = outbox
        self._kept = kept or KeptState()

    @classmethod
    def within(
        cls, session: AsyncSession, outbox: OutboxWriter, kept: KeptState
    ) -> "NotifierUnitOfWork":
        """A unit of work inside the caller's transaction (a consumer's batch)."""
        return cls(None, outbox, session=session, kept=kept)

    def opened(self) -> None:
        self.configuration = ConfigurationRepository(self.session)
        self.state = StateRepository(self.session, self._kept)

    async def commit(self) -> None:
        """Commit, unless the caller owns the transaction (it commits after the batch)."""
        await self.finish()
