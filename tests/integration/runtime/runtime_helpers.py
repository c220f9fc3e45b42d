"""The probe service database, building payloads and reading topics back, for runtime tests."""

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from stockwire.contracts.catalog import (
    CatalogItemUpserted,
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    TrackingMode,
)
from stockwire.contracts.envelope import wrap
from stockwire.contracts.topics import CleanupPolicy, TopicSpec
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import define_messaging_tables

PROBE_SERVICE = "runtime_probe"
"""The runtime tests' own service database: messaging tables plus a table to apply into."""

metadata = sa.MetaData()
MESSAGING = define_messaging_tables(metadata)
applied = sa.Table(
    "applied",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("consumer", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
)


def item_event(sku: str | None = None, version: int = 1) -> CatalogItemUpserted:
    return CatalogItemUpserted(
        sku=sku or f"ONT-{uuid.uuid4().hex[:8].upper()}",
        name="GPON ONT 4-port",
        manufacturer="Nokia",
        category=Category.ONT,
        tracking_mode=TrackingMode.SERIAL,
        unit="each",
        handling_class=HandlingClass.ESD_SENSITIVE,
        criticality=Criticality.HIGH,
        unit_cost=Decimal("84.50"),
        currency="EUR",
        default_lead_time_days=21,
        status=ItemStatus.ACTIVE,
        version=version,
        updated_at=datetime.now(UTC),
    )


async def read_all(
    settings: Settings, topic: str, *, expect: int, timeout_s: float = 30.0
) -> list[ConsumerRecord]:
    """Every record on ``topic`` from the start, waiting until ``expect`` have arrived.

    Partitions are assigned by hand (no consumer group), so reading starts at once.
    Returns early with fewer records only when the timeout passes.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise AssertionError(f"topic {topic} does not exist on the broker")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        records: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(records) < expect and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
        if len(records) >= expect:
            extra = await consumer.getmany(timeout_ms=1000)
            for partition_records in extra.values():
                records.extend(partition_records)
        return records
    finally:
        await consumer.stop()


async def applied_skus(sessions, consumer: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            sa.select(applied.c.sku).where(applied.c.consumer == consumer).order_by(applied.c.id)
        )
        return list(rows)


async def wait_for(condition, timeout_s: float = 40.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.2)


async def publish_raw(settings, topic: str, values: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value in values:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


def envelope_bytes(event: CatalogItemUpserted) -> bytes:
    """The event as a producer puts it on the wire."""
    return wrap(event, producer="tests").model_dump_json().encode()


def topic_spec(name: str, partitions: int = 1) -> TopicSpec:
    """A topic carrying catalog item payloads, keyed by SKU, for the runtime's tests."""
    return TopicSpec(
        name=name,
        owner="tests",
        key="sku",
        key_of=lambda p: p.sku,
        payloads=(CatalogItemUpserted,),
        partitions=partitions,
        cleanup_policy=CleanupPolicy.DELETE,
    )


async def add_outbox_rows(sessions, count: int, *, sent_days_ago: float | None) -> list[int]:
    """``count`` rows, sent that many days ago (None: not sent); returns their ids."""
    outbox = MESSAGING.outbox
    async with sessions.begin() as session:
        staged = await OutboxWriter(MESSAGING, producer="tests").add_many(
            session, [item_event() for _ in range(count)]
        )
        event_ids = [row.event_id for row in staged]
        ids = list(
            await session.scalars(sa.select(outbox.c.id).where(outbox.c.event_id.in_(event_ids)))
        )
        if sent_days_ago is not None:
            await session.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(sent_at=sa.func.now() - sa.text(f"interval '{sent_days_ago} days'"))
            )
    return ids
