"""Assets through its real wiring: migrated database, runtime, consumers and app, on the
session's Tansu and PostgreSQL. Tests publish what stock and the catalog would (through
the broker) and read what assets answers and publishes; random serials, SKUs and
location codes keep them apart in the shared database."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from assets_refs import (
    ADMIN_TOKEN,
    PUBLIC_URL,
    READER_TOKEN,
    WRITER_TOKEN,
    eventually,
    location,
    publish,
    ref,
)
from fastapi import FastAPI

from stockwire.assets.bootstrap import bootstrap
from stockwire.assets.settings import AssetsSettings
from stockwire.contracts.vocabulary import LocationKind
from stockwire.runtime.auth import hash_token
from stockwire.runtime.migrate import upgrade
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import ApiToken, Settings


@pytest.fixture(scope="session")
async def assets_settings(settings: Settings) -> AssetsSettings:
    await asyncio.to_thread(upgrade, settings, "assets")
    tokens = [
        ApiToken(name="writer", sha256=hash_token(WRITER_TOKEN), scopes={"read", "write"}),
        ApiToken(name="admin", sha256=hash_token(ADMIN_TOKEN), scopes={"admin"}),
        ApiToken(name="reader", sha256=hash_token(READER_TOKEN), scopes={"read"}),
    ]
    overrides = {
        "api_tokens": tokens,
        "consumer_retry_initial_s": 0.05,
        "consumer_retry_max_s": 1.0,
        "assets_public_url": PUBLIC_URL,
        # The session's reliability job runs once at start; tests compute when they need.
        "assets_reliability_interval_s": 86_400,
    }
    return AssetsSettings(**(settings.model_dump() | overrides))


@pytest.fixture(scope="session")
async def assets_service(
    assets_settings: AssetsSettings, producer: AIOKafkaProducer
) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """The app with its lifespan running, once its catalog copy takes events: a test's
    locations then reach the copy before its movements reach the devices, as in a running
    system where the catalog has long been told of them."""
    app, runtime = bootstrap(assets_settings)
    async with app.router.lifespan_context(app):
        probe = ref("PROBE")
        await publish(producer, location(probe, LocationKind.WAREHOUSE), producer_name="catalog")
        await eventually(lambda: _copied(runtime, probe), bool)
        yield app, runtime


async def _copied(runtime: ServiceRuntime, code: str) -> bool:
    async with runtime.engine.connect() as conn:
        found = await conn.scalar(
            sa.text("SELECT count(*) FROM catalog_locations WHERE code = :code"), {"code": code}
        )
    return bool(found)


@pytest.fixture(scope="session")
def assets_runtime(assets_service: tuple[FastAPI, ServiceRuntime]) -> ServiceRuntime:
    return assets_service[1]


def _client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://assets.test", headers=headers
    )


@pytest.fixture(scope="session")
async def writer(
    assets_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(assets_service[0], WRITER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def admin(assets_service: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(assets_service[0], ADMIN_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def reader(
    assets_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(assets_service[0], READER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def anonymous(
    assets_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(assets_service[0], None) as client:
        yield client


@pytest.fixture(scope="session")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    yield producer
    await producer.stop()
