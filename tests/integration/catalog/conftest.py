"""The catalog service through its real wiring: migrated database, runtime, HTTP app."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from catalog_refs import READER_TOKEN, WRITER_TOKEN
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.catalog.bootstrap import bootstrap
from stockwire.catalog.settings import CatalogSettings
from stockwire.catalog.unit_of_work import CatalogUnitOfWork
from stockwire.runtime.auth import hash_token
from stockwire.runtime.migrate import upgrade
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import ApiToken, Settings


@pytest.fixture(scope="session")
async def catalog_settings(settings: Settings) -> CatalogSettings:
    """The shared settings with a migrated catalog database and two test tokens."""
    await asyncio.to_thread(upgrade, settings, "catalog")
    tokens = [
        ApiToken(name="writer", sha256=hash_token(WRITER_TOKEN), scopes={"read", "write"}),
        ApiToken(name="reader", sha256=hash_token(READER_TOKEN), scopes={"read"}),
    ]
    return CatalogSettings(**(settings.model_dump() | {"api_tokens": tokens}))


@pytest.fixture(scope="session")
async def catalog(
    catalog_settings: CatalogSettings,
) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """The app with its lifespan running, so the runtime (relay included) is started."""
    app, runtime = bootstrap(catalog_settings)
    async with app.router.lifespan_context(app):
        yield app, runtime


@pytest.fixture(scope="session")
def runtime(catalog: tuple[FastAPI, ServiceRuntime]) -> ServiceRuntime:
    return catalog[1]


@pytest.fixture(scope="session")
def engine(runtime: ServiceRuntime) -> AsyncEngine:
    return runtime.engine


@pytest.fixture
def uow(runtime: ServiceRuntime) -> CatalogUnitOfWork:
    return CatalogUnitOfWork(runtime.sessions, runtime.outbox)


def _client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://catalog.test", headers=headers
    )


@pytest.fixture(scope="session")
async def client(catalog: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a token with the read and write scopes."""
    async with _client(catalog[0], WRITER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def reader(catalog: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose token has only the read scope."""
    async with _client(catalog[0], READER_TOKEN) as client:
        yield client


@pytest.fixture(scope="session")
async def anonymous(catalog: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(catalog[0], None) as client:
        yield client
