"""Notifier: alert-to-chat latency, a storm's message count, and a SIGKILL mid-storm.

The broker, PostgreSQL and the notifier run as real processes (the notifier is
``python -m stockwire.notifier`` after its migrations, on a freshly created
``stockwire_bench_notifier`` database). Local chat receivers (``devstack.receivers``) in
this process are its channels (type ``json``: Apprise's generic JSON webhook, the real
HTTP client), and alerts are ``StockAlertRaised`` events on ``stock.alerts.v1``, sent by a
real Kafka producer with acks=all. Rules and channels are made over the notifier's HTTP
API. Every alert carries its dedup key in its summary (``[<key>]``), and labels naming the
run and the phase, so each phase's rule sees only its own alerts.

1. Latency: ``BENCH_LATENCY_RATE`` alerts/s (100) for ``BENCH_LATENCY_SECONDS`` (30), each
   at its own location, a tenth of them critical, to a rule grouping by location with
   ``group_wait_s`` 0 and no digest, so each alert is one message. Its latency runs from
   the moment it was handed to the producer to the arrival at the receiver of the message
   naming it: ``delivery_p50_ms``, ``delivery_p99_ms`` (target < 1 s).
2. Storm: ``BENCH_STORM_ALERTS`` (5,000) in ``BENCH_STORM_SECONDS`` (10) across 200
   locations, stockouts and count variances, 20 of them critical, to a rule grouping by
   location with a digest (more than 10 of a kind within 60 s). After the digest window
   closes: ``storm_messages`` arrived (target <= 50), and ``storm_critical_not_alone``,
   the critical alerts with no message naming just them (target 0). ``storm_applied_per_s``
   is the storm's alerts over the time until the notifier held all of them.
3. Kill: ``BENCH_KILL_ALERTS`` (1,500) at 150/s, each its own message (as in 1), to a
   receiver that answers after ``BENCH_KILL_DELAY_MS`` (200 ms), so deliveries are in
   flight. Once a fifth of them arrived, while alerts are still being published, the
   notifier's process group gets SIGKILL; it is started again and the run waits until
   every alert has been told. ``kill_in_flight`` / ``kill_pending`` are the deliveries
   leased to a sender / not yet sent at the kill (read from its table after the kill).

A received message is identified by its content (title and text): the delivery row with
that content says which alerts it tells (a digest shows 20 and counts the rest), so
``lost`` (target 0) is every alert of the three phases that no received message tells,
and ``duplicates_after_kill`` the kill phase's messages that arrived more than once.
``rss_mb`` is the notifier's peak resident memory, sampled every 200 ms.

    make bench-notifier                      # ~4 minutes
    BENCH_LATENCY_SECONDS=10 BENCH_STORM_ALERTS=2000 make bench-notifier

The notifier's log is ``.stockwire/bench/notifier-service.log``.
"""

import asyncio
import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import psutil
import service_bench
from aiokafka import AIOKafkaProducer
from report import Target, progress, report
from service_bench import LOG_DIR, BenchError, cpu_seconds, percentile

from stockwire.contracts.envelope import wrap
from stockwire.contracts.stock import StockAlertRaised
from stockwire.contracts.topics import topic_for
from stockwire.contracts.vocabulary import AlertKind, AlertSeverity
from stockwire.devstack.ports import free_port
from stockwire.devstack.receivers import ChatReceiver, ReceivedRequest
from stockwire.devstack.teststack import environment
from stockwire.runtime.db import asyncpg_dsn
from stockwire.runtime.harness import ServiceProcess, migrate, tail
from stockwire.runtime.settings import Settings

SERVICE = "notifier"
LATENCY_RATE = float(os.environ.get("BENCH_LATENCY_RATE", "100"))
LATENCY_S = float(os.environ.get("BENCH_LATENCY_SECONDS", "30"))
STORM_ALERTS = int(os.environ.get("BENCH_STORM_ALERTS", "5000"))
STORM_S = float(os.environ.get("BENCH_STORM_SECONDS", "10"))
STORM_LOCATIONS = 200
STORM_CRITICAL = 20
DIGEST_THRESHOLD = 10
DIGEST_WINDOW_S = 60
KILL_ALERTS = int(os.environ.get("BENCH_KILL_ALERTS", "1500"))
KILL_RATE = 150.0
KILL_DELAY_S = float(os.environ.get("BENCH_KILL_DELAY_MS", "200")) / 1000
KILL_AT_SHARE = 0.2
LEASE_S = 5.0
"""The notifier's delivery lease here (default 30 s): a delivery whose sender was killed
is sent again this long after its claim, so the run need not wait half a minute."""
SEND_TIMEOUT_S = 3.0
READY_TIMEOUT_S = 120
JOIN_TIMEOUT_S = 90
"""The first alert's delivery waits for the consumer group to form on Tansu."""
SETTLE_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
RUN_LOCK = 0x5354_4245_4E43_484E >> 1
"""Advisory lock key ("STBENCHN") that keeps two runs on one PostgreSQL apart."""
MARKER = re.compile(r"\[(bench-[0-9a-f]{8}:[a-z]+:\d+)\]")

TARGETS: dict[str, Target] = {
    "delivery_p99_ms": ("<=", 1000),
    "storm_messages": ("<=", 50),
    "storm_critical_not_alone": ("<=", 0),
    "lost": ("<=", 0),
}


# --------------------------------------------------------------------------- the service


class NotifierService:
    """The notifier as a child process, its memory sampled; it can be killed and started
    again (the sampler follows the new process)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = ServiceProcess.service(
            SERVICE, port=self.port, log_path=LOG_DIR / "notifier-service.log", env=env
        )
        self.env = env
        self.peak_rss = 0
        self._sampler: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> float:
        """Start and wait until ready; the seconds that took."""
        await self.process.start()
        if self._sampler is None:
            self._sampler = asyncio.create_task(self._sample_rss())
        return await self.process.wait_ready(READY_TIMEOUT_S)

    @property
    def pids(self) -> list[int]:
        return [] if self.process.pid is None else [self.process.pid]

    def check(self) -> None:
        self.process.check()

    async def kill(self) -> None:
        await self.process.kill()

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        if await self.process.stop(STOP_TIMEOUT_S) == -signal.SIGKILL:
            progress(f"the notifier did not stop within {STOP_TIMEOUT_S:.0f} s; it was killed")

    async def _sample_rss(self) -> None:
        while True:
            pid = self.process.pid
            if pid is not None and self.process.running:
                total = 0
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    for proc in (root, *root.children(recursive=True)):
                        with contextlib.suppress(psutil.Error):
                            total += proc.memory_info().rss
                self.peak_rss = max(self.peak_rss, total)
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_notifier(settings: Settings, token: str) -> AsyncIterator[NotifierService]:
    """A migrated, ready notifier on a fresh database, accepting ``token``; stopped on the
    way out."""
    admin = await asyncpg.connect(asyncpg_dsn(settings.server_url()))
    try:
        name = settings.database_name(SERVICE)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    digest = hashlib.sha256(token.encode()).hexdigest()
    env = {
        **os.environ,
        **environment(settings),
        "PYTHONUNBUFFERED": "1",
        "STOCKWIRE_API_TOKENS": json.dumps(
            [{"name": "bench", "sha256": digest, "scopes": ["read", "write"]}]
        ),
        "STOCKWIRE_CONSUMER_GROUP_PREFIX": f"bench-{uuid.uuid4().hex[:8]}-",
        "STOCKWIRE_NOTIFIER_DELIVERY_LEASE_S": str(LEASE_S),
        "STOCKWIRE_NOTIFIER_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S),
    }
    migrate_log = LOG_DIR / "notifier-migrate.log"
    migrate_log.unlink(missing_ok=True)
    await migrate(SERVICE, migrate_log, env)
    service = NotifierService(env)
    service.process.log_path.unlink(missing_ok=True)
    try:
        ready_s = await service.start()
        progress(f"notifier: ready after {ready_s:.1f}s (pid {service.process.pid})")
        yield service
    finally:
        await service.stop()


# --------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Planned:
    """An alert to publish, and the dedup key its summary carries."""

    alert: StockAlertRaised

    @property
    def key(self) -> str:
        return self.alert.dedup_key

    @property
    def critical(self) -> bool:
        return self.alert.severity is AlertSeverity.CRITICAL


def planned(
    run: str,
    phase: str,
    n: int,
    *,
    kind: AlertKind,
    location: str,
    critical: bool,
) -> Planned:
    key = f"{run}:{phase}:{n}"
    sku = f"ONT-{n % 97:03d}"
    return Planned(
        StockAlertRaised(
            alert_id=uuid.uuid4(),
            kind=kind,
            severity=AlertSeverity.CRITICAL if critical else AlertSeverity.WARNING,
            dedup_key=key,
            summary=f"{sku} {kind.value.replace('_', ' ')} at {location} [{key}]",
            sku=sku,
            location=location,
            region="BENCH",
            labels={"run": run, "phase": phase},
            figures={"available": Decimal(0), "was_available": Decimal(n % 7 + 1)},
            link=f"http://stock.example/api/v1/balances?sku={sku}",
            raised_at=datetime.now(UTC),
        )
    )


class Publisher:
    """A real Kafka producer (acks=all); notes when each alert was handed to it."""

    def __init__(self, settings: Settings) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            acks="all",
            linger_ms=5,
            enable_idempotence=settings.kafka_idempotence,
        )
        self.sent_at: dict[str, float] = {}

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(
        self, alerts: Sequence[Planned], rate: float, during: Callable[[int], None] | None = None
    ) -> float:
        """Publish ``alerts`` paced at ``rate`` per second until the last is acknowledged;
        the seconds it took. ``during(n)`` is called after each of them is handed over."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        acks: list[asyncio.Future[Any]] = []
        for n, item in enumerate(alerts):
            delay = started + n / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            spec = topic_for(StockAlertRaised)
            value = wrap(item.alert, producer="stock").model_dump_json().encode()
            self.sent_at[item.key] = time.time()
            acks.append(
                await self._producer.send(spec.name, value, key=spec.key_for(item.alert).encode())
            )
            if during is not None:
                during(n + 1)
        await asyncio.gather(*acks)
        return loop.time() - started


# --------------------------------------------------------------------------- observing


def content(request: ReceivedRequest) -> tuple[str, str]:
    """What identifies a message: its title and text, as the receiver got them."""
    body = request.json
    title = body.get("title", "") if isinstance(body, dict) else ""
    return str(title), (request.text or "").strip()


class Deliveries:
    """Reads the notifier's delivery table (a benchmark may; services don't) to learn which
    alerts a received message tells."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._by_content: dict[tuple[str, str], tuple[str, ...]] = {}

    async def refresh(self) -> None:
        rows = await self.conn.fetch("SELECT title, text, dedup_keys FROM deliveries")
        self._by_content = {
            (row["title"], row["text"].strip()): tuple(row["dedup_keys"]) for row in rows
        }

    def told(self, request: ReceivedRequest) -> tuple[str, ...] | None:
        """The alerts ``request`` tells; None when no delivery has its content."""
        return self._by_content.get(content(request))

    async def told_keys(self, requests: Iterable[ReceivedRequest]) -> set[str]:
        await self.refresh()
        keys: set[str] = set()
        for request in requests:
            keys.update(self.told(request) or ())
        return keys

    async def state(self) -> tuple[int, int]:
        """Deliveries not yet sent, and those of them leased to a sender now."""
        row = await self.conn.fetchrow(
            "SELECT count(*) AS pending, count(*) FILTER (WHERE lease_until > now()) AS leased "
            "FROM deliveries WHERE status = 'pending'"
        )
        assert row is not None, "an aggregate without GROUP BY answers one row"
        return int(row["pending"]), int(row["leased"])

    async def held_alerts(self, prefix: str) -> int:
        found = await self.conn.fetchval(
            "SELECT count(*) FROM alerts WHERE dedup_key LIKE $1", prefix + "%"
        )
        return int(found)


async def wait_for(
    condition: Callable[[], Awaitable[bool]],
    service: NotifierService,
    timeout_s: float,
    what: Callable[[], str],
) -> None:
    deadline = time.monotonic() + timeout_s
    last_line = time.monotonic()
    while not await condition():
        service.check()
        if time.monotonic() > deadline:
            raise BenchError(
                f"timed out after {timeout_s:.0f}s waiting for {what()}; the end of "
                f"{service.process.log_path}:\n{tail(service.process.log_path, 40)}"
            )
        if time.monotonic() - last_line > 5:
            last_line = time.monotonic()
            progress(f"  waiting for {what()}")
        await asyncio.sleep(0.2)


# --------------------------------------------------------------------------- configuring


class Api:
    """The notifier's HTTP API, for channels and rules."""

    def __init__(self, client: httpx.AsyncClient, run: str) -> None:
        self.client = client
        self.run = run

    async def channel(self, name: str, receiver: ChatReceiver) -> None:
        answer = await self.client.put(
            f"/api/v1/channels/{name}", json={"type": "json", "url": receiver.json_url(name)}
        )
        if answer.status_code != 200:
            raise BenchError(f"channel {name}: {answer.status_code} {answer.text}")

    async def rule(self, phase: str, channel: str, position: int, **extra: Any) -> None:
        body = {
            "name": f"{self.run} {phase}",
            "position": position,
            "matchers": [
                {"attribute": "label:run", "values": [self.run]},
                {"attribute": "label:phase", "values": [phase]},
            ],
            "channels": [channel],
            "stop": True,
            "group_by": ["location"],
            **extra,
        }
        answer = await self.client.post("/api/v1/rules", json=body)
        if answer.status_code != 201:
            raise BenchError(f"rule {phase}: {answer.status_code} {answer.text}")


ONE_BY_ONE = {"timing": {"group_wait_s": 0, "group_interval_s": 1, "repeat_interval_s": 86400}}
"""Each alert at its own location, in its own group, told at the next tick."""


# --------------------------------------------------------------------------- phases


@dataclass
class Figures:
    values: dict[str, float] = field(default_factory=dict)
    published: set[str] = field(default_factory=set)


async def warm_up(
    run: str, publisher: Publisher, chat: ChatReceiver, service: NotifierService
) -> None:
    """One alert through, so the consumer group has formed before anything is measured."""
    first = planned(run, "latency", 0, kind=AlertKind.STOCKOUT, location="WARM", critical=False)
    started = time.perf_counter()
    await publisher.publish([first], 1)

    async def arrived() -> bool:
        return bool(chat.requests)

    await wait_for(arrived, service, JOIN_TIMEOUT_S, lambda: "the first alert's delivery")
    progress(f"warm-up: the first alert arrived after {time.perf_counter() - started:.1f}s")


async def latency_phase(
    run: str,
    publisher: Publisher,
    chat: ChatReceiver,
    service: NotifierService,
    figures: Figures,
) -> None:
    count = int(LATENCY_RATE * LATENCY_S)
    alerts = [
        planned(
            run,
            "latency",
            n,
            kind=AlertKind.STOCKOUT if n % 2 else AlertKind.COUNT_VARIANCE,
            location=f"VAN-{n:05d}",
            critical=n % 10 == 3,
        )
        for n in range(1, count + 1)
    ]
    figures.published.update(a.key for a in alerts)
    progress(f"latency: {count} alerts at {LATENCY_RATE:.0f}/s ...")
    cpu_before = cpu_seconds(SERVICE, service.pids)
    publish_s = await publisher.publish(alerts, LATENCY_RATE)
    cpu_after = cpu_seconds(SERVICE, service.pids)
    arrival: dict[str, float] = {}

    def collect() -> None:
        for request in chat.requests:
            for key in MARKER.findall(request.text or ""):
                arrival.setdefault(key, request.received_at)

    async def all_arrived() -> bool:
        collect()
        return all(a.key in arrival for a in alerts)

    await wait_for(
        all_arrived,
        service,
        SETTLE_TIMEOUT_S,
        lambda: f"latency alerts: {sum(a.key in arrival for a in alerts)}/{count} arrived",
    )
    latencies = {a.key: (arrival[a.key] - publisher.sent_at[a.key]) * 1000 for a in alerts}
    critical = [latencies[a.key] for a in alerts if a.critical]
    warning = [latencies[a.key] for a in alerts if not a.critical]
    every = list(latencies.values())
    figures.values |= {
        "latency_alerts": count,
        "latency_rate_per_s": count / publish_s,
        "delivery_p50_ms": percentile(every, 0.50),
        "delivery_p99_ms": percentile(every, 0.99),
        "delivery_max_ms": max(every),
        "delivery_p99_critical_ms": percentile(critical, 0.99),
        "delivery_p99_warning_ms": percentile(warning, 0.99),
    }
    for name, seconds in cpu_after.items():
        figures.values[f"latency_cpu_{name}"] = (seconds - cpu_before.get(name, 0.0)) / publish_s
    progress(
        f"latency: {count} alerts at {count / publish_s:.0f}/s: p50 "
        f"{figures.values['delivery_p50_ms']:.0f} ms, p99 "
        f"{figures.values['delivery_p99_ms']:.0f} ms (critical "
        f"{figures.values['delivery_p99_critical_ms']:.0f}, warning "
        f"{figures.values['delivery_p99_warning_ms']:.0f}), max "
        f"{figures.values['delivery_max_ms']:.0f} ms"
    )


async def storm_phase(
    run: str,
    publisher: Publisher,
    chat: ChatReceiver,
    service: NotifierService,
    deliveries: Deliveries,
    figures: Figures,
) -> None:
    critical_at = {n * STORM_ALERTS // STORM_CRITICAL + 7 for n in range(STORM_CRITICAL)}
    alerts = [
        planned(
            run,
            "storm",
            n,
            kind=AlertKind.STOCKOUT if n % 2 else AlertKind.COUNT_VARIANCE,
            location=f"SITE-{n % STORM_LOCATIONS:03d}",
            critical=n in critical_at,
        )
        for n in range(STORM_ALERTS)
    ]
    figures.published.update(a.key for a in alerts)
    criticals = {a.key for a in alerts if a.critical}
    prefix = f"{run}:storm:"
    progress(f"storm: {STORM_ALERTS} alerts in {STORM_S:.0f}s ({len(criticals)} critical) ...")
    started = time.perf_counter()
    publish = asyncio.create_task(publisher.publish(alerts, STORM_ALERTS / STORM_S))

    async def all_held() -> bool:
        return await deliveries.held_alerts(prefix) >= STORM_ALERTS

    await wait_for(
        all_held, service, SETTLE_TIMEOUT_S, lambda: "the notifier to hold every storm alert"
    )
    applied_s = time.perf_counter() - started
    publish_s = await publish
    progress(
        f"storm: published in {publish_s:.1f}s, all {STORM_ALERTS} held after {applied_s:.1f}s "
        f"({STORM_ALERTS / applied_s:.0f} alerts/s); waiting for the digest window ..."
    )
    told: set[str] = set()

    async def all_told() -> bool:
        told.update(await deliveries.told_keys(chat.requests))
        return {a.key for a in alerts} <= told

    await wait_for(
        all_told,
        service,
        DIGEST_WINDOW_S + SETTLE_TIMEOUT_S,
        lambda: f"storm alerts told: {len(told & {a.key for a in alerts})}/{STORM_ALERTS}",
    )
    await asyncio.sleep(2)  # anything late still counts as a message of the storm
    await deliveries.refresh()
    told_by = [deliveries.told(request) or () for request in chat.requests]
    alone = {keys[0] for keys in told_by if len(keys) == 1}
    purposes = Counter(
        "critical alone"
        if len(keys) == 1 and keys[0] in criticals
        else ("digest/group" if len(keys) > 1 else "single")
        for keys in told_by
    )
    figures.values |= {
        "storm_alerts": STORM_ALERTS,
        "storm_messages": len(chat.requests),
        "storm_critical_not_alone": len(criticals - alone),
        "storm_applied_per_s": STORM_ALERTS / applied_s,
        "storm_told_s": time.perf_counter() - started,
    }
    progress(
        f"storm: {len(chat.requests)} messages ({dict(purposes)}); "
        f"{len(criticals & alone)}/{len(criticals)} critical alerts alone"
    )


async def kill_phase(
    run: str,
    publisher: Publisher,
    slow: ChatReceiver,
    service: NotifierService,
    deliveries: Deliveries,
    figures: Figures,
) -> None:
    alerts = [
        planned(
            run,
            "kill",
            n,
            kind=AlertKind.STOCKOUT,
            location=f"KILL-{n:05d}",
            critical=n % 50 == 9,
        )
        for n in range(KILL_ALERTS)
    ]
    keys = {a.key for a in alerts}
    figures.published.update(keys)
    kill_after = int(KILL_ALERTS * KILL_AT_SHARE)
    progress(
        f"kill: {KILL_ALERTS} alerts at {KILL_RATE:.0f}/s to a receiver answering after "
        f"{KILL_DELAY_S * 1000:.0f} ms; SIGKILL once {kill_after} messages arrived ..."
    )
    published = 0

    def count(n: int) -> None:
        nonlocal published
        published = n

    publish = asyncio.create_task(publisher.publish(alerts, KILL_RATE, count))

    async def enough() -> bool:
        return len(slow.requests) >= kill_after

    await wait_for(enough, service, SETTLE_TIMEOUT_S, lambda: f"{kill_after} kill-phase messages")
    await service.kill()
    received_at_kill = len(slow.requests)
    pending, leased = await deliveries.state()
    progress(
        f"kill: SIGKILL with {published}/{KILL_ALERTS} alerts published, {received_at_kill} "
        f"messages received, {pending} deliveries pending of which {leased} in flight"
    )
    await asyncio.sleep(1)
    restarted = time.perf_counter()
    ready_s = await service.start()
    progress(f"kill: restarted, ready after {ready_s:.1f}s")
    await publish
    told: set[str] = set()

    async def all_told() -> bool:
        told.update(await deliveries.told_keys(slow.requests))
        return keys <= told

    with contextlib.suppress(BenchError):
        await wait_for(
            all_told,
            service,
            SETTLE_TIMEOUT_S,
            lambda: f"kill-phase alerts told: {len(told & keys)}/{KILL_ALERTS}",
        )
    recovered_s = time.perf_counter() - restarted
    await asyncio.sleep(LEASE_S + 2)  # a late re-send after a lease still counts
    await deliveries.refresh()
    seen = Counter(content(request) for request in slow.requests)
    unknown = [request for request in slow.requests if deliveries.told(request) is None]
    if unknown:
        progress(f"kill: {len(unknown)} received messages match no delivery")
    lost = keys - await deliveries.told_keys(slow.requests)
    retried = {
        (row["title"], row["text"].strip())
        for row in await deliveries.conn.fetch(
            "SELECT DISTINCT d.title, d.text FROM deliveries d JOIN delivery_attempts a "
            "USING (delivery_id) WHERE d.channel = 'kill' AND NOT a.ok"
        )
    }
    duplicates = {message: n - 1 for message, n in seen.items() if n > 1}
    figures.values |= {
        "kill_alerts": KILL_ALERTS,
        "kill_in_flight": leased,
        "kill_pending": pending,
        "kill_lost": len(lost),
        "duplicates_after_kill": sum(duplicates.values()),
        "duplicates_of_failed_attempts": sum(
            n for message, n in duplicates.items() if message in retried
        ),
        "kill_recovered_s": recovered_s,
        "kill_sent_per_s_after_restart": pending / recovered_s,
    }
    progress(
        f"kill: {len(slow.requests)} messages, {figures.values['duplicates_after_kill']:.0f} "
        f"duplicates, {len(lost)} alerts lost; all told {recovered_s:.1f}s after the restart"
    )


# --------------------------------------------------------------------------- the run


async def run(settings: Settings) -> bool:
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    token = secrets.token_urlsafe(24)
    figures = Figures()
    publisher = Publisher(settings)
    await publisher.start()
    try:
        async with (
            ChatReceiver() as fast,
            ChatReceiver() as storm,
            ChatReceiver(delay_s=KILL_DELAY_S) as slow,
            running_notifier(settings, token) as service,
            httpx.AsyncClient(
                base_url=service.url, headers={"Authorization": f"Bearer {token}"}
            ) as client,
        ):
            conn = await asyncpg.connect(asyncpg_dsn(settings.service_url(SERVICE)))
            try:
                deliveries = Deliveries(conn)
                api = Api(client, run_id)
                for name, receiver in (("latency", fast), ("storm", storm), ("kill", slow)):
                    await api.channel(name, receiver)
                await api.rule("latency", "latency", 10, **ONE_BY_ONE)
                await api.rule(
                    "storm",
                    "storm",
                    20,
                    timing={"group_wait_s": 0, "group_interval_s": 60},
                    digest={"threshold": DIGEST_THRESHOLD, "window_s": DIGEST_WINDOW_S},
                )
                await api.rule("kill", "kill", 30, **ONE_BY_ONE)
                await warm_up(run_id, publisher, fast, service)
                fast.requests.clear()
                await latency_phase(run_id, publisher, fast, service, figures)
                await storm_phase(run_id, publisher, storm, service, deliveries, figures)
                await kill_phase(run_id, publisher, slow, service, deliveries, figures)
                requests = [*fast.requests, *storm.requests, *slow.requests]
                told = await deliveries.told_keys(requests)
                told.update(key for r in fast.requests for key in MARKER.findall(r.text or ""))
                figures.values["lost"] = len(figures.published - told)
                figures.values["rss_mb"] = service.peak_rss / 2**20
            finally:
                await conn.close()
    finally:
        await publisher.stop()
    return report(SERVICE, figures.values, TARGETS)


def main() -> None:
    service_bench.main(SERVICE, RUN_LOCK, run)


if __name__ == "__main__":
    main()
