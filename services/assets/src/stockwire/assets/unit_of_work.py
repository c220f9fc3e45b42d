"""One assets transaction: the repository over one session, and the outbox in it.

An HTTP request opens its own session and commits it; a consumer hands in the session of
the transaction that holds its inbox claims and commits it after the batch. Whatever the
domain recorded (state changes, refusals, failures, alerts and their resolutions) becomes
timeline rows, records and outbox events in that same transaction: nothing is published
that was not saved, nothing saved that is not published. Each event is staged in the flow
of the event that caused it (:class:`~stockwire.runtime.causes.Causes`).
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.assets.domain.alerts import Alert, Resolution
from stockwire.assets.domain.devices import (
    DeviceEvent,
    FailureNoted,
    StateChanged,
    Superseded,
    TransitionRefused,
)
from stockwire.assets.repository import ActiveAlert, AssetsRepository, HistoryRow
from stockwire.assets.repository_records import RecordsRepository
from stockwire.contracts.assets import (
    AssetAlertRaised,
    AssetAlertResolved,
    DeviceStateChanged,
    FailureRecorded,
    TransitionRejected,
)
from stockwire.contracts.base import Event
from stockwire.contracts.ids import new_id
from stockwire.runtime.causes import Causes
from stockwire.runtime.consumer import Received
from stockwire.runtime.outbox import OutboxWriter, Staged
from stockwire.runtime.plain_text import clip
from stockwire.runtime.unit_of_work import SessionScope, utc_now


def device_link(base_url: str, serial: str) -> str:
    return f"{base_url}/api/v1/devices/{quote(serial, safe='')}"


class AssetsUnitOfWork(SessionScope):
    assets: AssetsRepository
    records: RecordsRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        outbox: OutboxWriter,
        *,
        public_url: str,
        clock: Callable[[], datetime] = utc_now,
        session: AsyncSession | None = None,
        causes: Sequence[Received] = (),
    ) -> None:
        super().__init__(sessions, session=session, clock=clock)
        self._outbox = outbox
        self.public_url = public_url
        self._causes = Causes(causes)
        self._staged: list[Staged] = []
        self._history: list[HistoryRow] = []

    @classmethod
    def within(
        cls,
        session: AsyncSession,
        outbox: OutboxWriter,
        causes: Sequence[Received],
        *,
        public_url: str,
    ) -> "AssetsUnitOfWork":
        """A unit of work inside a consumer's transaction, applying ``causes``."""
        return cls(None, outbox, public_url=public_url, session=session, causes=causes)

    def opened(self) -> None:
        self.assets = AssetsRepository(self.session)
        self.records = RecordsRepository(self.session)
        self._staged = []
        self._history = []

    def publish(self, payload: Event, source: uuid.UUID | None = None) -> None:
        """Publish ``payload`` when the unit of work commits (``source``: the event id
        that caused it, if any)."""
        self._staged.append(
            self._causes.stage(self._outbox, payload, source, occurred_at=self.now())
        )

    def note(self, row: HistoryRow) -> None:
        """Add a row to a device's timeline when the unit of work commits."""
        self._history.append(row)

    async def record_device_events(self, events: Sequence[DeviceEvent]) -> None:
        """Timeline rows, failure records and outbox events for what devices did."""
        failures = [e for e in events if isinstance(e, FailureNoted)]
        new_failures = await self.assets.add_failures(
            [
                {
                    "failure_id": f.failure_id,
                    "serial": f.serial,
                    "sku": f.sku,
                    "location": f.location,
                    "region": f.region,
                    "source": f.source.value,
                    "symptom": f.symptom,
                    "failed_at": f.at,
                }
                for f in failures
            ]
        )
        for event in events:
            match event:
                case StateChanged():
                    self._state_changed(event)
                case TransitionRefused():
                    self._refused(event)
                case FailureNoted() if event.failure_id in new_failures:
                    self._failed(event)
                case Superseded():
                    fact = event.fact
                    self.note(
                        HistoryRow(
                            fact.serial,
                            fact.at,
                            "superseded",
                            clip(
                                f"{fact.reason} arrived late: the device is rebuilt in time order"
                            ),
                            {"to_state": fact.to_state.value if fact.to_state else None},
                            fact.source_event_id,
                        )
                    )

    def _state_changed(self, e: StateChanged) -> None:
        self.publish(
            DeviceStateChanged(
                serial=e.serial,
                sku=e.sku,
                from_state=e.from_state,
                to_state=e.to_state,
                location=e.location,
                location_kind=e.location_kind,
                job_id=e.job_id,
                reason=clip(e.reason),
                changed_at=e.at,
                source_event_id=e.source_event_id,
            ),
            e.source_event_id,
        )
        before = e.from_state.value if e.from_state else "nothing"
        self.note(
            HistoryRow(
                e.serial,
                e.at,
                "state_changed",
                clip(f"{before} -> {e.to_state.value}: {e.reason}"),
                {
                    "from_state": e.from_state.value if e.from_state else None,
                    "to_state": e.to_state.value,
                    "location": e.location,
                    "job_id": e.job_id,
                },
                e.source_event_id,
            )
        )

    def _refused(self, e: TransitionRefused) -> None:
        self.publish(
            TransitionRejected(
                serial=e.serial,
                sku=e.sku,
                current_state=e.current,
                attempted_state=e.attempted,
                reason=e.reason,
                message=clip(e.message),
                location=e.location,
                rejected_at=e.at,
                source_event_id=e.source_event_id,
            ),
            e.source_event_id,
        )
        self.note(
            HistoryRow(
                e.serial,
                e.at,
                "transition_rejected",
                clip(e.message),
                {"reason": e.reason.value, "attempted_state": e.attempted.value},
                e.source_event_id,
            )
        )

    def _failed(self, e: FailureNoted) -> None:
        self.publish(
            FailureRecorded(
                failure_id=e.failure_id,
                serial=e.serial,
                sku=e.sku,
                location=e.location,
                source=e.source,
                symptom=clip(e.symptom),
                failed_at=e.at,
                source_event_id=e.source_event_id,
            ),
            e.source_event_id,
        )
        self.note(
            HistoryRow(
                e.serial,
                e.at,
                "failure",
                clip(f"failed ({e.source.value}): {e.symptom}"),
                {"failure_id": e.failure_id, "source": e.source.value},
                e.source_event_id,
            )
        )

    async def raise_alerts(self, alerts: Sequence[Alert]) -> None:
        """Publish each alert not already active (the first of a key, in the flow of its
        cause), and remember it as active."""
        active = await self.assets.active_alerts(a.dedup_key for a in alerts)
        fresh: dict[str, Alert] = {}
        for alert in alerts:
            if alert.dedup_key not in active:
                fresh.setdefault(alert.dedup_key, alert)
        now = self.now()
        for alert in fresh.values():
            self.publish(self._raised(alert, now), alert.cause)
        await self.assets.raise_alerts(
            [
                ActiveAlert(a.dedup_key, a.kind.value, a.serial, a.sku, a.region, a.location, now)
                for a in fresh.values()
            ]
        )

    async def resolve_alerts(
        self, resolutions: Sequence[Resolution], source: uuid.UUID | None = None
    ) -> None:
        """Publish the resolution of each alert that is active, and forget it."""
        active = await self.assets.active_alerts(r.dedup_key for r in resolutions)
        now = self.now()
        done = {r.dedup_key: r for r in resolutions if r.dedup_key in active}
        for r in done.values():
            self.publish(
                AssetAlertResolved(
                    kind=r.kind,
                    dedup_key=r.dedup_key,
                    summary=clip(r.summary),
                    resolved_at=now,
                    serial=r.serial,
                    sku=r.sku,
                    region=r.region,
                    location=r.location,
                    link=device_link(self.public_url, r.serial) if r.serial else None,
                ),
                source,
            )
        await self.assets.resolve_alerts(done)

    def _raised(self, alert: Alert, now: datetime) -> AssetAlertRaised:
        return AssetAlertRaised(
            alert_id=new_id(),
            kind=alert.kind.value,
            severity=alert.severity,
            dedup_key=alert.dedup_key,
            summary=clip(alert.summary),
            raised_at=now,
            serial=alert.serial,
            sku=alert.sku,
            region=alert.region,
            location=alert.location,
            category=alert.category,
            labels=dict(alert.labels),
            figures=dict(alert.figures),
            link=device_link(self.public_url, alert.serial) if alert.serial else None,
        )

    async def commit(self) -> None:
        """Write the timeline rows and stage the events; commit too unless the caller
        owns the transaction."""
        await self.assets.add_history(self._history)
        await self._outbox.insert(self.session, self._staged)
        self._history = []
        self._staged = []
        await self.finish()
