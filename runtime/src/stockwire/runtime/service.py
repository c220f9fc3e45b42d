"""Bootstrap for a service process: one place wires database, broker, outbox and HTTP.

A service builds a :class:`ServiceRuntime`, registers its consumers and background jobs,
builds its HTTP app with :func:`stockwire.runtime.http.app.create_app`, and calls
:func:`serve`. The app's lifespan starts the broker, the outbox relay and the background
jobs and stops them on shutdown; uvicorn turns SIGINT/SIGTERM into that shutdown.
"""

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial

import uvicorn
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stockwire.runtime.broker import create_broker
from stockwire.runtime.db import create_engine, session_factory
from stockwire.runtime.inbox import Inbox
from stockwire.runtime.outbox import OutboxWriter
from stockwire.runtime.relay import OutboxRelay
from stockwire.runtime.retention import purge_periodically
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import MessagingTables
from stockwire.runtime.telemetry import configure_logging, configure_tracing

log = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """Everything one service process shares: built once, handed to entry points."""

    name: str
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox: OutboxWriter
    inbox: Inbox
    broker: KafkaBroker
    relay: OutboxRelay
    tracer_provider: TracerProvider
    _jobs: dict[str, Callable[[], Coroutine[object, object, None]]] = field(
        default_factory=dict, repr=False
    )
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, repr=False)
    _relay_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _readiness: tuple[float, dict[str, str]] | None = field(default=None, repr=False)
    _readiness_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def run_in_background(
        self, name: str, job: Callable[[], Coroutine[object, object, None]]
    ) -> None:
        """Run ``job()`` as a task from start until stop, which cancels it; register before
        start. It runs until cancelled, so it handles its own failures (log, retry)."""
        self._jobs[f"{self.name}-{name}"] = job

    async def start(self) -> None:
        await start_broker(self.broker)
        await self.relay.start()
        self._relay_task = asyncio.create_task(self.relay.run(), name=f"{self.name}-relay")
        self._tasks.append(self._relay_task)
        self._tasks.append(
            asyncio.create_task(
                purge_periodically(self.settings, self.name), name=f"{self.name}-retention"
            )
        )
        for name, job in self._jobs.items():
            self._tasks.append(asyncio.create_task(job(), name=name))

    async def stop(self) -> None:
        """Stop everything started, in order; every step runs even if one before it
        failed, so the broker, the database pool and the trace exporter are always
        released. Each failure is logged; the first is raised once all steps ran."""
        failures: list[BaseException] = []
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as error:
                log.exception("%s: background task %s failed while stopping", self.name, task)
                failures.append(error)
        self._tasks.clear()
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("outbox relay", self.relay.stop),
            ("broker", self.broker.stop),
            ("database pool", self.engine.dispose),
            ("trace exporter", partial(asyncio.to_thread, self.tracer_provider.shutdown)),
        ]
        for what, step in steps:
            try:
                await step()
            except Exception as error:
                log.exception("%s: stopping the %s failed", self.name, what)
                failures.append(error)
        if failures:
            raise failures[0]

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state; all "ok" means ready.

        The answer is reused for ``readiness_cache_s``, and concurrent callers share one
        check: a probe costs a pool connection and a broker round trip, and a storm of
        probes must not take the pool from the requests they are meant to protect.
        """
        async with self._readiness_lock:
            now = time.monotonic()
            if self._readiness is not None:
                checked_at, checks = self._readiness
                if now - checked_at < self.settings.readiness_cache_s:
                    return dict(checks)
            checks = await self._check_readiness()
            self._readiness = (time.monotonic(), checks)
            return dict(checks)

    async def _check_readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"unreachable: {error.__class__.__name__}"
        checks["broker"] = "ok" if await self.broker.ping(timeout=2.0) else "unreachable"
        checks["relay"] = self._relay_state()
        return checks

    def _relay_state(self) -> str:
        """The relay's own account of itself, unless its task is gone."""
        task = self._relay_task
        if task is None:
            return "not started"
        if task.done():
            error = None if task.cancelled() else task.exception()
            return f"stopped: {type(error).__name__}" if error else "stopped"
        return self.relay.health()


async def start_broker(broker: KafkaBroker) -> None:
    """``broker.start()``, but joining every consumer group at once.

    FastStream starts subscribers one after another, and each waits for its group to
    form (about 5 s on Tansu, the initial rebalance delay on Kafka), so a service with
    five consumers took half a minute to become ready. Their starts are independent.
    """
    await broker.connect()
    await asyncio.gather(*(subscriber.start() for subscriber in broker.subscribers))
    for publisher in broker.publishers:
        await publisher.start()
    broker.running = True


def build_runtime(name: str, settings: Settings, tables: MessagingTables) -> ServiceRuntime:
    configure_logging(name, settings)
    tracer_provider = configure_tracing(name, settings)
    engine = create_engine(settings, name)
    instrumentor = AsyncPGInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=tracer_provider)
    return ServiceRuntime(
        name=name,
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        outbox=OutboxWriter(tables, producer=name),
        inbox=Inbox(tables),
        broker=create_broker(settings, name, tracer_provider=tracer_provider),
        relay=OutboxRelay(settings, name),
        tracer_provider=tracer_provider,
    )


GC_THRESHOLDS = (50_000, 20, 100)
"""Python's default (700, 10, 10) runs a young collection every 700 allocations; a
consumer batch allocates millions of short-lived objects, and collecting that often cost
a busy stock service about 13% of its throughput (``make bench-stock``)."""


def tune_garbage_collector() -> None:
    """Move what start-up built (modules, models, schemas) out of the collector's sight,
    and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(app: FastAPI, runtime: ServiceRuntime) -> None:
    """Run the service until SIGINT/SIGTERM."""
    tune_garbage_collector()
    uvicorn.run(
        app,
        host=runtime.settings.http_host,
        port=runtime.settings.port_of(runtime.name),
        log_config=None,
        access_log=False,
    )
