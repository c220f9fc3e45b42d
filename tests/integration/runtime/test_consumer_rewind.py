"""A failure that escapes a consumer's poll never skips a record.

FastStream's MANUAL ack policy neither commits nor rewinds when the handler raises: it
logs the error and fetches on from the consumer's position, which is already past the
failed poll's records, and the next commit commits past them. The consumer must rewind.
"""

import uuid
from collections import Counter

import sqlalchemy as sa
from aiokafka.errors import KafkaError
from runtime_helpers import (
    MESSAGING,
    applied,
    applied_skus,
    envelope_bytes,
    item_event,
    publish_raw,
    read_all,
    wait_for,
)
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.runtime.broker import create_broker
from stockwire.runtime.consumer import Consumer, Received
from stockwire.runtime.inbox import Inbox

MAX_BATCH = 100
INJECTED = 3


def recording(name: str):
    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        await session.execute(
            sa.insert(applied),
            [{"consumer": name, "sku": received.payload.sku} for received in batch],
        )

    return handle


def consumer_on(settings, broker, spec, sessions, name: str) -> Consumer:
    return Consumer(
        settings=settings.model_copy(
            update={"consumer_retry_initial_s": 0.01, "consumer_retry_max_s": 0.1}
        ),
        broker=broker,
        topics=[spec],
        consumer=name,
        sessions=sessions,
        inbox=Inbox(MESSAGING),
        handle=recording(name),
        max_batch=MAX_BATCH,
    )


async def test_a_fetch_failing_while_a_batch_is_topped_up_skips_no_record(
    settings, sessions, scratch_topic
):
    """Given records trickling onto three partitions, when the fetches that top up a batch
    fail three times (the seam is the real aiokafka consumer's getmany: only the calls
    asking for fewer than a full batch, which only the top-up makes, raise a KafkaError
    before fetching), then every record is still applied, exactly once."""
    spec = await scratch_topic(partitions=3)
    name = f"test-topup-{uuid.uuid4().hex[:8]}"
    warm_up = item_event()
    await publish_raw(settings, spec.name, [(b"warm-up", envelope_bytes(warm_up))])
    broker = create_broker(settings, "tests")
    consumer_on(settings, broker, spec, sessions, name)
    await broker.start()
    injected = 0
    try:
        await wait_for(lambda: _has(sessions, name, warm_up.sku), timeout_s=60)
        [subscriber] = broker.subscribers
        real_getmany = subscriber.consumer.getmany

        async def failing_top_ups(*partitions, timeout_ms=0, max_records=None):
            nonlocal injected
            if max_records is not None and max_records < MAX_BATCH and injected < INJECTED:
                injected += 1
                raise KafkaError("injected: the top-up fetch failed")
            return await real_getmany(*partitions, timeout_ms=timeout_ms, max_records=max_records)

        subscriber.consumer.getmany = failing_top_ups
        events = [item_event(f"TRICKLE-{n:03d}-{uuid.uuid4().hex[:6]}") for n in range(150)]
        await publish_raw(
            settings, spec.name, [(e.sku.encode(), envelope_bytes(e)) for e in events]
        )

        async def all_applied() -> bool:
            return len(await applied_skus(sessions, name)) >= len(events) + 1

        await wait_for(all_applied, timeout_s=60)
    finally:
        await broker.stop()

    assert injected == INJECTED
    applied_counts = Counter(await applied_skus(sessions, name))
    assert applied_counts == Counter([warm_up.sku, *(e.sku for e in events)])


async def test_a_dead_letter_publish_failing_unexpectedly_skips_no_record(
    settings, sessions, scratch_topic
):
    """Given a partition holding good events and malformed ones, when publishing a dead
    letter fails twice with an error that is not a KafkaError (the seam is the broker's
    publish), then every good event is applied exactly once and every malformed one lands
    in the dead-letter topic once."""
    spec = await scratch_topic(partitions=1)
    name = f"test-dlq-fails-{uuid.uuid4().hex[:8]}"
    events = [item_event(f"GOOD-{n:02d}-{uuid.uuid4().hex[:6]}") for n in range(40)]
    values = []
    for n, e in enumerate(events):
        values.append((b"good", envelope_bytes(e)))
        if n % 10 == 5:
            values.append((f"bad-{n}".encode(), b"not json"))
    await publish_raw(settings, spec.name, values)

    broker = create_broker(settings, "tests")
    consumer_on(settings, broker, spec, sessions, name)
    real_publish = broker.publish
    failed = 0

    async def publish_failing_twice(*args, **kwargs):
        nonlocal failed
        if failed < 2:
            failed += 1
            raise RuntimeError("injected: the producer is in a bad state")
        return await real_publish(*args, **kwargs)

    broker.publish = publish_failing_twice
    await broker.start()
    try:
        await wait_for(lambda: _has(sessions, name, events[-1].sku), timeout_s=60)
        dead = await read_all(settings, spec.dlq, expect=4)
    finally:
        await broker.stop()

    assert failed == 2
    assert Counter(await applied_skus(sessions, name)) == Counter(e.sku for e in events)
    assert sorted(record.key for record in dead) == [b"bad-15", b"bad-25", b"bad-35", b"bad-5"]


async def _has(sessions, name: str, sku: str) -> bool:
    return sku in await applied_skus(sessions, name)
