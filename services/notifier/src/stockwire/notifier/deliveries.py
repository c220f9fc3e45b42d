"""Deliveries: the notifier's durable outbox of messages, and the worker that sends them.

A message is decided in the transaction that changed the alert state, and written there
as a ``pending`` delivery, so a decision and its message commit together or not at all.
The worker claims due deliveries with a lease, committed before it sends (``FOR UPDATE
SKIP LOCKED``, so instances share the work), sends them, and records each attempt. A kill
between sending and recording leaves the lease to expire and the delivery is sent again:
nothing is lost, and the duplicates are at most the deliveries in flight at the kill.
A failed attempt is retried with exponential backoff; after the last attempt the delivery
is ``dead`` and a dead-letter message goes to the channel's fallback.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.propagate import extract
from prometheus_client import Counter, Histogram
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.contracts.ids import new_id
from stockwire.notifier.channels import ChannelSpec, SendResult
from stockwire.notifier.configuration import ConfigurationRepository
from stockwire.notifier.rendering import Rendered
from stockwire.notifier.settings import NotifierSettings
from stockwire.notifier.tables import deliveries, delivery_attempts, threads
from stockwire.runtime.db import connect
from stockwire.runtime.metrics import LATENCY_BUCKETS
from stockwire.runtime.outbox import trace_headers
from stockwire.runtime.telemetry import one_line
from stockwire.runtime.transient import backoff_s

log = logging.getLogger(__name__)
tracer = trace.get_tracer("stockwire.notifier")

PENDING = "pending"
SENT = "sent"
DEAD = "dead"
DEAD_LETTER = "dead_letter"

# Labels stay bounded: channel names are the operator's (a handful), the outcome one of
# three. docs/operations.md says what each tells and suggests alerts.
ATTEMPTS = Counter(
    "stockwire_notifier_delivery_attempts_total",
    "Delivery attempts by channel and outcome: sent, retry (failed, tried again later) or "
    "dead (failed for the last time; the fallback is told)",
    ["channel", "outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "stockwire_notifier_delivery_attempt_duration_seconds",
    "How long one delivery attempt took, from the send to the receiver's answer, by channel",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)


@dataclass(frozen=True)
class Outgoing:
    """A rendered message for one channel, ready to be written as a pending delivery."""

    channel: str
    purpose: str
    rendered: Rendered
    recipients: tuple[str, ...] = ()
    dedup_keys: tuple[str, ...] = ()
    rule_id: uuid.UUID | None = None
    thread_key: str | None = None
    trace: dict[str, str] = field(default_factory=dict)
    """The trace the message continues (W3C headers); empty: the current one."""


@dataclass(frozen=True)
class Claimed:
    """A delivery the worker holds the lease on."""

    delivery_id: uuid.UUID
    channel: str
    spec: ChannelSpec | None
    """Where the channel sends, as configured when the delivery was claimed; None if the
    channel was deleted since."""
    purpose: str
    rendered: Rendered
    recipients: tuple[str, ...]
    dedup_keys: tuple[str, ...]
    thread_key: str | None
    thread_ref: str | None
    """The message this one answers in its channel's thread, if the channel keeps one."""
    attempt: int
    trace: dict[str, str]


Send = Callable[[Claimed], Awaitable[SendResult]]
"""Sends a claimed delivery on its channel; never raises, answers a failed attempt."""

DeadLetter = Callable[[Claimed, str], Awaitable[Outgoing | None]]
"""The message telling a fallback channel that a delivery died; None: nobody to tell."""


DELIVERY_CHANNEL = "notifier_deliveries"
"""The NOTIFY channel that wakes the delivery workers when new deliveries commit."""


async def enqueue(session: AsyncSession, outgoing: Sequence[Outgoing], now: datetime) -> None:
    """Write ``outgoing`` as pending deliveries in the caller's transaction; the workers
    are woken when it commits (a NOTIFY is delivered only then)."""
    if not outgoing:
        return
    current = trace_headers()
    await session.execute(sa.select(sa.func.pg_notify(DELIVERY_CHANNEL, "")))
    await session.execute(
        sa.insert(deliveries),
        [
            {
                "delivery_id": new_id(),
                "channel": message.channel,
                "purpose": message.purpose,
                "recipients": list(message.recipients),
                "dedup_keys": list(message.dedup_keys),
                "rule_id": message.rule_id,
                "thread_key": message.thread_key,
                "title": message.rendered.title,
                "text": message.rendered.text,
                "html": message.rendered.html,
                "markdown": message.rendered.markdown,
                "tone": message.rendered.tone,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "trace": message.trace or current,
                "created_at": now,
            }
            for message in outgoing
        ],
    )


def backoff(settings: NotifierSettings, attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): doubling, capped."""
    initial, most = settings.notifier_retry_initial_s, settings.notifier_retry_max_s
    return timedelta(seconds=backoff_s(initial, most, attempt - 1))


class DeliveryWorker:
    """Sends due deliveries until cancelled, up to ``notifier_delivery_concurrency`` at
    once, claiming more as each one finishes. It is woken by the NOTIFY of a committed
    delivery, and looks every tick besides, for retries that fall due
    and for a lost notification."""

    def __init__(
        self,
        settings: NotifierSettings,
        sessions: async_sessionmaker[AsyncSession],
        send: Send,
        dead_letter: DeadLetter,
        clock: Callable[[], datetime],
        listen_url: URL,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._send = send
        self._dead_letter = dead_letter
        self._clock = clock
        self._listen_url = listen_url
        self._woken = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        concurrency = self._settings.notifier_delivery_concurrency
        listener = await self._listen()
        try:
            while True:
                free = concurrency - len(self._in_flight)
                claimed: list[Claimed] = []
                if free > 0:
                    try:
                        claimed = await self._claim(free)
                    except Exception as error:
                        log.error("delivery worker: %s; trying again shortly", one_line(error))
                for delivery in claimed:
                    task = asyncio.create_task(self._deliver(delivery))
                    self._in_flight.add(task)
                    task.add_done_callback(self._finished)
                if free > 0 and len(claimed) == free:
                    continue
                self._woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._settings.notifier_tick_s)
        finally:
            for task in self._in_flight:
                task.cancel()
            if listener is not None:
                await listener.close()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._woken.set()

    async def _listen(self) -> asyncpg.Connection | None:
        """A connection that wakes the worker on every committed delivery; None (polling
        every tick only) if it cannot be had."""
        try:
            listener = await connect(self._settings, self._listen_url)
            await listener.add_listener(DELIVERY_CHANNEL, lambda *_: self._woken.set())
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("delivery worker polls only, LISTEN failed: %s", one_line(error))
            return None
        return listener

    async def _claim(self, limit: int) -> list[Claimed]:
        now = self._clock()
        lease = now + timedelta(seconds=self._settings.notifier_delivery_lease_s)
        due = (
            sa.select(deliveries.c.delivery_id)
            .where(
                deliveries.c.status == PENDING,
                deliveries.c.next_attempt_at <= now,
                sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            sa.update(deliveries)
            .where(deliveries.c.delivery_id.in_(due.scalar_subquery()))
            .values(lease_until=lease, attempts=deliveries.c.attempts + 1)
            .returning(deliveries)
        )
        async with self._sessions.begin() as session:
            rows = (await session.execute(claim)).mappings().all()
            refs = await _thread_refs(session, rows)
            found = await ConfigurationRepository(session).channels_named(
                row["channel"] for row in rows
            )
        return [
            Claimed(
                delivery_id=row["delivery_id"],
                channel=row["channel"],
                spec=found[row["channel"]].spec if row["channel"] in found else None,
                purpose=row["purpose"],
                rendered=Rendered(
                    title=row["title"],
                    text=row["text"],
                    html=row["html"],
                    markdown=row["markdown"],
                    tone=row["tone"],
                ),
                recipients=tuple(row["recipients"]),
                dedup_keys=tuple(row["dedup_keys"]),
                thread_key=row["thread_key"],
                thread_ref=refs.get((row["thread_key"], row["channel"])),
                attempt=row["attempts"],
                trace=dict(row["trace"]),
            )
            for row in rows
        ]

    async def _deliver(self, delivery: Claimed) -> None:
        started = self._clock()
        with tracer.start_as_current_span(
            f"deliver {delivery.purpose} to {delivery.channel}",
            context=extract(delivery.trace),
            kind=trace.SpanKind.CLIENT,
            attributes={
                "stockwire.channel": delivery.channel,
                "stockwire.delivery_id": str(delivery.delivery_id),
                "stockwire.attempt": delivery.attempt,
            },
        ) as span:
            attempt = await self._send(delivery)
            if not attempt.ok:
                span.set_status(trace.StatusCode.ERROR, attempt.error or "failed")
            try:
                await self._record(delivery, started, attempt)
            except Exception as error:
                # The lease runs out and the delivery is sent again: a duplicate, never a loss.
                log.error(
                    "delivery %s: could not record attempt %d: %s",
                    delivery.delivery_id,
                    delivery.attempt,
                    one_line(error),
                )

    async def _record(self, delivery: Claimed, started: datetime, attempt: SendResult) -> None:
        now = self._clock()
        last = delivery.attempt >= self._settings.notifier_delivery_attempts
        changes: dict[str, Any]
        if attempt.ok:
            changes = {"status": SENT, "sent_at": now, "message_ref": attempt.message_ref}
        elif last:
            changes = {"status": DEAD, "last_error": attempt.error}
        else:
            wait = backoff(self._settings, delivery.attempt)
            changes = {"last_error": attempt.error, "next_attempt_at": now + wait}
        fallback = None
        if not attempt.ok and last and delivery.purpose != DEAD_LETTER:
            try:
                fallback = await self._dead_letter(delivery, attempt.error or "failed")
            except Exception as error:
                # The delivery is dead whether or not its fallback can be told: record it.
                log.error(
                    "delivery %s is dead, and its fallback cannot be told: %s",
                    delivery.delivery_id,
                    one_line(error),
                )
        async with self._sessions.begin() as session:
            await session.execute(
                sa.insert(delivery_attempts).values(
                    delivery_id=delivery.delivery_id,
                    attempt=delivery.attempt,
                    started_at=started,
                    ok=attempt.ok,
                    error=attempt.error,
                    latency_ms=attempt.latency_ms,
                )
            )
            await session.execute(
                sa.update(deliveries)
                .where(deliveries.c.delivery_id == delivery.delivery_id)
                .values(lease_until=None, **changes)
            )
            if attempt.ok and attempt.message_ref and delivery.thread_key:
                await _keep_thread(session, delivery, attempt.message_ref)
            if fallback is not None:
                await enqueue(session, [replace(fallback, trace=delivery.trace)], now)
        outcome = SENT if attempt.ok else DEAD if last else "retry"
        ATTEMPTS.labels(delivery.channel, outcome).inc()
        ATTEMPT_SECONDS.labels(delivery.channel).observe(attempt.latency_ms / 1000)
        if attempt.ok:
            log.info(
                "delivered %s to %s in %.0f ms",
                delivery.purpose,
                delivery.channel,
                attempt.latency_ms,
            )
        else:
            log.warning(
                "delivery %s to %s failed (attempt %d%s): %s",
                delivery.delivery_id,
                delivery.channel,
                delivery.attempt,
                ", the last: dead letter" if last else "",
                attempt.error,
            )


async def _thread_refs(session: AsyncSession, rows: Sequence[Any]) -> dict[tuple[str, str], str]:
    wanted = {(row["thread_key"], row["channel"]) for row in rows if row["thread_key"]}
    if not wanted:
        return {}
    found = await session.execute(
        sa.select(threads.c.dedup_key, threads.c.channel, threads.c.message_ref).where(
            sa.tuple_(threads.c.dedup_key, threads.c.channel).in_(list(wanted))
        )
    )
    return {(key, channel): ref for key, channel, ref in found.all()}


async def _keep_thread(session: AsyncSession, delivery: Claimed, message_ref: str) -> None:
    """The first message about an alert on a channel starts its thread; later ones (the
    resolved follow-up) answer it."""
    statement = insert(threads).values(
        dedup_key=delivery.thread_key, channel=delivery.channel, message_ref=message_ref
    )
    await session.execute(statement.on_conflict_do_nothing())
