"""At-least-once consumption with an exactly-once effect, and dead letters.

For every message: decode the envelope and payload with the topic's registered models;
a message that cannot be decoded goes to ``<topic>.dlq`` with the reason in headers, and
the consumer moves on. A decoded message is applied in one transaction that also claims
its inbox row (a duplicate changes nothing), and only after that transaction commits is
the offset committed. A transient failure (database unreachable, serialization conflict)
is retried with backoff for as long as it lasts; the message is never skipped. Any other
error is retried a few times and then dead-lettered, so a poison message cannot block
its partition forever.

FastStream's default ACK_FIRST would commit before the handler runs, so subscribers here
use AckPolicy.MANUAL and commit themselves. MANUAL does nothing when the handler raises,
and the consumer's position is already past the failed poll, so a poll that fails rewinds
its partitions itself before the error escapes: no record is ever committed past unless
it was applied or dead-lettered.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, read_envelope, read_payload
from stockwire.contracts.topics import TopicSpec
from stockwire.runtime.inbox import Inbox
from stockwire.runtime.metrics import (
    CONSUMER_APPLY_SECONDS,
    CONSUMER_BATCH_SIZE,
    CONSUMER_LAG,
    CONSUMER_RETRIES,
    DEAD_LETTERS,
)
from stockwire.runtime.settings import Settings
from stockwire.runtime.telemetry import one_line
from stockwire.runtime.transient import backoff_s, is_transient

log = logging.getLogger(__name__)

Record = ConsumerRecord[bytes, bytes]
"""A record as the consumer receives it: key and value as bytes."""


@dataclass(frozen=True)
class Received:
    """A decoded message, with where it came from."""

    envelope: Envelope
    payload: Event
    topic: str
    partition: int
    offset: int
    trace: Mapping[str, str] = field(default_factory=dict)
    """The W3C trace context the record's writer sent in its headers. A batch is applied
    under one consumer span, so whatever an event causes (an outbox row, a delivery)
    continues this, its own trace, rather than the batch's."""


TRACE_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})


def trace_of(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The trace context among a record's headers (undecodable values left out)."""
    found: dict[str, str] = {}
    for name, value in headers:
        if name in TRACE_HEADERS:
            with contextlib.suppress(UnicodeDecodeError):
                found[name] = value.decode()
    return found


Handle = Callable[[AsyncSession, list[Received]], Awaitable[None]]
"""Applies new (never before applied) events, in order, inside the caller's transaction."""


DeadLetterReason = Literal[
    "tombstone", "invalid_envelope", "unknown_event_type", "invalid_payload", "handler_failed"
]
"""Why a message was dead-lettered, as a class: the ``dlq-reason-class`` header and the
``reason`` label of ``stockwire_dead_letters_total``. ``dlq-reason`` has the details."""


class InvalidMessage(Exception):
    """The message cannot be decoded into a registered payload: a dead letter."""

    def __init__(self, reason: DeadLetterReason, detail: str) -> None:
        super().__init__(detail)
        self.reason: DeadLetterReason = reason


def decode(
    spec: TopicSpec,
    value: bytes | None,
    partition: int,
    offset: int,
    headers: Sequence[tuple[str, bytes]] = (),
) -> Received:
    if value is None:
        raise InvalidMessage(
            "tombstone", "empty message (tombstone) on a topic that carries events"
        )
    try:
        envelope = read_envelope(value)
    except ValidationError as error:
        raise InvalidMessage("invalid_envelope", f"invalid envelope: {_summary(error)}") from error
    model = spec.payload_model(envelope.event_type)
    if model is None:
        detail = f"unknown event_type {envelope.event_type!r} on {spec.name}"
        raise InvalidMessage("unknown_event_type", detail)
    try:
        payload = read_payload(envelope, model)
    except ValidationError as error:
        detail = f"invalid {envelope.event_type} payload: {_summary(error, 'payload')}"
        raise InvalidMessage("invalid_payload", detail) from error
    return Received(envelope, payload, spec.name, partition, offset, trace_of(headers))


def _summary(error: ValidationError, *within: str) -> str:
    """The first few field errors as ``field.path: reason``, for the dead-letter headers."""
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in (*within, *item["loc"])) or "(message)"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)


class DeadLetters:
    """Publishes messages that cannot be processed to the topic's dead-letter topic."""

    def __init__(self, broker: KafkaBroker, consumer: str) -> None:
        self._broker = broker
        self._consumer = consumer

    async def send(
        self,
        spec: TopicSpec,
        *,
        value: bytes | None,
        key: bytes | None,
        partition: int,
        offset: int,
        reason: DeadLetterReason,
        detail: str,
        error: BaseException,
    ) -> None:
        headers = {
            "dlq-reason": detail[:2000],
            "dlq-reason-class": reason,
            "dlq-error-class": type(error).__name__,
            "dlq-source-topic": spec.name,
            "dlq-source-partition": str(partition),
            "dlq-source-offset": str(offset),
            "dlq-consumer": self._consumer,
            "dlq-failed-at": datetime.now(UTC).isoformat(),
        }
        await self._broker.publish(value or b"", spec.dlq, key=key, headers=headers)
        DEAD_LETTERS.labels(self._consumer, spec.name, reason).inc()
        log.error(
            "dead-lettered %s[%s]@%s for %s: %s",
            spec.name,
            partition,
            offset,
            self._consumer,
            detail,
        )


async def _undecoded(message: StreamMessage[Any]) -> Any:
    """Skip FastStream's JSON decoding: :func:`decode` parses each record with the
    registry's models, and decoding every body twice cost about 4% of a busy consumer."""
    return message.body


class Consumer:
    """One consumer group on one or more topics, applying events through ``handle``.

    With ``max_batch`` above 1 the subscriber receives up to that many records per poll
    (topped up for ``consumer_batch_linger_ms``) and applies them in one transaction
    (inbox claims, state change and outbox rows together), which is where throughput
    comes from. If a batch fails for a reason that is not transient, or keeps failing
    for a transient one, its records are applied one by one so a poison message is
    isolated and dead-lettered while the rest go through. ``members`` group members run
    in this process, each applying its own partitions in order, so one can apply a batch
    while another waits on the database. The consumer's name is its group id (after the
    prefix) and its inbox name.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        broker: KafkaBroker,
        topics: Sequence[TopicSpec],
        consumer: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Inbox,
        handle: Handle,
        max_batch: int = 1,
        members: int = 1,
    ) -> None:
        self._settings = settings
        self._topics = {spec.name: spec for spec in topics}
        self._consumer = consumer
        self._sessions = sessions
        self._inbox = inbox
        self._handle = handle
        self._dead_letters = DeadLetters(broker, consumer)
        self._max_batch = max_batch
        self._escaped = 0  # polls in a row that failed; the backoff grows with them
        options: dict[str, Any] = {"batch": True, "max_records": max_batch} if max_batch > 1 else {}
        names = ", ".join(self._topics)
        for member in range(1, members + 1):
            subscriber = broker.subscriber(
                *self._topics,
                group_id=settings.consumer_group_prefix + consumer,
                ack_policy=AckPolicy.MANUAL,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
                decoder=_undecoded,
                title=f"{consumer}:{names}" + (f"#{member}" if member > 1 else ""),
                description=f"{consumer} applies {names}",
                listener=_ForgetRevokedLag(consumer),
                **options,
            )
            subscriber(self.on_message)

    async def on_message(self, message: KafkaMessage) -> None:
        """Apply or dead-letter every record of the poll, then commit.

        If anything escapes (a fetch while topping up, a dead letter that cannot be
        published, a commit), FastStream's MANUAL policy neither commits nor rewinds: it
        logs the error and fetches on from the consumer's position, already past this
        poll, so the next commit would skip whatever was not done. So each partition of
        the poll is first sought back to its first record neither applied nor
        dead-lettered, nothing is committed, and the error is raised after a backoff.
        """
        raw = message.raw_message
        records = list(raw) if isinstance(raw, tuple) else [raw]
        done: set[tuple[str, int, int]] = set()
        try:
            if isinstance(raw, tuple):
                await self._top_up(message, records)
            started = time.perf_counter()
            await self._apply_or_dead_letter(records, done)
            await self._commit(message)
            CONSUMER_APPLY_SECONDS.labels(self._consumer).observe(time.perf_counter() - started)
            CONSUMER_BATCH_SIZE.labels(self._consumer).observe(len(records))
            self._record_lag(message, records)
        except BaseException as error:
            self._rewind(message, records, done, error)
            if isinstance(error, Exception):
                await asyncio.sleep(self._backoff(self._escaped))
                self._escaped += 1
            raise
        self._escaped = 0

    async def _apply_or_dead_letter(
        self, records: list[Record], done: set[tuple[str, int, int]]
    ) -> None:
        """Apply the records' events (together if possible) and dead-letter the rest,
        adding to ``done`` each record once it is applied or dead-lettered."""
        batch: list[tuple[Received, Record]] = []
        for record in records:
            try:
                spec = self._topics[record.topic]
                received = decode(
                    spec, record.value, record.partition, record.offset, record.headers
                )
            except InvalidMessage as error:
                await self._dead_letter(record, error.reason, str(error), error)
                done.add(_position(record))
            else:
                batch.append((received, record))
        if len(batch) > 1 and await self._apply_together(batch):
            done.update(_position(record) for _, record in batch)
            return
        for item in batch:
            await self._apply_alone(*item)
            done.add(_position(item[1]))

    def _record_lag(self, message: KafkaMessage, records: list[Record]) -> None:
        """Lag of each partition of the poll: its high watermark as the last fetch
        reported it, less the position after the poll's last record. Partitions without
        records in a poll keep their last value; a revoked one is forgotten."""
        consumer = message.consumer
        if not isinstance(consumer, AIOKafkaConsumer):
            return
        next_offsets: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            next_offsets[partition] = max(next_offsets.get(partition, 0), record.offset + 1)
        for partition, next_offset in next_offsets.items():
            highwater = consumer.highwater(partition)
            if highwater is not None:
                CONSUMER_LAG.labels(self._consumer, partition.topic, str(partition.partition)).set(
                    max(highwater - next_offset, 0)
                )

    def _rewind(
        self,
        message: KafkaMessage,
        records: list[Record],
        done: set[tuple[str, int, int]],
        error: BaseException,
    ) -> None:
        """Seek each partition of ``records`` back to its first record not in ``done``."""
        first: dict[TopicPartition, int] = {}
        for record in records:
            if _position(record) in done:
                continue
            partition = TopicPartition(record.topic, record.partition)
            first[partition] = min(first.get(partition, record.offset), record.offset)
        for partition, offset in first.items():
            try:
                message.consumer.seek(partition, offset)
            except IllegalStateError:
                # Revoked meanwhile: its next owner starts from the last commit, which is
                # not past this record.
                continue
            log.warning(
                "%s rewound %s[%s] to %s after %s",
                self._consumer,
                partition.topic,
                partition.partition,
                offset,
                one_line(error),
            )

    async def _top_up(self, message: KafkaMessage, records: list[Record]) -> None:
        """Fill the batch from the consumer that delivered it, for up to the linger time.

        A poll returns only what the fetches so far have buffered, which on a busy event
        loop is often a few dozen records while thousands wait; a transaction costs
        mostly per batch, so applying each poll alone wasted most of it. Records taken
        here are applied and committed with the rest of the batch.
        """
        linger = self._settings.consumer_batch_linger_ms / 1000
        loop = asyncio.get_running_loop()
        deadline = loop.time() + linger
        consumer = message.consumer
        assert isinstance(consumer, AIOKafkaConsumer), "a Kafka message comes from aiokafka"
        while len(records) < self._max_batch:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            more = await consumer.getmany(
                timeout_ms=int(remaining * 1000), max_records=self._max_batch - len(records)
            )
            for partition_records in more.values():
                records.extend(partition_records)

    async def _transaction(self, batch: list[Received]) -> None:
        async with self._sessions.begin() as session:
            claimed = await self._inbox.claim_many(
                session, self._consumer, [received.envelope.event_id for received in batch]
            )
            fresh = []
            for received in batch:
                if received.envelope.event_id in claimed:
                    claimed.discard(received.envelope.event_id)
                    fresh.append(received)
            if fresh:
                await self._handle(session, fresh)

    async def _apply_together(self, batch: list[tuple[Received, Record]]) -> bool:
        """Apply the batch in one transaction; False if it should be applied one by one.

        That is after a failure that is not transient, and after
        ``consumer_max_handler_failures`` transient ones in a row: a batch too large for
        the statement timeout, or for the server's memory, fails the same way every time,
        while its records one at a time may not. Records applied alone still wait out an
        outage, one transaction at a time.
        """
        attempt = 0
        while True:
            try:
                await self._transaction([received for received, _ in batch])
                return True
            except Exception as error:
                attempt += 1
                persistent = attempt >= self._settings.consumer_max_handler_failures
                if persistent or not is_transient(error):
                    log.warning(
                        "%s batch of %d failed, applying one by one: %s",
                        self._consumer,
                        len(batch),
                        one_line(error),
                    )
                    return False
                self._log_retry(batch[0][0], error, transient=True)
                await asyncio.sleep(self._backoff(attempt - 1))

    async def _apply_alone(self, received: Received, record: Record) -> None:
        """Apply one message exactly once in effect; retry transient failures until it
        sticks, dead-letter it after repeated other failures."""
        attempt = 0
        failures = 0
        while True:
            try:
                await self._transaction([received])
                return
            except Exception as error:
                transient = is_transient(error)
                if not transient:
                    failures += 1
                    if failures >= self._settings.consumer_max_handler_failures:
                        detail = f"handler failed {failures} times: {error!r}"
                        await self._dead_letter(record, "handler_failed", detail, error)
                        return
                self._log_retry(received, error, transient=transient)
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1

    def _log_retry(self, received: Received, error: BaseException, *, transient: bool) -> None:
        CONSUMER_RETRIES.labels(self._consumer, "transient" if transient else "failure").inc()
        log.warning(
            "%s retrying %s[%s]@%s after %s",
            self._consumer,
            received.topic,
            received.partition,
            received.offset,
            one_line(error),
        )

    def _backoff(self, attempt: int) -> float:
        settings = self._settings
        return backoff_s(settings.consumer_retry_initial_s, settings.consumer_retry_max_s, attempt)

    async def _dead_letter(
        self, record: Record, reason: DeadLetterReason, detail: str, error: BaseException
    ) -> None:
        attempt = 0
        while True:
            try:
                await self._dead_letters.send(
                    self._topics[record.topic],
                    value=record.value,
                    key=record.key,
                    partition=record.partition,
                    offset=record.offset,
                    reason=reason,
                    detail=detail,
                    error=error,
                )
                return
            except KafkaError as publish_error:
                log.warning("dead-letter publish failed, retrying: %s", publish_error)
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1

    async def _commit(self, message: KafkaMessage) -> None:
        try:
            await message.ack()
        except CommitFailedError as error:
            log.warning(
                "%s offset commit failed during a rebalance; the message will be redelivered "
                "and the inbox will skip it: %s",
                self._consumer,
                error,
            )


def _position(record: Record) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


class _ForgetRevokedLag(ConsumerRebalanceListener):
    """Drops the lag of partitions this member no longer owns, so a partition that moved
    to another member or instance is not reported, stale, twice."""

    def __init__(self, consumer: str) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        for partition in revoked:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self._consumer, partition.topic, str(partition.partition))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do: an assigned partition's lag appears with its first records."""
