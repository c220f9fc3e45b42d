"""Consumers apply each event once, dead-letter what they cannot read, and move on."""

import asyncio
import json
import uuid

import sqlalchemy as sa
from faststream.kafka import KafkaBroker
from runtime_helpers import (
    MESSAGING,
    PROBE_SERVICE,
    applied,
    applied_skus,
    item_event,
    publish_raw,
    read_all,
    wait_for,
)
from sqlalchemy.ext.asyncio import create_async_engine

from stockwire.contracts.envelope import wrap
from stockwire.runtime.broker import create_broker
from stockwire.runtime.consumer import Consumer, Received
from stockwire.runtime.db import session_factory
from stockwire.runtime.inbox import Inbox


def recording_consumer(
    settings, broker: KafkaBroker, spec, sessions, name: str, max_batch: int = 1
) -> Consumer:
    """A consumer that records each applied SKU, and fails on SKUs starting with POISON."""

    async def handle(session, batch: list[Received]) -> None:
        for received in batch:
            if received.payload.sku.startswith("POISON"):
                raise ValueError(f"cannot apply {received.payload.sku}")
            await session.execute(
                sa.insert(applied).values(consumer=name, sku=received.payload.sku)
            )

    return Consumer(
        settings=settings,
        broker=broker,
        topics=[spec],
        consumer=name,
        sessions=sessions,
        inbox=Inbox(MESSAGING),
        handle=handle,
        max_batch=max_batch,
    )


async def test_same_event_delivered_three_times_is_applied_once(settings, sessions, scratch_topic):
    spec = await scratch_topic(partitions=1)
    name = f"test-inbox-{uuid.uuid4().hex[:8]}"
    event = item_event()
    body = wrap(event, producer="tests").model_dump_json().encode()
    follower = item_event()
    follower_body = wrap(follower, producer="tests").model_dump_json().encode()
    await publish_raw(settings, spec.name, [(b"k", body)] * 3 + [(b"k", follower_body)])

    broker = create_broker(settings, "tests")
    recording_consumer(settings, broker, spec, sessions, name)
    await broker.start()
    try:
        await wait_for(lambda: _has(sessions, name, follower.sku))
    finally:
        await broker.stop()

    assert await applied_skus(sessions, name) == [event.sku, follower.sku]
    async with sessions() as session:
        inbox_rows = await session.scalar(
            sa.select(sa.func.count())
            .select_from(MESSAGING.inbox)
            .where(MESSAGING.inbox.c.consumer == name)
        )
    assert inbox_rows == 2


async def test_malformed_message_goes_to_dead_letters_and_the_next_one_is_applied(
    settings, sessions, scratch_topic
):
    spec = await scratch_topic(partitions=1)
    name = f"test-dlq-{uuid.uuid4().hex[:8]}"
    good = item_event()
    bad_payload = wrap(item_event(), producer="tests").model_dump(mode="json")
    bad_payload["payload"]["unit_cost"] = "not a number"
    await publish_raw(
        settings,
        spec.name,
        [
            (b"garbage", b"\xff\xfe this is not json"),
            (b"invalid", json.dumps(bad_payload).encode()),
            (b"good", wrap(good, producer="tests").model_dump_json().encode()),
        ],
    )

    broker = create_broker(settings, "tests")
    recording_consumer(settings, broker, spec, sessions, name)
    await broker.start()
    try:
        await wait_for(lambda: _has(sessions, name, good.sku))
    finally:
        await broker.stop()

    assert await applied_skus(sessions, name) == [good.sku]
    dead = await read_all(settings, spec.dlq, expect=2)
    assert [record.key for record in dead] == [b"garbage", b"invalid"]
    assert dead[0].value == b"\xff\xfe this is not json"
    headers = [dict(record.headers) for record in dead]
    assert b"invalid envelope" in headers[0]["dlq-reason"]
    assert b"payload.unit_cost" in headers[1]["dlq-reason"]
    assert [h["dlq-reason-class"] for h in headers] == [b"invalid_envelope", b"invalid_payload"]
    for record_headers, offset in zip(headers, (b"0", b"1"), strict=True):
        assert record_headers["dlq-source-topic"] == spec.name.encode()
        assert record_headers["dlq-source-partition"] == b"0"
        assert record_headers["dlq-source-offset"] == offset
        assert record_headers["dlq-consumer"] == name.encode()


async def test_batch_with_a_poison_message_applies_the_rest_once_and_dead_letters_it(
    settings, sessions, scratch_topic
):
    """Given a batch of 40 events, one of which the handler cannot apply and two of which
    are duplicates, then the 38 distinct good events are applied once each, in order, and
    the poison message lands in the dead-letter topic with the handler's error."""
    spec = await scratch_topic(partitions=1)
    name = f"test-batch-{uuid.uuid4().hex[:8]}"
    events = [item_event(f"GOOD-{n:02d}-{uuid.uuid4().hex[:6]}") for n in range(38)]
    bodies = [wrap(e, producer="tests").model_dump_json().encode() for e in events]
    poison = wrap(item_event(f"POISON-{uuid.uuid4().hex[:6]}"), producer="tests")
    values = [(b"k", body) for body in bodies[:20]]
    values += [(b"poison", poison.model_dump_json().encode()), (b"k", bodies[3])]
    values += [(b"k", body) for body in bodies[20:]] + [(b"k", bodies[37])]
    await publish_raw(settings, spec.name, values)

    fast = settings.model_copy(update={"consumer_retry_initial_s": 0.01})
    broker = create_broker(settings, "tests")
    recording_consumer(fast, broker, spec, sessions, name, max_batch=100)
    await broker.start()
    try:
        await wait_for(lambda: _has(sessions, name, events[-1].sku))
        dead = await read_all(settings, spec.dlq, expect=1)
    finally:
        await broker.stop()

    assert await applied_skus(sessions, name) == [e.sku for e in events]
    assert [record.key for record in dead] == [b"poison"]
    assert b"cannot apply POISON" in dict(dead[0].headers)["dlq-reason"]


async def test_message_waits_out_an_unreachable_database_and_is_not_skipped(
    settings, sessions, scratch_topic
):
    """Given the database is unreachable when a message arrives, the consumer retries with
    backoff; once the database answers again the message and the next one are applied."""
    spec = await scratch_topic(partitions=1)
    name = f"test-transient-{uuid.uuid4().hex[:8]}"
    first, second = item_event(), item_event()
    await publish_raw(
        settings,
        spec.name,
        [(b"k", wrap(e, producer="tests").model_dump_json().encode()) for e in (first, second)],
    )
    proxy = DatabaseProxy(settings)
    await proxy.start()
    flaky_settings = settings.model_copy(
        update={"consumer_retry_initial_s": 0.05, "consumer_retry_max_s": 0.5}
    )
    engine = create_async_engine(proxy.url_for(settings), pool_pre_ping=True)
    broker = create_broker(settings, "tests")
    recording_consumer(flaky_settings, broker, spec, session_factory(engine), name)
    await broker.start()
    try:
        await wait_for(lambda: _at_least(proxy, 3))
        assert await applied_skus(sessions, name) == []
        proxy.open()
        await wait_for(lambda: _has(sessions, name, second.sku))
    finally:
        await broker.stop()
        await engine.dispose()
        await proxy.close()
    assert await applied_skus(sessions, name) == [first.sku, second.sku]


class DatabaseProxy:
    """A TCP port in front of PostgreSQL that hangs up on every connection until opened."""

    def __init__(self, settings) -> None:
        url = settings.server_url()
        self._target = (url.host or "127.0.0.1", url.port or 5432)
        self._server: asyncio.Server | None = None
        self._open = False
        self.refused = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    def url_for(self, settings):
        port = self._server.sockets[0].getsockname()[1]
        return settings.service_url(PROBE_SERVICE).set(host="127.0.0.1", port=port)

    def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._server.close()

    async def _accept(self, client_reader, client_writer) -> None:
        if not self._open:
            self.refused += 1
            client_writer.close()
            return
        server_reader, server_writer = await asyncio.open_connection(*self._target)

        async def pipe(reader, writer) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except OSError:
                pass
            finally:
                writer.close()

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def _has(sessions, consumer: str, sku: str) -> bool:
    return sku in await applied_skus(sessions, consumer)


async def _at_least(proxy: DatabaseProxy, refusals: int) -> bool:
    return proxy.refused >= refusals
