"""The outbox relay: publishes committed outbox rows to Kafka with acks=all, in batches.

It wakes on LISTEN/NOTIFY and polls as a fallback, so a lost notification (or a relay
that started late) delays an event by at most one poll interval. Several relays may run
against one database: rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a relay only
takes rows of shards whose advisory lock it holds, so every row is published by one relay
and one key's events leave in the order they were written.

A row is marked sent only after the broker acknowledged it; a relay killed in between
leaves it unsent and it is published again (at-least-once; consumers' inboxes de-duplicate).
"""

import asyncio
import contextlib
import functools
import json
import logging
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry import trace
from prometheus_client import Counter

from stockwire.runtime.db import connect
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import OUTBOX_CHANNEL

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

PUBLISHED = Counter("stockwire_outbox_published_total", "Outbox rows published", ["service"])

MAX_BATCH_BYTES = 512 * 1024
"""Record batch size; below Kafka's default message.max.bytes (1 MiB)."""

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

PURGE = "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - $1::interval"


def create_producer(settings: Settings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=5,
        max_batch_size=MAX_BATCH_BYTES,
    )


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
        self._partitions: dict[str, list[int]] = {}

    async def start(self) -> None:
        """Connect the producer; it is made here, not in __init__, because aiokafka binds
        it to the running event loop and a service is wired before its loop starts."""
        self._producer = create_producer(self._settings, f"stockwire-{self._service}-relay")
        await self._producer.start()

    async def stop(self) -> None:
        for conn in (self._listener, self._conn):
            if conn is not None and not conn.is_closed():
                await conn.close()
        self._listener = self._conn = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows; returns how many were published."""
        if self._producer is None:
            raise RuntimeError("OutboxRelay.start() must be awaited before publishing")
        producer = self._producer
        conn = await self._connection()
        async with conn.transaction():
            rows = await conn.fetch(CLAIM, ADVISORY_NAMESPACE, self._settings.outbox_batch_size)
            if not rows:
                return 0
            with tracer.start_as_current_span(
                "outbox publish", attributes={"stockwire.outbox.rows": len(rows)}
            ):
                await asyncio.gather(*await self._send(producer, rows))
            await conn.execute(MARK_SENT, [row["id"] for row in rows])
        PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def _send(
        self, producer: AIOKafkaProducer, rows: list[asyncpg.Record]
    ) -> list[asyncio.Future[object]]:
        """Hand the rows to the producer as one record batch per partition, in row order.

        Building batches ourselves costs a fraction of one ``send()`` per record; the
        partition is the one Kafka's default partitioner picks for the key, as any
        other client would, so a key's events share a partition.
        """
        by_partition: dict[tuple[str, int], list[asyncpg.Record]] = {}
        for row in rows:
            topic = row["topic"]
            partitions = self._partitions.get(topic)
            if partitions is None:
                partitions = sorted(await producer.partitions_for(topic))
                self._partitions[topic] = partitions
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

    async def purge_sent(self) -> int:
        return await purge_sent(await self._connection(), self._settings)

    async def run(self) -> None:
        """Publish forever: drain, then sleep until notified or the poll interval passes."""
        await self._listen()
        purge_every = 3600.0
        since_purge = purge_every
        while True:
            try:
                while await self.publish_pending():
                    pass
                if since_purge >= purge_every:
                    await self.purge_sent()
                    since_purge = 0.0
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("outbox relay for %s will retry: %s", self._service, error)
                await self._reset_connections()
            self._wakeup.clear()
            interval = self._settings.outbox_poll_interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=interval)
            since_purge += interval

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

    async def _reset_connections(self) -> None:
        for conn in (self._conn, self._listener):
            if conn is not None and not conn.is_closed():
                conn.terminate()
        self._conn = self._listener = None
        await self._listen()


async def purge_sent(conn: asyncpg.Connection, settings: Settings) -> int:
    """Delete rows sent longer ago than the retention window; returns how many."""
    status = await conn.execute(PURGE, timedelta(hours=settings.outbox_retention_hours))
    return int(status.split()[-1])


@functools.lru_cache(maxsize=1024)
def _headers(text: str) -> tuple[tuple[str, bytes], ...]:
    """The Kafka headers of an outbox row's headers column. The rows of one transaction
    share one trace context, hence one string: each is parsed once."""
    headers: dict[str, str] = json.loads(text)
    return (
        ("content-type", b"application/json"),
        *((name, value.encode()) for name, value in headers.items()),
    )
