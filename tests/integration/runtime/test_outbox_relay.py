"""The outbox relay publishes every committed row, once per relay run, in key order."""

import asyncio
import json
import os
import signal
import sys
from asyncio.subprocess import DEVNULL, PIPE
from collections import defaultdict

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from runtime_helpers import MESSAGING, PROBE_SERVICE, item_event, read_all

from stockwire.contracts.envelope import read_envelope
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.outboxctl import replay
from stockwire.runtime.relay import OutboxRelay


async def unsent_count(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(
            sa.select(sa.func.count()).where(MESSAGING.outbox.c.sent_at.is_(None))
        )


async def wait_until_sent(sessions, timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while await unsent_count(sessions):
        assert asyncio.get_running_loop().time() < deadline, "outbox rows were never sent"
        await asyncio.sleep(0.1)


async def test_committed_event_is_published_with_envelope_key_and_trace_headers(
    settings, sessions, scratch_topic, clean_outbox
):
    topic = await scratch_topic()
    writer = OutboxWriter(MESSAGING, producer="tests")
    event = item_event()
    async with sessions.begin() as session:
        envelope = await writer.add(session, event, topic=topic)

    relay = OutboxRelay(settings, PROBE_SERVICE)
    await relay.start()
    try:
        assert await relay.publish_pending() == 1
    finally:
        await relay.stop()

    [record] = await read_all(settings, topic.name, expect=1)
    assert record.key == event.sku.encode()
    published = read_envelope(record.value)
    assert published.event_id == envelope.event_id
    assert published.event_type == "catalog.item.upserted"
    assert published.payload["sku"] == event.sku
    assert dict(record.headers)["content-type"] == b"application/json"


async def test_rolled_back_transaction_publishes_nothing(settings, sessions, clean_outbox):
    writer = OutboxWriter(MESSAGING, producer="tests")
    async with sessions() as session:
        await writer.add(session, item_event())
        await session.rollback()
    assert await unsent_count(sessions) == 0


async def test_relay_killed_after_commit_publishes_the_event_once_restarted(
    settings, sessions, scratch_topic, clean_outbox
):
    """Given a relay process that dies after the writer committed but before it published,
    when a relay starts again, then the event is published and marked sent."""
    topic = await scratch_topic()
    env = {
        **os.environ,
        "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "STOCKWIRE_DATABASE_URL": settings.database_url.get_secret_value(),
        "STOCKWIRE_DATABASE_PREFIX": settings.database_prefix,
    }
    command = [sys.executable, "-m", "stockwire.runtime.outboxctl", "relay", PROBE_SERVICE]
    doomed = await asyncio.create_subprocess_exec(*command, env=env, stdout=PIPE)
    try:
        assert b"relaying outbox" in await doomed.stdout.readline()
        doomed.send_signal(signal.SIGSTOP)
        async with sessions.begin() as session:
            envelope = await OutboxWriter(MESSAGING, producer="tests").add(
                session, item_event(), topic=topic
            )
        doomed.kill()
        await doomed.wait()
        assert await unsent_count(sessions) == 1
        assert await read_all(settings, topic.name, expect=1, timeout_s=2) == []

        survivor = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL)
        try:
            await wait_until_sent(sessions)
        finally:
            survivor.terminate()
            await survivor.wait()
    finally:
        if doomed.returncode is None:
            doomed.kill()
            await doomed.wait()

    records = await read_all(settings, topic.name, expect=1)
    assert [read_envelope(r.value).event_id for r in records] == [envelope.event_id]


async def test_two_relays_publish_each_row_once_and_keep_each_keys_order(
    settings, sessions, scratch_topic, clean_outbox
):
    topic = await scratch_topic(partitions=3)
    writer = OutboxWriter(MESSAGING, producer="tests")
    skus = [f"SFP-{n:03d}" for n in range(40)]
    written = []
    for version in range(1, 26):
        async with sessions.begin() as session:
            events = [item_event(sku, version) for sku in skus]
            written += await writer.add_many(session, events, topic=topic)

    relays = [OutboxRelay(settings, PROBE_SERVICE) for _ in range(2)]
    for relay in relays:
        await relay.start()
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        await wait_until_sent(sessions, timeout_s=60)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for relay in relays:
            await relay.stop()

    records = await read_all(settings, topic.name, expect=len(written), timeout_s=60)
    ids = [read_envelope(r.value).event_id for r in records]
    assert len(ids) == len(written) == 1000
    assert set(ids) == {e.event_id for e in written}
    versions_by_sku: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        payload = json.loads(record.value)["payload"]
        versions_by_sku[payload["sku"]].append(payload["version"])
    assert all(v == list(range(1, 26)) for v in versions_by_sku.values())


async def test_replay_re_emits_sent_rows_within_retention(
    settings, sessions, scratch_topic, clean_outbox
):
    topic = await scratch_topic()
    async with sessions.begin() as session:
        envelope = await OutboxWriter(MESSAGING, producer="tests").add(
            session, item_event(), topic=topic
        )
    relay = OutboxRelay(settings, PROBE_SERVICE)
    await relay.start()
    try:
        assert await relay.publish_pending() == 1
        assert await replay(settings, PROBE_SERVICE, since=envelope.occurred_at) == 1
        assert await relay.publish_pending() == 1
    finally:
        await relay.stop()
    records = await read_all(settings, topic.name, expect=2)
    assert [read_envelope(r.value).event_id for r in records] == [envelope.event_id] * 2


async def test_relay_puts_a_key_on_the_partition_any_kafka_client_would(
    settings, sessions, scratch_topic, clean_outbox
):
    """The relay builds record batches itself; a key must still land where Kafka's default
    partitioner (murmur2, as in the Java client) sends it, so every writer agrees."""
    topic = await scratch_topic(partitions=6)
    events = [item_event(f"KEY-{n}") for n in range(30)]
    async with sessions.begin() as session:
        await OutboxWriter(MESSAGING, producer="tests").add_many(session, events, topic=topic)
    relay = OutboxRelay(settings, PROBE_SERVICE)
    await relay.start()
    try:
        assert await relay.publish_pending() == 30
    finally:
        await relay.stop()
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    await producer.start()
    try:
        expected = {}
        for event in events:
            metadata = await producer.send_and_wait(topic.name, b"{}", key=event.sku.encode())
            expected[event.sku.encode()] = metadata.partition
    finally:
        await producer.stop()
    records = await read_all(settings, topic.name, expect=60)
    relayed = {r.key: r.partition for r in records if r.value != b"{}"}
    assert relayed == expected
    assert len(set(expected.values())) > 1
