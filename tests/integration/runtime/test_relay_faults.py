"""The outbox relay outlives broker failures, and readiness says when it is not publishing."""

import asyncio
import os
import re
import signal
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry.sdk.trace import SpanProcessor
from prometheus_client import REGISTRY
from runtime_helpers import MESSAGING, PROBE_SERVICE, item_event, read_all, topic_spec, wait_for
from sqlalchemy import event

from stockwire.devstack.broker import TansuBroker
from stockwire.devstack.ports import free_port
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.relay import OutboxRelay
from stockwire.runtime.service import build_runtime
from stockwire.runtime.settings import Settings


def with_overrides(settings: Settings, **overrides: object) -> Settings:
    """New settings, validated (``model_copy`` would keep cached derived values)."""
    return Settings(**(settings.model_dump() | overrides))


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


@pytest.fixture
async def own_broker(tmp_path) -> AsyncIterator[TansuBroker]:
    """A Tansu of this test's own, so the test can freeze it without touching others."""
    broker = TansuBroker(free_port(), tmp_path / "broker.log")
    await broker.start()
    try:
        yield broker
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)
        await broker.stop()


async def unsent(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(
            sa.select(sa.func.count()).where(MESSAGING.outbox.c.sent_at.is_(None))
        )


async def test_relay_outlives_a_broker_that_stops_answering_and_readiness_says_so(
    settings, sessions, own_broker, clean_outbox
):
    """Given a service whose relay publishes, when the broker stops answering (frozen
    with SIGSTOP: sends time out with a KafkaError), then readiness reports the relay as
    not publishing, naming the error's class, while the relay keeps trying; and when the
    broker answers again, the waiting event is published and the relay is ready again."""
    topic = f"test.relay-{uuid.uuid4().hex[:8]}.v1"
    await create_topic(own_broker.bootstrap, topic, partitions=1)
    fragile = with_overrides(
        settings,
        kafka_bootstrap_servers=own_broker.bootstrap,
        outbox_publish_timeout_s=1.0,
        outbox_retry_initial_s=0.05,
        outbox_retry_max_s=0.5,
        outbox_stalled_after_s=1.0,
        readiness_cache_s=0,
    )
    runtime = build_runtime(PROBE_SERVICE, fragile, MESSAGING)
    writer = OutboxWriter(MESSAGING, producer="tests")
    spec = topic_spec(topic)
    await runtime.start()
    try:
        async with sessions.begin() as session:
            first = await writer.add(session, item_event(), topic=spec)
        await wait_for(lambda: _none_unsent(sessions))

        os.kill(own_broker.process.pid, signal.SIGSTOP)
        async with sessions.begin() as session:
            second = await writer.add(session, item_event(), topic=spec)

        reported_state: list[str] = []

        async def relay_reported() -> bool:
            reported_state.append((await runtime.readiness())["relay"])
            return reported_state[-1] != "ok"

        await wait_for(relay_reported, timeout_s=30)
        error = reported_state[-1].rsplit(" ", 1)[-1]
        assert failed_rounds({"service": PROBE_SERVICE, "error": error}) >= 1
        assert re.fullmatch(r"not publishing for \d+ s: \w+Error", reported_state[-1])
        assert await unsent(sessions) == 1

        os.kill(own_broker.process.pid, signal.SIGCONT)
        await wait_for(lambda: _none_unsent(sessions), timeout_s=60)
        await wait_for(lambda: _ready(runtime), timeout_s=30)
    finally:
        os.kill(own_broker.process.pid, signal.SIGCONT)
        await runtime.stop()

    fresh = with_overrides(settings, kafka_bootstrap_servers=own_broker.bootstrap)
    records = await read_all(fresh, topic, expect=2)
    published = [record.key for record in records]
    assert published[0] == first.key.encode()
    assert second.key.encode() in published


async def test_stop_releases_broker_pool_and_exporter_when_a_job_fails_to_stop(
    settings, clean_outbox
):
    """Given a background job whose cleanup raises when it is cancelled, when the service
    stops, then the relay, the broker, the database pool and the trace exporter are still
    released, and the job's error is raised once they are."""
    runtime = build_runtime(PROBE_SERVICE, settings, MESSAGING)
    exporter = ShutdownRecorder()
    runtime.tracer_provider.add_span_processor(exporter)

    async def job_with_broken_cleanup() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            raise RuntimeError("cleanup failed")

    runtime.run_in_background("broken", job_with_broken_cleanup)
    await runtime.start()
    await runtime.readiness()
    assert runtime.engine.pool.checkedin() == 1

    with pytest.raises(RuntimeError, match="cleanup failed"):
        await runtime.stop()

    assert runtime.broker.running is False
    assert runtime.engine.pool.checkedin() == 0
    assert exporter.shut_down
    with pytest.raises(RuntimeError, match="start"):
        await runtime.relay.publish_pending()


async def test_a_storm_of_readiness_probes_costs_one_check_per_interval(settings, clean_outbox):
    """Given 50 probes at once and 50 more right after, then the database is asked once;
    and once the cache interval has passed, the next probe asks again."""
    cached = with_overrides(settings, readiness_cache_s=2.0)
    runtime = build_runtime(PROBE_SERVICE, cached, MESSAGING)
    checkouts = 0

    @event.listens_for(runtime.engine.sync_engine, "checkout")
    def count_checkout(*_: object) -> None:
        nonlocal checkouts
        checkouts += 1

    await runtime.start()
    try:
        answers = await asyncio.gather(*(runtime.readiness() for _ in range(50)))
        for _ in range(50):
            answers.append(await runtime.readiness())
        assert checkouts == 1
        assert all(answer == answers[0] for answer in answers)
        assert answers[0]["database"] == "ok"

        async def checked_again() -> bool:
            await runtime.readiness()
            return checkouts == 2

        await wait_for(checked_again, timeout_s=10)
    finally:
        await runtime.stop()


async def test_relay_routes_by_the_new_partition_count_once_partitions_are_added(
    settings, sessions, clean_outbox
):
    """Given a relay that has published to a topic of 2 partitions, when the topic gets 6
    (Tansu has no CreatePartitions, so the topic is deleted and made again with 6, which
    a relay sees the same way), then within the metadata refresh interval the relay puts
    each key where Kafka's partitioner over 6 partitions does."""
    topic = f"test.relay-{uuid.uuid4().hex[:8]}.v1"
    await create_topic(settings.kafka_bootstrap_servers, topic, partitions=2)
    spec = topic_spec(topic)
    writer = OutboxWriter(MESSAGING, producer="tests")
    relay = OutboxRelay(with_overrides(settings, outbox_metadata_max_age_s=0.5), PROBE_SERVICE)
    await relay.start()
    try:
        async with sessions.begin() as session:
            await writer.add_many(session, [item_event(f"OLD-{n}") for n in range(10)], topic=spec)
        assert await relay.publish_pending() == 10

        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics([topic])
            await admin.create_topics([NewTopic(topic, 6, 1)])
        finally:
            await admin.close()

        six = list(range(6))
        where = DefaultPartitioner()
        beyond_two = next(
            f"PROBE-{n}" for n in range(100) if where(f"PROBE-{n}".encode(), six, six) >= 2
        )
        written = 0

        async def relay_uses_six_partitions() -> bool:
            nonlocal written
            async with sessions.begin() as session:
                await writer.add(session, item_event(beyond_two), topic=spec)
            written += await relay.publish_pending()
            records = await read_all(settings, topic, expect=written, timeout_s=5)
            return any(record.partition >= 2 for record in records)

        await wait_for(relay_uses_six_partitions, timeout_s=20)

        keys = [f"ROUTE-{n}" for n in range(30)]
        async with sessions.begin() as session:
            await writer.add_many(session, [item_event(key) for key in keys], topic=spec)
        assert await relay.publish_pending() == 30
    finally:
        await relay.stop()

    records = await read_all(settings, topic, expect=written + 30)
    routed = {r.key: r.partition for r in records if r.key.startswith(b"ROUTE-")}
    assert routed == {key.encode(): where(key.encode(), six, six) for key in keys}


async def test_a_failed_round_refreshes_the_partition_count_at_once(
    settings, sessions, probe_engine, clean_outbox
):
    """Given a relay whose metadata says a topic has 2 partitions and would not expire
    for an hour, when the topic gets 6 and then a round fails (its claim, stuck behind a
    lock, hits the statement timeout), then the relay's next rounds route by 6.

    A failed send would be the natural trigger, but Tansu accepts records for partitions
    a topic no longer has, so no send fails there; any failed round refreshes."""
    topic = f"test.relay-{uuid.uuid4().hex[:8]}.v1"
    await create_topic(settings.kafka_bootstrap_servers, topic, partitions=2)
    spec = topic_spec(topic)
    writer = OutboxWriter(MESSAGING, producer="tests")
    relay = OutboxRelay(
        with_overrides(
            settings,
            outbox_metadata_max_age_s=3600,
            database_statement_timeout_s=0.2,
            outbox_retry_initial_s=0.05,
        ),
        PROBE_SERVICE,
    )
    failures = {"service": PROBE_SERVICE, "error": "QueryCanceledError"}
    await relay.start()
    running = asyncio.create_task(relay.run())
    try:
        async with sessions.begin() as session:
            await writer.add(session, item_event("WARM-UP"), topic=spec)
        await wait_for(lambda: _none_unsent(sessions))
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics([topic])
            await admin.create_topics([NewTopic(topic, 6, 1)])
        finally:
            await admin.close()

        failed_before = failed_rounds(failures)
        async with probe_engine.connect() as conn, conn.begin():
            await conn.execute(sa.text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))

            async def round_failed() -> bool:
                return failed_rounds(failures) > failed_before

            await wait_for(round_failed, timeout_s=20)
        keys = [f"REROUTED-{n}" for n in range(30)]
        async with sessions.begin() as session:
            await writer.add_many(session, [item_event(key) for key in keys], topic=spec)
        await wait_for(lambda: _none_unsent(sessions), timeout_s=20)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await relay.stop()

    six = list(range(6))
    where = DefaultPartitioner()
    records = await read_all(settings, topic, expect=len(keys))
    routed = {r.key: r.partition for r in records}
    assert routed == {key.encode(): where(key.encode(), six, six) for key in keys}


class ShutdownRecorder(SpanProcessor):
    """Stands for the trace exporter: records that the tracer provider shut it down."""

    def __init__(self) -> None:
        self.shut_down = False

    def shutdown(self) -> None:
        self.shut_down = True


def failed_rounds(labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value("stockwire_outbox_relay_failures_total", labels) or 0.0


async def _none_unsent(sessions) -> bool:
    return await unsent(sessions) == 0


async def _ready(runtime) -> bool:
    return all(state == "ok" for state in (await runtime.readiness()).values())
