"""Fixtures for the shared HTTP layer's tests: every service's app, built but with its
lifespan not run (these tests need the HTTP layer and the database, not the broker)."""

import asyncio
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from http_refs import SERVICES, build_app

from stockwire.runtime.migrate import upgrade
from stockwire.runtime.settings import Settings


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> Settings:
    for service in SERVICES:
        await asyncio.to_thread(upgrade, settings, service)
    return settings


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app_of(migrated: Settings) -> Callable[..., FastAPI]:
    def make(service: str, **overrides: object) -> FastAPI:
        return build_app(service, migrated, **overrides)

    return make
