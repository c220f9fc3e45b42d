"""A scratch service database and scratch topics for exercising the runtime on its own."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from runtime_helpers import MESSAGING, PROBE_SERVICE, metadata, topic_spec
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stockwire.contracts.topics import TopicSpec
from stockwire.runtime.db import create_engine, ensure_database, session_factory
from stockwire.runtime.settings import Settings


@pytest.fixture(scope="session")
async def probe_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    await ensure_database(settings, PROBE_SERVICE)
    engine = create_engine(settings, PROBE_SERVICE)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(probe_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(probe_engine)


@pytest.fixture
async def clean_outbox(probe_engine: AsyncEngine) -> None:
    """Relays publish every unsent row, so each test starts from an empty outbox."""
    async with probe_engine.begin() as conn:
        await conn.execute(sa.delete(MESSAGING.outbox))


@pytest.fixture
async def scratch_topic(settings: Settings) -> Callable[..., Awaitable[TopicSpec]]:
    """Creates a fresh topic (and its dead-letter topic) carrying catalog item payloads."""

    async def create(partitions: int = 3) -> TopicSpec:
        spec = topic_spec(f"test.runtime-{uuid.uuid4().hex[:12]}.v1", partitions)
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(spec.name, partitions, 1), NewTopic(spec.dlq, 1, 1)]
            )
        finally:
            await admin.close()
        return spec

    return create
