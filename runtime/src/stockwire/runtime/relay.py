"""The outbox relay: publishes committed outbox rows to Kafka with acks=all, in batches.

It wakes on LISTEN/NOTIFY and polls as a fallback, so a lost notification (or a relay
that started late) delays an event by at most one poll interval. Several relays may run
against one database: rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a relay only
takes rows of shards whose advisory lock it holds, so every row is published by one relay
and one key's events leave in the order they were written.

A row is marked sent only after the broker acknowledged it; a relay killed in between
leaves it unsent and it is published again (at-least-once; consumers' inboxes de-duplicate).
A relay that fails (database, broker, or anything unexpected) retries with backoff until
it is cancelled, and says in :meth:`OutboxRelay.health` whether it is publishing.
"""

import asyncio
import contextlib
import functools
import json
import logging
import time

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry import trace

from stockwire.runtime.db import connect
from stockwire.runtime.metrics import (
    OUTBOX_OLDEST_UNSENT_AGE,
    OUTBOX_PUBLISH_SECONDS,
    OUTBOX_PUBLISHED,
    OUTBOX_RELAY_FAILURES,
    OUTBOX_UNSENT,
)
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import OUTBOX_CHANNEL
from stockwire.runtime.telemetry import one_line
from stockwire.runtime.transient import backoff_s

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

MAX_BATCH_BYTES = 512 * 1024
"""Record batch size; below Kafka's default message.max.bytes (1 MiB)."""

CLOSE_TIMEOUT_S = 2.0
"""How long closing a database connection politely may take before it is cut."""

ADVISORY_NAMESPACE = 0x5354  # "ST": keeps our advisory locks apart from anyone else's

CLAIM = """
SELECT id, topic, key, envelope::text AS envelope, headers::text AS headers
FROM outbox
WHERE sent_at IS NULL AND pg_try_advisory_xact_lock($1, shard)
ORDER BY id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""

MARK_SENT = "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])"

BACKLOG = """
SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS unsent,
       (SELECT extract(epoch FROM now() - created_at)::float8 FROM outbox
        WHERE sent_at IS NULL ORDER BY id LIMIT 1) AS oldest_age_s
"""
"""Both read the partial index on unsent rows: the count, and the first row by id (the
oldest but for a slow writer's transaction committing late)."""


def create_producer(settings: Settings, client_id: str) -> AIOKafkaProducer:
    """The relay's producer. Its metadata, and with it each topic's partition count, is
    refreshed every ``outbox_metadata_max_age_s``, so relays agree on where a key goes
    soon after partitions are added."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=5,
        max_batch_size=MAX_BATCH_BYTES,
        request_timeout_ms=round(settings.outbox_publish_timeout_s * 1000),
        metadata_max_age_ms=round(settings.outbox_metadata_max_age_s * 1000),
    )


DATABASE_SIDE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
"""Failures of the database side; aiokafka wraps its own socket errors in KafkaError."""


def _producer_survives(error: BaseException) -> bool:
    """True if the producer recovers from ``error`` by itself: a database failure, or a
    broker answer Kafka calls retriable. Anything else (a timed-out send, a non-retriable
    answer, an unexpected exception) gets a new producer."""
    if isinstance(error, KafkaError):
        return bool(error.retriable)
    return isinstance(error, DATABASE_SIDE)


class OutboxRelay:
    """Publishes one service's outbox. ``run()`` until cancelled; ``publish_pending()`` once."""

    def __init__(self, settings: Settings, service: str) -> None:
        self._settings = settings
        self._service = service
        self._url = settings.service_url(service)
        self._producer: AIOKafkaProducer | None = None
        self._wakeup = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._listener: asyncpg.Connection | None = None
        self._partitioner = DefaultPartitioner()
        self._last_success = time.monotonic()
        self._busy = False
        self._failing: str | None = None

    async def start(self) -> None:
        """Connect the producer; it is made here, not in __init__, because aiokafka binds
        it to the running event loop and a service is wired before its loop starts."""
        await self._start_producer()
        self._last_success = time.monotonic()

    async def stop(self) -> None:
        await self._close_connections()
        await self._stop_producer()

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows; returns how many were published."""
        if self._producer is None:
            raise RuntimeError("OutboxRelay.start() must be awaited before publishing")
        producer = self._producer
        conn = await self._connection()
        async with conn.transaction():
            claimed_at = time.perf_counter()
            rows = await conn.fetch(CLAIM, ADVISORY_NAMESPACE, self._settings.outbox_batch_size)
            if not rows:
                return 0
            with tracer.start_as_current_span(
                "outbox publish", attributes={"stockwire.outbox.rows": len(rows)}
            ):
                await asyncio.gather(*await self._send(producer, rows))
            acknowledged = time.perf_counter() - claimed_at
            await conn.execute(MARK_SENT, [row["id"] for row in rows])
        OUTBOX_PUBLISH_SECONDS.labels(self._service).observe(acknowledged)
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def observe_backlog(self) -> None:
        """Set the backlog gauges: unsent rows and the age of the oldest, in one query."""
        row = await (await self._connection()).fetchrow(BACKLOG)
        assert row is not None, "an aggregate query returns one row"
        OUTBOX_UNSENT.labels(self._service).set(row["unsent"])
        OUTBOX_OLDEST_UNSENT_AGE.labels(self._service).set(row["oldest_age_s"] or 0.0)

    async def _send(
        self, producer: AIOKafkaProducer, rows: list[asyncpg.Record]
    ) -> list[asyncio.Future[object]]:
        """Hand the rows to the producer as one record batch per partition, in row order.

        Building batches ourselves costs a fraction of one ``send()`` per record; the
        partition is the one Kafka's default partitioner picks for the key, as any
        other client would, so a key's events share a partition. Partition counts come
        from the producer's metadata, which it refreshes every
        ``outbox_metadata_max_age_s``, and which a failed round refreshes at once.
        """
        partitions_of: dict[str, list[int]] = {}
        by_partition: dict[tuple[str, int], list[asyncpg.Record]] = {}
        for row in rows:
            topic = row["topic"]
            partitions = partitions_of.get(topic)
            if partitions is None:
                partitions = sorted(await producer.partitions_for(topic))
                partitions_of[topic] = partitions
            partition = self._partitioner(row["key"].encode(), partitions, partitions)
            by_partition.setdefault((topic, partition), []).append(row)
        futures = []
        for (topic, partition), partition_rows in by_partition.items():
            batch = producer.create_batch()
            for row in partition_rows:
                key, value = row["key"].encode(), row["envelope"].encode()
                headers = list(_headers(row["headers"]))  # aiokafka takes only a list
                # A full batch refuses the record; an empty one takes any record.
                while batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        return futures

    async def run(self) -> None:
        """Publish until cancelled: drain, then sleep until notified or the poll interval
        passes.

        Any failure, of the database, of the broker or unexpected, is logged and retried
        after a backoff (``outbox_retry_initial_s`` doubling up to ``outbox_retry_max_s``),
        with new database connections and, unless the producer recovers from the failure
        by itself, a new producer. Only cancellation ends it. Every
        ``outbox_backlog_interval_s`` it also measures the backlog.
        """
        failures = 0
        next_observation = 0.0
        while True:
            self._wakeup.clear()  # a NOTIFY that arrives while draining starts another round
            self._busy = True
            try:
                while True:
                    # Measured before publishing, and while a long backlog drains: the
                    # backlog matters most when the broker is away or slow.
                    if time.monotonic() >= next_observation:
                        await self.observe_backlog()
                        next_observation = (
                            time.monotonic() + self._settings.outbox_backlog_interval_s
                        )
                    await self._ensure_ready()
                    if not await self.publish_pending():
                        break
            except Exception as error:
                delay = self._backoff(failures)
                failures += 1
                self._failed(error, delay)
                await self._recover(error)
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wakeup.wait(), timeout=self._settings.outbox_poll_interval_s
                )

    def health(self) -> str:
        """``ok``, or why the relay has not published for ``outbox_stalled_after_s``: its
        last round failed, or a round has been running all that time.

        The reason names the error's class only: an error's text can carry a host name
        or a connection string, and readiness answers anyone who asks.
        """
        stalled_for = time.monotonic() - self._last_success
        if stalled_for <= self._settings.outbox_stalled_after_s:
            return "ok"
        if self._failing is not None:
            return f"not publishing for {stalled_for:.0f} s: {self._failing}"
        if self._busy:
            return f"not publishing for {stalled_for:.0f} s: a round has not finished"
        return "ok"

    def _succeeded(self) -> None:
        self._last_success = time.monotonic()
        self._busy = False
        if self._failing is not None:
            log.info("outbox relay for %s publishes again", self._service)
        self._failing = None

    def _failed(self, error: Exception, delay: float) -> None:
        self._busy = False
        self._failing = type(error).__name__
        OUTBOX_RELAY_FAILURES.labels(self._service, self._failing).inc()
        expected = isinstance(error, (KafkaError, *DATABASE_SIDE))
        log.log(
            logging.WARNING if expected else logging.ERROR,
            "outbox relay for %s failed, retrying in %.1f s: %s",
            self._service,
            delay,
            one_line(error),
            exc_info=None if expected else error,
        )

    def _backoff(self, failures: int) -> float:
        settings = self._settings
        return backoff_s(settings.outbox_retry_initial_s, settings.outbox_retry_max_s, failures)

    async def _ensure_ready(self) -> None:
        """A producer and a LISTEN connection, made again after a failure took them or the
        server closed the listener."""
        if self._producer is None:
            await self._start_producer()
        if self._listener is None or self._listener.is_closed():
            await self._listen()

    async def _recover(self, error: Exception) -> None:
        """New database connections; a new producer unless it recovers by itself, and
        otherwise fresh metadata, since a partition count may be what the send tripped on
        (a new producer starts with fresh metadata)."""
        await self._close_connections()
        if not _producer_survives(error):
            await self._stop_producer()
        elif self._producer is not None:
            refreshed = self._producer.client.force_metadata_update()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(refreshed, timeout=self._settings.outbox_publish_timeout_s)

    async def _start_producer(self) -> None:
        producer = create_producer(self._settings, f"stockwire-{self._service}-relay")
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._producer = producer

    async def _stop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception as error:
                log.warning(
                    "outbox relay for %s: stopping its producer failed: %s",
                    self._service,
                    one_line(error),
                )

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await connect(self._settings, self._url)
        return self._conn

    async def _listen(self) -> None:
        try:
            self._listener = await connect(self._settings, self._url)
            await self._listener.add_listener(OUTBOX_CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("outbox relay for %s polls only, LISTEN failed: %s", self._service, error)

    def _notified(self, *_: object) -> None:
        self._wakeup.set()

    async def _close_connections(self) -> None:
        """Close both connections; one that does not close promptly (a failure may have
        left it mid-statement) is cut."""
        connections = (self._conn, self._listener)
        self._conn = self._listener = None
        for conn in connections:
            if conn is None or conn.is_closed():
                continue
            try:
                await asyncio.wait_for(conn.close(), timeout=CLOSE_TIMEOUT_S)
            except Exception:
                conn.terminate()


@functools.lru_cache(maxsize=1024)
def _headers(text: str) -> tuple[tuple[str, bytes], ...]:
    """The Kafka headers of an outbox row's headers column. The rows of one transaction
    share one trace context, hence one string: each is parsed once."""
    headers: dict[str, str] = json.loads(text)
    return (
        ("content-type", b"application/json"),
        *((name, value.encode()) for name, value in headers.items()),
    )
