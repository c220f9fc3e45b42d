"""The stock service through its real wiring: migrated database, runtime, consumers, app.

One service runs for the whole session (its consumer groups join once); tests use random
SKUs and location codes, so they share its database and topics.
"""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from stock_refs import ADMIN_TOKEN, PUBLIC_URL, READER_TOKEN, WRITER_TOKEN, Site, seed

from stockwire.runtime.auth import hash_token
from stockwire.runtime.migrate import upgrade
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import ApiToken, Settings
from stockwire.stock.bootstrap import bootstrap
from stockwire.stock.settings import StockSettings


@pytest.fixture(scope="session")
async def stock_settings(settings: Settings) -> StockSettings:
    """The shared servers, a migrated stock database, and a token per scope."""
    await asyncio.to_thread(upgrade, settings, "stock")
    tokens = [
        ApiToken(name="writer", sha256=hash_token(WRITER_TOKEN), scopes={"read", "write"}),
        ApiToken(name="admin", sha256=hash_token(ADMIN_TOKEN), scopes={"admin"}),
        ApiToken(name="reader", sha256=hash_token(READER_TOKEN), scopes={"read"}),
    ]
    overrides = {
        "api_tokens": tokens,
        "consumer_retry_initial_s": 0.05,
        "consumer_retry_max_s": 1.0,
        "stock_public_url": PUBLIC_URL,
    }
    return StockSettings(**(settings.model_dump() | overrides))


@pytest.fixture(scope="session")
async def stock_service(
    stock_settings: StockSettings,
) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """The app with its lifespan running: broker, consumers and outbox relay started."""
    app, runtime = bootstrap(stock_settings)
    async with app.router.lifespan_context(app):
        yield app, runtime


@pytest.fixture(scope="session")
def stock_runtime(stock_service: tuple[FastAPI, ServiceRuntime]) -> ServiceRuntime:
    return stock_service[1]


@pytest.fixture(scope="session")
def stock_engine(stock_runtime: ServiceRuntime) -> AsyncEngine:
    return stock_runtime.engine


def _client(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://stock.test",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture(scope="session")
async def writer(stock_service: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose token has the read and write scopes."""
    async with _client(stock_service[0], WRITER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def admin(stock_service: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(stock_service[0], ADMIN_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def reader(stock_service: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(stock_service[0], READER_TOKEN) as client:
        yield client


@pytest.fixture
async def site(stock_runtime: ServiceRuntime) -> Site:
    """A fresh small network of locations in stock's catalog copy (see ``Site``)."""
    site = Site()
    await seed(stock_runtime, locations=site.locations())
    return site


@pytest.fixture(scope="module")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    """A plain producer, for publishing to stock's inbound topics as their owners would."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    yield producer
    await producer.stop()
