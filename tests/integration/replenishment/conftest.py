"""Replenishment through its real wiring: migrated database, runtime, consumers and app,
on the session's Tansu and PostgreSQL. Tests publish what stock, assets and the catalog
would (through the broker) and read what replenishment answers and publishes; random
SKUs, location codes and regions keep them apart in the shared database."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from replenishment_refs import (
    PUBLIC_URL,
    READER_TOKEN,
    WRITER_TOKEN,
    eventually,
    location,
    publish,
    ref,
)

from stockwire.contracts.vocabulary import LocationKind
from stockwire.replenishment.bootstrap import bootstrap
from stockwire.replenishment.settings import ReplenishmentSettings
from stockwire.replenishment.sweeps import sweep_round
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.auth import hash_token
from stockwire.runtime.migrate import upgrade
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import ApiToken, Settings


@pytest.fixture(scope="session")
async def replenishment_settings(settings: Settings) -> ReplenishmentSettings:
    await asyncio.to_thread(upgrade, settings, "replenishment")
    tokens = [
        ApiToken(name="writer", sha256=hash_token(WRITER_TOKEN), scopes={"read", "write"}),
        ApiToken(name="reader", sha256=hash_token(READER_TOKEN), scopes={"read"}),
    ]
    overrides = {
        "api_tokens": tokens,
        "consumer_retry_initial_s": 0.05,
        "consumer_retry_max_s": 1.0,
        "replenishment_public_url": PUBLIC_URL,
        # The session's re-plan and sweep run once at start; tests run them when they need.
        "replenishment_replan_interval_s": 86_400,
        "replenishment_sweep_interval_s": 86_400,
    }
    return ReplenishmentSettings(**(settings.model_dump() | overrides))


@pytest.fixture(scope="session")
async def replenishment_service(
    replenishment_settings: ReplenishmentSettings, producer: AIOKafkaProducer
) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """The app with its lifespan running, once its catalog copy takes events: a test's
    items and locations then reach the copy before its levels are evaluated, as in a
    running system where the catalog has long been told of them."""
    app, runtime = bootstrap(replenishment_settings)
    async with app.router.lifespan_context(app):
        probe = ref("PROBE")
        await publish(
            producer, location(probe, LocationKind.WAREHOUSE, "PROBE"), producer_name="catalog"
        )
        await eventually(lambda: _copied(runtime, probe), bool)
        yield app, runtime


async def _copied(runtime: ServiceRuntime, code: str) -> bool:
    async with runtime.engine.connect() as conn:
        found = await conn.scalar(
            sa.text("SELECT count(*) FROM catalog_locations WHERE code = :code"), {"code": code}
        )
    return bool(found)


OVERDUE_HOURS = 1e-6
"""What the tests' sweep takes as too long for a suggestion to wait: every open one is."""


@pytest.fixture
def sweep(
    replenishment_settings: ReplenishmentSettings, replenishment_runtime: ServiceRuntime
) -> Callable[[], Awaitable[str]]:
    """Runs one sweep as the service's periodic job does, with every open suggestion
    overdue; answers what the sweep logs."""
    settings = replenishment_settings.model_copy(
        update={"replenishment_suggestion_overdue_hours": OVERDUE_HOURS}
    )

    def new_uow() -> ReplenishmentUnitOfWork:
        return ReplenishmentUnitOfWork(
            replenishment_runtime.sessions,
            replenishment_runtime.outbox,
            planning=replenishment_settings.planning(),
        )

    async def run() -> str:
        done = await sweep_round(settings, new_uow)
        assert done != "another instance is sweeping"
        return done

    return run


@pytest.fixture(scope="session")
def replenishment_runtime(replenishment_service: tuple[FastAPI, ServiceRuntime]) -> ServiceRuntime:
    return replenishment_service[1]


def _client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://replenishment.test",
        headers=headers,
    )


@pytest.fixture(scope="session")
async def writer(
    replenishment_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(replenishment_service[0], WRITER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def reader(
    replenishment_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(replenishment_service[0], READER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def anonymous(
    replenishment_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(replenishment_service[0], None) as client:
        yield client


@pytest.fixture(scope="session")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    yield producer
    await producer.stop()
