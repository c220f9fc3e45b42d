"""Trace context travels in Kafka headers from the writer's span to the consumer's span."""

import asyncio
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from runtime_helpers import MESSAGING, PROBE_SERVICE, item_event, read_all

from stockwire.runtime.broker import create_broker
from stockwire.runtime.consumer import Consumer, Received
from stockwire.runtime.inbox import Inbox
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.relay import OutboxRelay


async def test_consumer_span_continues_the_trace_that_wrote_the_event(
    settings, sessions, scratch_topic, clean_outbox
):
    provider = TracerProvider()
    tracer = provider.get_tracer("tests")
    spec = await scratch_topic(partitions=1)
    with tracer.start_as_current_span("http request") as request_span:
        async with sessions.begin() as session:
            await OutboxWriter(MESSAGING, producer="tests").add(session, item_event(), topic=spec)
    writer_trace = request_span.get_span_context().trace_id

    relay = OutboxRelay(settings, PROBE_SERVICE)
    await relay.start()
    try:
        await relay.publish_pending()
    finally:
        await relay.stop()
    [record] = await read_all(settings, spec.name, expect=1)
    traceparent = dict(record.headers)["traceparent"].decode()
    assert traceparent.split("-")[1] == format(writer_trace, "032x")

    seen: asyncio.Queue[int] = asyncio.Queue()

    async def handle(session, batch: list[Received]) -> None:
        await session.execute(sa.select(1))
        seen.put_nowait(trace.get_current_span().get_span_context().trace_id)

    broker = create_broker(settings, "tests", tracer_provider=provider)
    Consumer(
        settings=settings,
        broker=broker,
        topics=[spec],
        consumer=f"test-trace-{uuid.uuid4().hex[:8]}",
        sessions=sessions,
        inbox=Inbox(MESSAGING),
        handle=handle,
    )
    await broker.start()
    try:
        consumer_trace = await asyncio.wait_for(seen.get(), timeout=40)
    finally:
        await broker.stop()
    assert consumer_trace == writer_trace


async def test_each_event_of_a_batch_keeps_the_trace_its_writer_sent(
    settings, sessions, scratch_topic, clean_outbox
):
    provider = TracerProvider()
    tracer = provider.get_tracer("tests")
    spec = await scratch_topic(partitions=1)
    writer_traces = []
    for request in ("first request", "second request"):
        with tracer.start_as_current_span(request) as span:
            async with sessions.begin() as session:
                await OutboxWriter(MESSAGING, producer="tests").add(
                    session, item_event(), topic=spec
                )
        writer_traces.append(format(span.get_span_context().trace_id, "032x"))
    relay = OutboxRelay(settings, PROBE_SERVICE)
    await relay.start()
    try:
        await relay.publish_pending()
    finally:
        await relay.stop()
    await read_all(settings, spec.name, expect=2)

    seen: asyncio.Queue[str] = asyncio.Queue()

    async def handle(session, batch: list[Received]) -> None:
        await session.execute(sa.select(1))
        for received in batch:
            seen.put_nowait(received.trace["traceparent"].split("-")[1])

    broker = create_broker(settings, "tests", tracer_provider=provider)
    Consumer(
        settings=settings,
        broker=broker,
        topics=[spec],
        consumer=f"test-trace-{uuid.uuid4().hex[:8]}",
        sessions=sessions,
        inbox=Inbox(MESSAGING),
        handle=handle,
        max_batch=10,
    )
    await broker.start()
    try:
        received = [await asyncio.wait_for(seen.get(), timeout=40) for _ in writer_traces]
    finally:
        await broker.stop()
    assert received == writer_traces


async def test_an_event_staged_with_its_causes_trace_is_published_with_it(
    settings, sessions, scratch_topic, clean_outbox
):
    spec = await scratch_topic(partitions=1)
    cause = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    writer = OutboxWriter(MESSAGING, producer="tests")
    async with sessions.begin() as session:
        staged = writer.stage(item_event(), occurred_at=datetime.now(UTC), topic=spec, trace=cause)
        await writer.insert(session, [staged])
    relay = OutboxRelay(settings, PROBE_SERVICE)
    await relay.start()
    try:
        await relay.publish_pending()
    finally:
        await relay.stop()

    [record] = await read_all(settings, spec.name, expect=1)

    assert dict(record.headers)["traceparent"].decode() == cause["traceparent"]
