"""Every runtime metric shows on a service's /metrics with the values its traffic caused.

The service is built the way every service is (``build_runtime``, a runtime
:class:`Consumer` on its broker, ``create_app`` with its lifespan), around the probe
database and scratch topics, so that the test knows every event it counts.
"""

import asyncio
import uuid

import httpx
import sqlalchemy as sa
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from runtime_helpers import (
    MESSAGING,
    PROBE_SERVICE,
    add_outbox_rows,
    applied,
    envelope_bytes,
    item_event,
    publish_raw,
    wait_for,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from stockwire.runtime.consumer import Consumer, Received
from stockwire.runtime.http.app import create_app
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.service import build_runtime
from stockwire.runtime.settings import Settings

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

SERVICE = {"service": PROBE_SERVICE}


class Metrics:
    """Reads the service's /metrics through its app."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self.text = ""
        self.samples: Samples = {}

    async def scrape(self) -> "Metrics":
        response = await self._client.get("/metrics")
        assert response.status_code == 200
        self.text = response.text
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }
        return self

    def __call__(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))


def counted_so_far(name: str, **labels: str) -> float:
    """A counter's value before the test: other tests in this process count too."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_runtime_metrics_report_the_traffic_on_metrics(
    settings, sessions, scratch_topic, probe_engine: AsyncEngine, clean_outbox
):
    """Given a service consuming 15 good events, a malformed one, one it holds while the
    test looks and one its handler cannot apply, and whose outbox has two rows another
    transaction keeps locked, three more to publish and three sent a month ago, then
    /metrics shows: the consumer's lag while it holds, its batches, apply times, retries
    and both dead letters by reason; the backlog and its age while rows wait; the rows
    published and how long they took; the rows purged. No event id or key appears."""
    source = await scratch_topic(partitions=1)
    target = await scratch_topic(partitions=1)
    name = f"test-metrics-{uuid.uuid4().hex[:8]}"
    published_before = counted_so_far("stockwire_outbox_published_total", **SERVICE)
    batches_before = counted_so_far("stockwire_outbox_publish_duration_seconds_count", **SERVICE)
    purged_before = counted_so_far(
        "stockwire_retention_purged_rows_total", **SERVICE, table="outbox"
    )

    goods = [item_event(f"GOOD-{n:02d}-{uuid.uuid4().hex[:6]}") for n in range(15)]
    held = item_event(f"HOLD-{uuid.uuid4().hex[:6]}")
    poison = item_event(f"POISON-{uuid.uuid4().hex[:6]}")
    records = [(b"k", envelope_bytes(e)) for e in goods[:10]]
    records += [(b"k", b"garbage"), (b"k", envelope_bytes(held)), (b"k", envelope_bytes(poison))]
    records += [(b"k", envelope_bytes(e)) for e in goods[10:]]
    lag_while_held = len(records) - 11  # offsets 0-10 committed, the held one (11) not
    await publish_raw(settings, source.name, records)
    await add_outbox_rows(sessions, 3, sent_days_ago=30)
    writer = OutboxWriter(MESSAGING, producer="tests")
    async with sessions.begin() as session:
        waiting = await writer.add_many(session, [item_event(), item_event()], topic=target)

    service_settings = Settings(
        **settings.model_dump()
        | {
            "outbox_retention_hours": 24,
            "inbox_retention_hours": 48,
            "outbox_backlog_interval_s": 0.2,
            "consumer_retry_initial_s": 0.01,
            "consumer_max_handler_failures": 2,
        }
    )
    runtime = build_runtime(PROBE_SERVICE, service_settings, MESSAGING)
    holding, release = asyncio.Event(), asyncio.Event()

    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        for received in batch:
            sku = received.payload.sku
            if sku == held.sku:
                holding.set()
                await release.wait()
            if sku == poison.sku:
                raise ValueError("cannot apply")
            await session.execute(sa.insert(applied).values(consumer=name, sku=sku))

    Consumer(
        settings=service_settings,
        broker=runtime.broker,
        topics=[source],
        consumer=name,
        sessions=runtime.sessions,
        inbox=runtime.inbox,
        handle=handle,
    )
    app = create_app(runtime, title="probe", description="The runtime's probe.", routers=[])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")
    metrics = Metrics(client)
    lag = {"consumer": name, "topic": source.name, "partition": "0"}

    async with app.router.lifespan_context(app):
        async with probe_engine.connect() as other, other.begin():
            await other.execute(
                sa.select(MESSAGING.outbox.c.id)
                .where(MESSAGING.outbox.c.event_id.in_([row.event_id for row in waiting]))
                .with_for_update()
            )
            await asyncio.wait_for(holding.wait(), timeout=60)

            async def held_and_backlogged() -> bool:
                await metrics.scrape()
                age = metrics("stockwire_outbox_oldest_unsent_age_seconds", **SERVICE)
                return (
                    metrics("stockwire_consumer_lag", **lag) == lag_while_held
                    and metrics("stockwire_outbox_unsent_rows", **SERVICE) == len(waiting)
                    and age is not None
                    and age > 0
                )

            await wait_for(held_and_backlogged, timeout_s=20)
            release.set()

        async with sessions.begin() as session:
            published = await writer.add_many(
                session, [item_event() for _ in range(3)], topic=target
            )

        async def all_done() -> bool:
            await metrics.scrape()
            async with sessions() as session:
                unsent = await session.scalar(
                    sa.select(sa.func.count()).where(MESSAGING.outbox.c.sent_at.is_(None))
                )
            return unsent == 0 and metrics("stockwire_consumer_lag", **lag) == 0

        await wait_for(all_done, timeout_s=30)
        await metrics.scrape()

    consumer = {"consumer": name}
    assert metrics("stockwire_consumer_batch_size_count", **consumer) == len(records)
    assert metrics("stockwire_consumer_batch_size_sum", **consumer) == len(records)
    assert metrics("stockwire_consumer_apply_duration_seconds_count", **consumer) == len(records)
    assert metrics("stockwire_consumer_apply_duration_seconds_sum", **consumer) > 0
    assert metrics("stockwire_consumer_retries_total", **consumer, kind="failure") == 1
    for reason in ("invalid_envelope", "handler_failed"):
        dead = metrics("stockwire_dead_letters_total", **consumer, topic=source.name, reason=reason)
        assert dead == 1, reason
    published_now = metrics("stockwire_outbox_published_total", **SERVICE) - published_before
    assert published_now >= len(waiting) + len(published)
    assert metrics("stockwire_outbox_publish_duration_seconds_count", **SERVICE) > batches_before
    assert metrics("stockwire_outbox_publish_duration_seconds_sum", **SERVICE) > 0
    purged = metrics("stockwire_retention_purged_rows_total", **SERVICE, table="outbox")
    assert purged - purged_before == 3
    assert metrics("stockwire_retention_purged_rows_total", **SERVICE, table="inbox") is not None
    for row in [*waiting, *published]:
        assert str(row.event_id) not in metrics.text
        assert row.key not in metrics.text
    for event in [*goods, held, poison]:
        assert event.sku not in metrics.text
