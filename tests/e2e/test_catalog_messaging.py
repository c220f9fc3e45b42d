"""The catalog end to end against the real broker: an HTTP change reaches Kafka once.

The consumer takes partitions by hand and starts at their end (no group join, which takes
seconds on Tansu), then picks out this test's records by key, so events other tests
published on the same topics do not matter.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from stockwire.catalog.bootstrap import bootstrap
from stockwire.catalog.settings import CatalogSettings
from stockwire.contracts.catalog import CatalogItemUpserted, LocationUpserted
from stockwire.contracts.envelope import Envelope
from stockwire.contracts.topics import CATALOG_ITEMS, CATALOG_LOCATIONS, TopicSpec
from stockwire.runtime.auth import hash_token
from stockwire.runtime.migrate import upgrade
from stockwire.runtime.settings import ApiToken, Settings

TOKEN = f"catalog-e2e-{uuid.uuid4().hex}"
QUIET_AFTER_S = 1.0
"""How long to keep reading after the expected record, to catch a duplicate."""


@pytest.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The catalog app with its runtime (and so its outbox relay) running."""
    await asyncio.to_thread(upgrade, settings, "catalog")
    token = ApiToken(name="e2e", sha256=hash_token(TOKEN), scopes={"read", "write"})
    app, _ = bootstrap(CatalogSettings(**(settings.model_dump() | {"api_tokens": [token]})))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://catalog.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as client:
            yield client


async def tail(settings: Settings, spec: TopicSpec) -> AIOKafkaConsumer:
    """A consumer positioned at the current end of every partition of ``spec``."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    partitions = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


async def records_for(
    consumer: AIOKafkaConsumer, key: str, expect: int = 1, timeout_s: float = 20.0
) -> list[ConsumerRecord]:
    """Every record with ``key`` seen until ``expect`` arrived and the topic then stayed quiet."""
    found: list[ConsumerRecord] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        found.extend(r for batch in batches.values() for r in batch if r.key == key.encode())
        if len(found) >= expect:
            deadline = min(deadline, loop.time() + QUIET_AFTER_S)
    return found


async def test_creating_an_item_publishes_exactly_one_valid_event(settings, client):
    sku = f"E2E-{uuid.uuid4().hex[:10]}"
    consumer = await tail(settings, CATALOG_ITEMS)
    try:
        response = await client.post(
            "/api/v1/items",
            json={
                "sku": sku,
                "name": "XGS-PON ONT",
                "manufacturer": "Nokia",
                "category": "ont",
                "tracking_mode": "serial",
                "unit_cost": "89.50",
                "currency": "EUR",
            },
        )
        assert response.status_code == 201, response.text
        [record] = await records_for(consumer, sku)
    finally:
        await consumer.stop()

    envelope = Envelope.model_validate_json(record.value)
    model = CATALOG_ITEMS.payload_model(envelope.event_type)
    assert model is CatalogItemUpserted
    payload = model.model_validate(envelope.payload)
    assert payload.sku == sku
    assert str(payload.unit_cost) == "89.5000"
    assert payload.version == 1
    assert envelope.producer == "catalog"
    assert dict(record.headers)["content-type"] == b"application/json"


async def test_each_location_change_publishes_exactly_one_event(settings, client):
    code = f"E2E-{uuid.uuid4().hex[:10]}"
    consumer = await tail(settings, CATALOG_LOCATIONS)
    try:
        created = await client.post(
            "/api/v1/locations",
            json={"code": code, "name": "Rooftop 12", "kind": "rooftop", "region": "east"},
        )
        assert created.status_code == 201, created.text
        retired = await client.post(
            f"/api/v1/locations/{code}/retire", headers={"If-Match": created.headers["ETag"]}
        )
        assert retired.status_code == 200, retired.text
        records = await records_for(consumer, code, expect=2)
    finally:
        await consumer.stop()

    envelopes = [Envelope.model_validate_json(r.value) for r in records]
    payloads = [LocationUpserted.model_validate(e.payload) for e in envelopes]
    assert [(p.version, p.active) for p in payloads] == [(1, True), (2, False)]
