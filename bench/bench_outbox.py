"""Outbox throughput: events staged in service transactions, then relayed to Kafka.

Writes N catalog events through OutboxWriter in transactions of B events (as a batch
consumer would), then runs one relay until every row is published with acks=all, then
reads the topic back to prove nothing was lost. Uses the same broker and PostgreSQL the
tests use (Tansu and an embedded or local PostgreSQL unless KAFKA_BOOTSTRAP_SERVERS /
DATABASE_URL say otherwise).

    make bench-outbox            # N=50000, B=500
    BENCH_EVENTS=200000 make bench-outbox
"""

import asyncio
import json
import os
import resource
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from report import progress, report

from stockwire.contracts.catalog import (
    CatalogItemUpserted,
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    TrackingMode,
)
from stockwire.contracts.topics import TopicSpec
from stockwire.devstack.teststack import test_stack
from stockwire.runtime.db import create_engine, ensure_database, session_factory
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.relay import OutboxRelay
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import define_messaging_tables

SERVICE = "bench_outbox"
EVENTS = int(os.environ.get("BENCH_EVENTS", "50000"))
BATCH = int(os.environ.get("BENCH_BATCH", "500"))
PARTITIONS = 6

metadata = sa.MetaData()
MESSAGING = define_messaging_tables(metadata)


def event(n: int) -> CatalogItemUpserted:
    return CatalogItemUpserted(
        sku=f"SKU-{n % 2000:05d}",
        name="XGS-PON ONT",
        manufacturer="Nokia",
        category=Category.ONT,
        tracking_mode=TrackingMode.SERIAL,
        unit="each",
        handling_class=HandlingClass.ESD_SENSITIVE,
        criticality=Criticality.HIGH,
        unit_cost=Decimal("92.10"),
        currency="EUR",
        default_lead_time_days=28,
        status=ItemStatus.ACTIVE,
        version=n // 2000 + 1,
        updated_at=datetime.now(UTC),
    )


async def scratch_topic(settings: Settings) -> TopicSpec:
    spec = TopicSpec(
        name=f"bench.outbox-{uuid.uuid4().hex[:10]}.v1",
        owner="bench",
        key="sku",
        key_of=lambda p: p.sku,
        payloads=(CatalogItemUpserted,),
        partitions=PARTITIONS,
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(spec.name, PARTITIONS, 1)])
    finally:
        await admin.close()
    return spec


async def count_records(settings: Settings, topic: str) -> int:
    """Distinct events on the topic, read back from the start.

    Counted by reading, not from end offsets: Tansu reports a partition's end offset as
    the base offset of its last batch, which undercounts.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        event_ids: set[str] = set()
        idle_polls = 0
        while idle_polls < 3:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            idle_polls = 0 if batch else idle_polls + 1
            for records in batch.values():
                event_ids.update(
                    json.loads(r.value)["event_id"] for r in records if r.value is not None
                )
        return len(event_ids)
    finally:
        await consumer.stop()


async def run(settings: Settings) -> None:
    await ensure_database(settings, SERVICE)
    engine = create_engine(settings, SERVICE)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.delete(MESSAGING.outbox))
    sessions = session_factory(engine)
    spec = await scratch_topic(settings)
    writer = OutboxWriter(MESSAGING, producer="bench")

    progress(f"staging {EVENTS} events in transactions of {BATCH} ...")
    started = time.perf_counter()
    for first in range(0, EVENTS, BATCH):
        async with sessions.begin() as session:
            events = [event(n) for n in range(first, min(first + BATCH, EVENTS))]
            await writer.add_many(session, events, topic=spec)
    write_s = time.perf_counter() - started
    progress(f"staged in {write_s:.1f}s; relaying ...")

    relay = OutboxRelay(settings, SERVICE)
    await relay.start()
    started = time.perf_counter()
    published = 0
    try:
        while published < EVENTS:
            published += await relay.publish_pending()
            if published and published % 10000 < settings.outbox_batch_size:
                progress(f"  {published} published")
    finally:
        await relay.stop()
    relay_s = time.perf_counter() - started
    on_topic = await count_records(settings, spec.name)
    await engine.dispose()

    report(
        "outbox",
        {
            "events": EVENTS,
            "write_per_s": EVENTS / write_s,
            "relay_per_s": EVENTS / relay_s,
            "records_on_topic": on_topic,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
        {
            "relay_per_s": (">=", 10_000),
            "records_on_topic": (">=", EVENTS),
        },
    )


def main() -> None:
    with test_stack() as settings:
        asyncio.run(run(settings.model_copy(update={"database_prefix": "stockwire_bench_"})))


if __name__ == "__main__":
    main()
