"""One replenishment transaction: the repository over one session, and the outbox in it.

An HTTP request opens its own session and commits it; a consumer hands in the session of
the transaction that holds its inbox claims and commits it after the batch. Suggestions,
their decisions and alerts become rows and outbox events in that same transaction, each
event staged in the flow of the event that caused it
(:class:`~stockwire.runtime.causes.Causes`).
"""

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.contracts.base import Event
from stockwire.contracts.ids import new_id
from stockwire.contracts.replenishment import (
    ReplenishmentAlertRaised,
    ReplenishmentAlertResolved,
)
from stockwire.contracts.vocabulary import ReplenishmentAlertKind
from stockwire.replenishment.domain.alerts import AlertChanges, OpenAlert
from stockwire.replenishment.repository import OpenAlertRow, PlansRepository
from stockwire.runtime.causes import Causes
from stockwire.runtime.consumer import Received
from stockwire.runtime.outbox import OutboxWriter, Staged
from stockwire.runtime.plain_text import clip
from stockwire.runtime.unit_of_work import SessionScope, utc_now


@dataclass(frozen=True, slots=True)
class AlertContext:
    """What the service adds to the domain's alerts: the suggestion an alert is about, the
    link a person follows, and the event that caused it."""

    suggestion_id: uuid.UUID | None = None
    link: str | None = None
    source: uuid.UUID | None = None


def figure(value: float) -> Decimal:
    """A domain figure as the alert contract carries it (6 places)."""
    return Decimal(str(round(value, 6)))


@dataclass(frozen=True, slots=True)
class Planning:
    """What the service's settings say about how it plans and links."""

    public_url: str
    """Replenishment's address as people reach it, for links in alerts."""
    rejection_quiet: timedelta
    """How long a rejected suggestion is not made again."""


class ReplenishmentUnitOfWork(SessionScope):
    plans: PlansRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        outbox: OutboxWriter,
        *,
        planning: Planning,
        clock: Callable[[], datetime] = utc_now,
        session: AsyncSession | None = None,
        causes: Sequence[Received] = (),
    ) -> None:
        super().__init__(sessions, session=session, clock=clock)
        self._outbox = outbox
        self.planning = planning
        self._causes = Causes(causes)
        self._staged: list[Staged] = []

    @classmethod
    def within(
        cls,
        session: AsyncSession,
        outbox: OutboxWriter,
        causes: Sequence[Received],
        *,
        planning: Planning,
    ) -> "ReplenishmentUnitOfWork":
        """A unit of work inside a consumer's transaction, applying ``causes``."""
        return cls(None, outbox, planning=planning, session=session, causes=causes)

    def opened(self) -> None:
        self.plans = PlansRepository(self.session)
        self._staged = []

    def publish(self, payload: Event, source: uuid.UUID | None = None) -> None:
        """Publish ``payload`` when the unit of work commits (``source``: the event id
        that caused it, if any)."""
        self._staged.append(
            self._causes.stage(self._outbox, payload, source, occurred_at=self.now())
        )

    def suggestion_link(self, suggestion_id: uuid.UUID) -> str:
        return f"{self.planning.public_url}/api/v1/suggestions/{suggestion_id}/why"

    async def open_alerts(self, keys: Iterable[str]) -> list[OpenAlert]:
        """The alerts open under ``keys``, as the domain judges them."""
        return [row.domain() for row in (await self.plans.open_alerts(keys)).values()]

    async def open_alerts_of(self, kind: ReplenishmentAlertKind) -> list[OpenAlert]:
        return [row.domain() for row in (await self.plans.open_alerts_of(kind.value)).values()]

    async def apply_alerts(
        self, changes: AlertChanges, context: Mapping[str, AlertContext] | None = None
    ) -> None:
        """Publish what the domain raised (a new condition, or one that got worse) and
        resolved, keeping the open ones; ``context`` by dedup_key."""
        now = self.now()
        given = context or {}
        for alert in changes.raised:
            extra = given.get(alert.dedup_key, AlertContext())
            self.publish(
                ReplenishmentAlertRaised(
                    alert_id=new_id(),
                    kind=alert.kind.value,
                    severity=alert.severity,
                    dedup_key=alert.dedup_key,
                    summary=clip(alert.summary),
                    raised_at=now,
                    sku=alert.sku,
                    location=alert.location,
                    region=alert.region,
                    category=alert.category,
                    labels=dict(alert.labels),
                    figures={name: figure(value) for name, value in alert.figures.items()},
                    link=extra.link,
                    suggestion_id=extra.suggestion_id,
                ),
                extra.source,
            )
        await self.plans.keep_open(
            [
                OpenAlertRow(
                    dedup_key=alert.dedup_key,
                    kind=alert.kind.value,
                    severity=alert.severity.value,
                    sku=alert.sku,
                    location=alert.location,
                    region=alert.region,
                    suggestion_id=given.get(alert.dedup_key, AlertContext()).suggestion_id,
                    raised_at=now,
                )
                for alert in changes.raised
            ]
        )
        opened = await self.plans.open_alerts(r.dedup_key for r in changes.resolved)
        for r in changes.resolved:
            source = given.get(r.dedup_key, AlertContext()).source
            self.publish(
                ReplenishmentAlertResolved(
                    kind=r.kind.value,
                    dedup_key=r.dedup_key,
                    summary=clip(r.summary),
                    resolved_at=now,
                    sku=r.sku,
                    location=r.location,
                    region=r.region,
                    suggestion_id=(
                        opened[r.dedup_key].suggestion_id if r.dedup_key in opened else None
                    ),
                ),
                source,
            )
        await self.plans.close(r.dedup_key for r in changes.resolved)

    async def commit(self) -> None:
        """Stage the events; commit too unless the caller owns the transaction."""
        await self._outbox.insert(self.session, self._staged)
        self._staged = []
        await self.finish()


NewUnitOfWork = Callable[[AsyncSession, list[Received]], ReplenishmentUnitOfWork]
"""Makes a unit of work inside a consumer's transaction."""
