"""What every benchmark of a service process shares: its log folder and database prefix,
its error, a main that runs it alone on the PostgreSQL server, on the test stack, the
service as sampled child processes on a fresh database, its own account of its consumers
(``/metrics``), events as ready-to-publish records, and filling its catalog copy."""

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import asyncpg
import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families
from report import progress
from stock_load import PLACEHOLDER_TIME, Publisher, Record

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import wrap
from stockwire.contracts.topics import CATALOG_ITEMS, CATALOG_LOCATIONS, TopicSpec
from stockwire.devstack.ports import free_port
from stockwire.devstack.teststack import environment, test_stack
from stockwire.runtime.db import asyncpg_dsn, drop_database
from stockwire.runtime.harness import ProcessFailed, ServiceProcess, migrate
from stockwire.runtime.settings import Settings

PREFIX = "stockwire_bench_"
"""Benchmarks' databases: fixed names, dropped and made again so every run starts clean."""
LOG_DIR = Path(".stockwire/bench")
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def main(name: str, lock: int, run: Callable[[Settings], Awaitable[bool]]) -> NoReturn:
    """Run benchmark ``name`` on the test stack and exit 0 if every target was met."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with test_stack() as settings:
        bench = settings.model_copy(update={"database_prefix": PREFIX})
        try:
            ok = asyncio.run(_exclusive(name, lock, bench, run))
        except (BenchError, ProcessFailed) as error:
            progress(f"error: {error}")
            ok = False
        except (KeyboardInterrupt, asyncio.CancelledError):
            progress(f"interrupted; the {name} service was stopped")
            sys.exit(130)
    sys.exit(0 if ok else 1)


async def _exclusive(
    name: str, lock: int, settings: Settings, run: Callable[[Settings], Awaitable[bool]]
) -> bool:
    """``run``, alone on this PostgreSQL (a session advisory lock held for the whole run:
    two runs would drop each other's databases, and on 2 cores their figures would mean
    nothing anyway; the lock goes with the connection, so a killed run never leaves it),
    and cancelled, so its service is stopped, on SIGTERM as on Ctrl-C."""
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    conn = await asyncpg.connect(asyncpg_dsn(settings.server_url()))
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock):
            progress(f"another bench-{name} run is using this PostgreSQL; waiting for it ...")
            await conn.execute("SELECT pg_advisory_lock($1)", lock)
        return await run(settings)
    finally:
        await conn.close()


# --------------------------------------------------------------------------- the service


class BenchService:
    """A service as child processes (``instances`` of them, one consumer group), their
    memory sampled every 200 ms: the peak of their sum, overall and per phase of the run
    (the benchmark sets :attr:`phase`)."""

    def __init__(self, service: str, env: dict[str, str], instances: int = 1) -> None:
        self.service = service
        self.env = env
        self.ports = [free_port() for _ in range(instances)]
        self.instances = [
            ServiceProcess.service(
                service,
                port=port,
                log_path=LOG_DIR / f"{service}-service{'' if n == 1 else f'-{n}'}.log",
                env=env,
            )
            for n, port in enumerate(self.ports, start=1)
        ]
        self.peak_rss = 0
        self.phase = "start"
        self.phase_peaks: dict[str, int] = {}
        self._sampler: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The first instance's HTTP address."""
        return f"http://127.0.0.1:{self.ports[0]}"

    @property
    def log_path(self) -> Path:
        return self.instances[0].log_path

    @property
    def pids(self) -> list[int]:
        return [i.pid for i in self.instances if i.pid is not None]

    async def migrate(self) -> None:
        log_path = LOG_DIR / f"{self.service}-migrate.log"
        log_path.unlink(missing_ok=True)  # one run's log per file: the harness appends
        await migrate(self.service, log_path, self.env)

    async def start(self) -> None:
        for instance in self.instances:
            instance.log_path.unlink(missing_ok=True)
            await instance.start()
        self._sampler = asyncio.create_task(self._sample_rss())

    def check(self) -> None:
        """Raise with the end of its log if a service process has exited."""
        for instance in self.instances:
            instance.check()

    async def wait_ready(self) -> float:
        started = time.perf_counter()
        for instance in self.instances:
            self.check()
            await instance.wait_ready(READY_TIMEOUT_S - (time.perf_counter() - started))
        return time.perf_counter() - started

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        await asyncio.gather(*(self._stop(instance) for instance in self.instances))

    async def _stop(self, instance: ServiceProcess) -> None:
        was_running = instance.running
        if await instance.stop(STOP_TIMEOUT_S) == -signal.SIGKILL and was_running:
            progress(
                f"the {self.service} service (pid {instance.pid}) did not stop within "
                f"{STOP_TIMEOUT_S:.0f} s; it was killed"
            )

    async def _sample_rss(self) -> None:
        roots = []
        for pid in self.pids:
            with contextlib.suppress(psutil.Error):
                roots.append(psutil.Process(pid))
        while True:
            total = 0
            for root in roots:
                with contextlib.suppress(psutil.Error):
                    for proc in (root, *root.children(recursive=True)):
                        with contextlib.suppress(psutil.Error):
                            total += proc.memory_info().rss
            self.peak_rss = max(self.peak_rss, total)
            self.phase_peaks[self.phase] = max(self.phase_peaks.get(self.phase, 0), total)
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_service(
    settings: Settings,
    service: str,
    *,
    instances: int = 1,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[BenchService]:
    """``service`` migrated on a fresh database and started (wait for it with
    :meth:`BenchService.wait_ready`), with ``env`` on top of the stack's settings;
    stopped on the way out."""
    await drop_database(settings, settings.database_name(service))
    child_env = {
        **os.environ,
        **environment(settings),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    running = BenchService(service, child_env, instances)
    await running.migrate()
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


async def checkpoint(settings: Settings) -> None:
    """Flush what a ceiling wrote, so the service's run does not pay for it."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.server_url()))
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        pass
    finally:
        await conn.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_seconds(service: str, pids: Sequence[int]) -> dict[str, float]:
    """CPU seconds used so far by the service's processes ``pids`` (and their children),
    PostgreSQL's processes, the broker (Tansu), this benchmark, and the rest of the
    machine's busy time (``other``: whatever else runs), to see where a phase's time went
    (``service`` names the service's entry). PostgreSQL's figure includes other clients'
    work on the same server."""
    own: set[int] = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            own.update(proc.pid for proc in (root, *root.children(recursive=True)))
    used: dict[str, float] = dict.fromkeys(("bench", "postgres", "broker", service, "other"), 0.0)
    for proc in psutil.process_iter(["pid", "name", "cpu_times"]):
        name = (proc.info["name"] or "").lower()
        times = proc.info["cpu_times"]
        if times is None:
            continue
        if proc.info["pid"] in own:
            used[service] += times.user + times.system
        elif proc.info["pid"] == os.getpid():
            used["bench"] += times.user + times.system
        elif name.startswith(("postgres", "postmaster")):
            used["postgres"] += times.user + times.system
        elif name.startswith("tansu"):
            used["broker"] += times.user + times.system
    machine = psutil.cpu_times()
    busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
    used["other"] = busy - sum(used.values())
    return used


# --------------------------------------------------------------------------- its metrics

RELAY = "relay"
"""The key :func:`consumer_metrics` files the outbox relay's figures under."""


async def consumer_metrics(client: httpx.AsyncClient, consumers: Sequence[str]) -> dict[str, float]:
    """The service's own account of its ``consumers`` and relay (``/metrics``): polls,
    records and seconds applying, per consumer; rounds and seconds publishing. Counters
    since the service started: subtract two readings for a phase (:func:`metrics_delta`)."""
    answer = await client.get("/metrics")
    found: dict[str, float] = {}
    wanted = {
        "stockwire_consumer_apply_duration_seconds": "apply",
        "stockwire_consumer_batch_size": "batch",
        "stockwire_outbox_publish_duration_seconds": "relay",
    }
    for family in text_string_to_metric_families(answer.text):
        short = wanted.get(family.name)
        if short is None:
            continue
        for sample in family.samples:
            owner = sample.labels.get("consumer", "")
            if owner and owner not in consumers:
                continue
            suffix = sample.name.removeprefix(family.name)
            if suffix in ("_sum", "_count"):
                found[f"{short}{suffix}:{owner or RELAY}"] = sample.value
    return found


def metrics_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: value - before.get(name, 0.0) for name, value in after.items()}


def explain_metrics(metrics: Mapping[str, float], seconds: float, consumers: Sequence[str]) -> str:
    """One line per consumer: polls, records per poll, ms per poll, share of the window
    spent applying; and the relay's."""
    lines = []
    for consumer in consumers:
        polls = metrics.get(f"apply_count:{consumer}", 0.0)
        if not polls:
            continue
        busy = metrics.get(f"apply_sum:{consumer}", 0.0)
        records = metrics.get(f"batch_sum:{consumer}", 0.0)
        lines.append(
            f"{consumer}: {polls:.0f} polls of {records / polls:.0f} records, "
            f"{busy / polls * 1000:.0f} ms each ({busy / records * 1e6:.0f} us a record), "
            f"applying {busy / seconds:.0%} of the window"
        )
    rounds = metrics.get(f"relay_count:{RELAY}", 0.0)
    if rounds:
        busy = metrics.get(f"relay_sum:{RELAY}", 0.0)
        lines.append(
            f"outbox relay: {rounds:.0f} rounds, {busy / rounds * 1000:.0f} ms each, "
            f"publishing {busy / seconds:.0%} of the window"
        )
    return "\n".join(f"  {line}" for line in lines)


# --------------------------------------------------------------------------- the catalog


def event_record(payload: Event, spec: TopicSpec, producer: str) -> Record:
    """``payload`` in a new envelope from ``producer``, keyed as ``spec`` says; the
    publisher stamps its ``occurred_at`` with the send time."""
    envelope = wrap(payload, producer=producer, occurred_at=PLACEHOLDER_TIME)
    return Record(
        topic=spec.name,
        key=spec.key_for(payload).encode(),
        value=envelope.model_dump_json().encode(),
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        legs=(),
    )


async def fill_catalog(
    publisher: Publisher,
    conn: asyncpg.Connection,
    service: BenchService,
    items: Sequence[Event],
    locations: Sequence[Event],
    stall_s: float,
) -> None:
    """Publish the catalog upserts and wait until the service's read copy (on ``conn``)
    has them all."""
    records = [event_record(p, CATALOG_ITEMS, "catalog") for p in items] + [
        event_record(p, CATALOG_LOCATIONS, "catalog") for p in locations
    ]
    await publisher.publish(records)
    progress(f"catalog: published {len(items)} items and {len(locations)} locations; waiting ...")
    started = time.perf_counter()
    while True:
        service.check()
        have_items = await conn.fetchval("SELECT count(*) FROM catalog_items")
        have_locations = await conn.fetchval("SELECT count(*) FROM catalog_locations")
        if have_items >= len(items) and have_locations >= len(locations):
            progress(f"catalog: the service has it after {time.perf_counter() - started:.1f}s")
            return
        if time.perf_counter() - started > stall_s:
            raise BenchError(
                f"the {service.service} service's catalog copy has {have_items}/{len(items)} "
                f"items and {have_locations}/{len(locations)} locations after {stall_s:.0f}s"
            )
        await asyncio.sleep(0.5)
