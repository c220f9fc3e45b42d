"""One stock transaction: the repository over one session, and the outbox in it.

An HTTP request opens its own session and commits it. A consumer hands in the session of
the transaction it already opened (with its inbox claims), and commits that itself once
the handler returns; the unit of work then only stages the outgoing events.

On commit every event the books recorded becomes an outbox row in the same transaction,
then one ``stock.level.changed`` per SKU x location the transaction changed, carrying
its level after the whole transaction (so a batch of a thousand movements on one SKU
publishes one level, the latest).

Alerts and their resolutions get here with everything the domain knows (region and
category from the catalog copy, figures, labels); the unit of work adds what only the
deployment knows: the ``link`` to stock's own API for the thing alerted about, under the
public base URL it is given (``STOCKWIRE_STOCK_PUBLIC_URL``).

A consumer applies a whole batch under one consumer span, so an event staged in it would
continue the batch's trace; instead each event caused by one of the batch's events is
staged with that event's own trace context (:attr:`Received.trace`), and a trace runs
from an FSM event, through the alert it caused, to the chat message the notifier sends.
"""

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.contracts.alerts import MAX_LABELS
from stockwire.contracts.base import Event
from stockwire.contracts.stock import (
    AlertKind,
    StockAlertRaised,
    StockAlertResolved,
    StockLevelChanged,
    StockMovementRecorded,
    StockMovementRejected,
)
from stockwire.runtime.causes import Causes
from stockwire.runtime.consumer import Received
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.unit_of_work import SessionScope, utc_now
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.events import Alert, Movement, Rejection, Resolution
from stockwire.stock.domain.model import Policy
from stockwire.stock.repository import StockRepository

ACTOR_MAX = 128
DEDUP_KEY_MAX = 256
LABEL_VALUE_MAX = 256
LINK_MAX = 2048


def movement_payload(m: Movement) -> StockMovementRecorded:
    return StockMovementRecorded(
        movement_id=m.movement_id,
        kind=m.kind,
        reason_code=m.reason_code,
        sku=m.sku,
        location=m.location,
        from_location=m.from_location,
        to_location=m.to_location,
        quantity=m.quantity,
        lot=m.lot or None,
        serial=m.serial or None,
        condition=m.condition,
        job_id=m.job_id,
        po_number=m.po_number,
        transfer_id=m.transfer_id,
        count_id=m.count_id,
        actor=m.actor[:ACTOR_MAX],
        source_event_id=m.source_event_id,
        recorded_at=m.recorded_at,
        note=m.note,
    )


def rejection_payload(r: Rejection) -> StockMovementRejected:
    return StockMovementRejected(
        kind=r.kind,
        reason=r.reason,
        message=r.message,
        sku=r.sku,
        location=r.location,
        quantity=r.quantity,
        serial=r.serial,
        lot=r.lot,
        job_id=r.job_id,
        actor=r.actor[:ACTOR_MAX],
        source_event_id=r.source_event_id,
    )


def published_dedup_key(dedup_key: str) -> str:
    """``dedup_key`` within the contract's 256 characters: a longer one keeps its start and
    ends in a digest of the whole, so an alert and its resolution still share it."""
    if len(dedup_key) <= DEDUP_KEY_MAX:
        return dedup_key
    return f"{dedup_key[: DEDUP_KEY_MAX - 33]}#{uuid.uuid5(uuid.NAMESPACE_URL, dedup_key).hex}"


def published_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """At most the contract's number of labels, each value within its length."""
    return {
        name: value[:LABEL_VALUE_MAX] for name, value in list(sorted(labels.items()))[:MAX_LABELS]
    }


def alert_link(
    base: str, kind: AlertKind, sku: str, location: str, labels: Mapping[str, str]
) -> str | None:
    """Where stock's API shows the thing alerted about: the count, the serial, the
    transfers between the two locations, else the balance of the SKU at the location.
    None if it would not fit the contract's length."""
    if kind == AlertKind.COUNT_VARIANCE and "count_id" in labels:
        path = f"/api/v1/counts/{quote(labels['count_id'], safe='')}"
    elif kind == AlertKind.SERIAL_CONFLICT and "serial" in labels:
        path = f"/api/v1/serials/{quote(labels['serial'], safe='')}"
    elif kind == AlertKind.TRANSFER_DISCREPANCY and "from_location" in labels:
        query = {"sku": sku, "from_location": labels["from_location"], "to_location": location}
        path = f"/api/v1/transfers?{urlencode(query)}"
    else:
        path = f"/api/v1/balances?{urlencode({'sku': sku, 'location': location})}"
    link = base + path
    return link if len(link) <= LINK_MAX else None


def alert_payload(a: Alert, base_url: str) -> StockAlertRaised:
    return StockAlertRaised(
        alert_id=a.alert_id,
        kind=a.kind,
        severity=a.severity,
        dedup_key=published_dedup_key(a.dedup_key),
        summary=a.summary,
        sku=a.sku,
        location=a.location,
        region=a.region,
        category=a.category,
        labels=published_labels(a.labels),
        figures=a.figures,
        link=alert_link(base_url, a.kind, a.sku, a.location, a.labels),
        serial=a.serial,
        expected_quantity=a.expected_quantity,
        actual_quantity=a.actual_quantity,
        transfer_id=a.transfer_id,
        count_id=a.count_id,
        job_id=a.job_id,
        source_event_id=a.source_event_id,
        raised_at=a.raised_at,
    )


def resolution_payload(r: Resolution, base_url: str) -> StockAlertResolved:
    return StockAlertResolved(
        kind=r.kind,
        dedup_key=published_dedup_key(r.dedup_key),
        summary=r.summary,
        sku=r.sku,
        location=r.location,
        region=r.region,
        category=r.category,
        labels=published_labels(r.labels),
        figures=r.figures,
        link=alert_link(base_url, r.kind, r.sku, r.location, r.labels),
        resolved_at=r.resolved_at,
        source_event_id=r.source_event_id,
    )


def book_payloads(book: StockBook, base_url: str) -> list[tuple[Event, uuid.UUID | None]]:
    """The book's events in the order they happened, then the changed levels, each with
    the id of the event that caused it (a level: the cause of its last movement). Alert
    links start with ``base_url``, stock's public URL."""
    payloads: list[tuple[Event, uuid.UUID | None]] = []
    sources: dict[uuid.UUID, uuid.UUID | None] = {}
    for event in book.events:
        if isinstance(event, Movement):
            sources[event.movement_id] = event.source_event_id
            payloads.append((movement_payload(event), event.source_event_id))
        elif isinstance(event, Rejection):
            payloads.append((rejection_payload(event), event.source_event_id))
        elif isinstance(event, Alert):
            payloads.append((alert_payload(event, base_url), event.source_event_id))
        else:
            payloads.append((resolution_payload(event, base_url), event.source_event_id))
    for pair, movement_id in sorted(book.touched.items()):
        level = book.state.level(pair)
        level_event = StockLevelChanged(
            sku=pair.sku,
            location=pair.location,
            on_hand=level.on_hand,
            reserved=level.reserved,
            in_transit_in=level.in_transit_in,
            in_transit_out=level.in_transit_out,
            available=level.available,
            as_of=book.now,
            last_movement_id=movement_id,
        )
        payloads.append((level_event, sources.get(movement_id) if movement_id else None))
    return payloads


class StockUnitOfWork(SessionScope):
    stock: StockRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        outbox: OutboxWriter,
        policy: Policy,
        clock: Callable[[], datetime] = utc_now,
        *,
        public_url: str,
        session: AsyncSession | None = None,
        causes: Sequence[Received] = (),
    ) -> None:
        super().__init__(sessions, session=session, clock=clock)
        self._outbox = outbox
        self.policy = policy
        self._public_url = public_url
        self._causes = Causes(causes)
        self._books: list[StockBook] = []

    @classmethod
    def within(
        cls,
        session: AsyncSession,
        outbox: OutboxWriter,
        policy: Policy,
        causes: Sequence[Received] = (),
        *,
        public_url: str,
    ) -> "StockUnitOfWork":
        """A unit of work inside the caller's transaction, which applies ``causes``: the
        events a consumer received, with the trace context each was written in."""
        return cls(None, outbox, policy, public_url=public_url, session=session, causes=causes)

    def opened(self) -> None:
        self.stock = StockRepository(self.session)
        self._books = []

    def record(self, book: StockBook) -> None:
        """Publish what ``book`` recorded when the unit of work commits."""
        self._books.append(book)

    async def commit(self) -> None:
        """Stage every recorded event in the outbox; commit too unless the caller owns
        the transaction.

        Each is staged in the flow of the applied event that caused it
        (:class:`~stockwire.runtime.causes.Causes`).
        """
        now = self.now()
        rows = [
            self._causes.stage(self._outbox, payload, source, occurred_at=now)
            for book in self._books
            for payload, source in book_payloads(book, self._public_url)
        ]
        await self._outbox.insert(self.session, rows)
        self._books = []
        await self.finish()
