"""The notifier through its real wiring: migrated database, runtime, consumers, ticker,
delivery worker and app, on the session's Tansu and PostgreSQL, with local receivers."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from notifier_refs import LINK_SECRET, READER_TOKEN, WRITER_TOKEN

from stockwire.devstack.receivers import ChatReceiver, SmtpSink
from stockwire.notifier.bootstrap import bootstrap
from stockwire.notifier.settings import NotifierSettings
from stockwire.runtime.auth import hash_token
from stockwire.runtime.migrate import upgrade
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import ApiToken, Settings


@pytest.fixture(scope="session")
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
async def notifier_settings(settings: Settings, smtp_sink: SmtpSink) -> NotifierSettings:
    await asyncio.to_thread(upgrade, settings, "notifier")
    tokens = [
        ApiToken(name="writer", sha256=hash_token(WRITER_TOKEN), scopes={"read", "write"}),
        ApiToken(name="reader", sha256=hash_token(READER_TOKEN), scopes={"read"}),
    ]
    overrides = {
        "api_tokens": tokens,
        "consumer_retry_initial_s": 0.05,
        "consumer_retry_max_s": 1.0,
        "notifier_smtp_host": smtp_sink.host,
        "notifier_smtp_port": smtp_sink.port,
        "notifier_link_secret": LINK_SECRET,
        "notifier_retry_initial_s": 0.05,
        "notifier_retry_max_s": 0.2,
        "notifier_delivery_attempts": 3,
        "notifier_tick_s": 0.05,
        "notifier_send_timeout_s": 2.0,
        "notifier_delivery_lease_s": 5.0,
    }
    return NotifierSettings(**(settings.model_dump() | overrides))


@pytest.fixture(scope="session")
async def notifier_service(
    notifier_settings: NotifierSettings,
) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    app, runtime = bootstrap(notifier_settings)
    async with app.router.lifespan_context(app):
        yield app, runtime


def _client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notifier.test", headers=headers
    )


@pytest.fixture(scope="session")
async def writer(
    notifier_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(notifier_service[0], WRITER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def reader(
    notifier_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(notifier_service[0], READER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def anonymous(
    notifier_service: tuple[FastAPI, ServiceRuntime],
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(notifier_service[0], None) as client:
        yield client


@pytest.fixture
async def chat() -> AsyncIterator[ChatReceiver]:
    async with ChatReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    yield producer
    await producer.stop()
