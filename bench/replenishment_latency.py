"""Replenishment: a level change to its suggestion, p50 and p99, under a background load.

Issue 10 asks that a SKU x location's level falling to its reorder point become a
``replenishment.suggestion.made`` on replenishment.suggestions.v1 in under 500 ms p99
(``suggestion_p99_ms``). :func:`suggestion_latency` measures it against the real service:
``python -m stockwire.replenishment`` as a child process after its migrations, on a freshly
created ``stockwire_bench_replenishment`` database, with its own default settings.

1. The world is bench/stock_load.py's: 8 regions, each with a regional warehouse, network
   sites and 25 technician vans, 2 central warehouses, 2,000 items; it fills the catalog
   read copy. 8 items are planned, the most demanded of their kind: ONTs, CPEs and optics
   (serialized), mounting kit (bulk), cable (by the meter).
2. The state before: assets' failure rates of the serialized ones per region (the
   warehouses' failure-rate term); ``BENCH_LATENCY_HISTORY_DAYS`` (60) days of demand
   history, issues on stock.movements.v1 (intermittent at vans and sites, most days at
   warehouses); then a level of each planned item at each of the 300 stock locations
   (2,400 SKU x locations): warehouses far above their max, vans a little above their min,
   sites in between. So an evaluation reads real policies, demand and the region's peers.
   ``state_levels_per_s``: those levels applied a second, each one evaluated.
3. Idle: ``BENCH_LATENCY_IDLE`` (20) level changes one after another, nothing else running,
   each a van falling to its min or below: ``idle_p50_ms``, ``idle_max_ms``.
4. Loaded: for ``BENCH_LATENCY_SECONDS`` (20), ``BENCH_LATENCY_RATE`` (20) level changes a
   second each push another van to its min or below (a warehouse of its region holds
   excess, so each should become a transfer), while ``BENCH_LATENCY_BACKGROUND_RATE`` (20)
   a second move other SKU x locations within their usual range (``level_events_per_s``
   is both together): ``suggestion_p50_ms``, ``suggestion_p99_ms``, ``suggestion_max_ms``
   over ``suggestions_measured``; ``suggestions_missing`` had not come
   ``BENCH_LATENCY_DRAIN_SECONDS`` (600) after the window (target 0).

A latency runs from the broker's acknowledgement of the level (acks=all) to the moment this
process read the suggestion keyed by the same sku@location. The same reader reads the
measured level records themselves: ``broker_p50_ms`` / ``broker_p99_ms`` (ack to read, one
hop through the broker) is what the machine and the broker cost before the service does
anything; a suggestion takes two hops (the level in, the suggestion out). From the
service's ``/metrics`` over the loaded window: ``evaluation_ms``, its level consumer's time
applying per level change (what bounds how many it can take a second); the cores each
process used (``cpu_*``); and, as progress, the table reads per level change (PostgreSQL's
index and sequential scans of the service's tables).

    uv run python bench/replenishment_latency.py       # alone, on the test stack
    BENCH_LATENCY_SECONDS=10 uv run python bench/replenishment_latency.py

bench/bench_replenishment.py calls :func:`suggestion_latency`. The service's log is
``.stockwire/bench/replenishment-service.log``.
"""

import asyncio
import contextlib
import json
import math
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import service_bench
from aiokafka import AIOKafkaConsumer, TopicPartition
from report import Target, progress, report
from service_bench import (
    BenchError,
    BenchService,
    consumer_metrics,
    cpu_seconds,
    event_record,
    explain_metrics,
    fill_catalog,
    metrics_delta,
    percentile,
)
from stock_load import Place, Publisher, Record, World, build_world

from stockwire.assets.domain.reliability import Fleet, reliability
from stockwire.assets.reliability import computed
from stockwire.contracts.catalog import CatalogItemUpserted
from stockwire.contracts.replenishment import SuggestionMade
from stockwire.contracts.stock import StockLevelChanged, StockMovementRecorded
from stockwire.contracts.topics import (
    ASSETS_RELIABILITY,
    REPLENISHMENT_SUGGESTIONS,
    STOCK_LEVELS,
    STOCK_MOVEMENTS,
)
from stockwire.contracts.vocabulary import (
    Category,
    LocationKind,
    MovementKind,
    SuggestionKind,
    TrackingMode,
)
from stockwire.replenishment.consumers import (
    DEMAND_CONSUMER,
    LEVELS_CONSUMER,
    RELIABILITY_CONSUMER,
)
from stockwire.replenishment.domain.policies import (
    ItemFacts,
    LocationFacts,
    is_stocked,
    resolve_policy,
)
from stockwire.runtime.db import asyncpg_dsn
from stockwire.runtime.harness import tail
from stockwire.runtime.settings import Settings

SERVICE = "replenishment"
SEED = int(os.environ.get("BENCH_SEED", "1"))
LATENCY_S = float(os.environ.get("BENCH_LATENCY_SECONDS", "20"))
RATE = float(os.environ.get("BENCH_LATENCY_RATE", "20"))
BACKGROUND_RATE = float(os.environ.get("BENCH_LATENCY_BACKGROUND_RATE", "20"))
IDLE_CHANGES = int(os.environ.get("BENCH_LATENCY_IDLE", "20"))
HISTORY_DAYS = int(os.environ.get("BENCH_LATENCY_HISTORY_DAYS", "60"))
STALL_S = float(os.environ.get("BENCH_STALL_SECONDS", "120"))
"""Give up on the state when the service makes no progress for this long."""
DRAIN_S = float(os.environ.get("BENCH_LATENCY_DRAIN_SECONDS", "600"))
"""How long, after the loaded window, the suggestions may take to arrive: a consumer
transaction shows nothing until it commits, so there is no progress to watch meanwhile."""
RUN_LOCK = 0x5354_4245_4E43_4852 >> 1
"""Advisory lock key ("STBENCHR"), bench-replenishment's: both use one database."""
CONSUMERS = [DEMAND_CONSUMER, LEVELS_CONSUMER, RELIABILITY_CONSUMER]
IDLE_TIMEOUT_S = 30.0
TICK_S = 0.005

TARGETS: dict[str, Target] = {
    "suggestion_p99_ms": ("<=", 500),
    "suggestions_missing": ("<=", 0),
}

PLANNED: tuple[tuple[Category, int], ...] = (
    (Category.ONT, 2),
    (Category.CPE, 2),
    (Category.OPTIC, 2),
    (Category.MOUNTING, 1),
    (Category.CABLE, 1),
)
"""The planned items: how many of each kind, the most demanded first. What one evaluation
reads grows with the locations of a region, not with the items; more items only make the
state take longer to load."""
LEVEL_CHUNK = 100
"""Levels of the state are published this many at a time, each lot applied before the
next: a consumer batch shows nothing until it commits, and one of 500 evaluations can take
longer than the stall limit."""
UNIT: dict[TrackingMode, int] = {TrackingMode.SERIAL: 1, TrackingMode.BULK: 5}
"""What one issue takes, roughly, and so how levels scale: cable goes by tens of meters."""
METERS = 50
ISSUES_PER_DAY: dict[LocationKind, float] = {
    LocationKind.WAREHOUSE: 1.0,
    LocationKind.POINT_OF_PRESENCE: 0.03,
    LocationKind.FIBER_HUT: 0.03,
    LocationKind.TECHNICIAN_VAN: 0.08,
}
"""Issues a day of the most demanded planned item; less demanded ones see fewer."""
INSTALLED_YEARS = 1.5
"""The installed base's average time in service, for its failure figures."""


# --------------------------------------------------------------------------- the state


@dataclass(frozen=True)
class Planned:
    """One planned SKU x location and the range its level moves in."""

    sku: str
    place: Place
    tracking: TrackingMode
    low: int
    high: int
    min_quantity: int
    """A van's min (the policy's); 0 elsewhere."""

    @property
    def key(self) -> str:
        return f"{self.sku}@{self.place.code}"


@dataclass
class PlanningState:
    """The world, the planned items and where they are, and the records of the state."""

    world: World
    items: list[CatalogItemUpserted]
    positions: list[Planned]
    demand: list[Record] = field(default_factory=list)
    reliability: list[Record] = field(default_factory=list)
    levels: list[Record] = field(default_factory=list)

    @property
    def vans(self) -> list[Planned]:
        return [p for p in self.positions if p.place.kind is LocationKind.TECHNICIAN_VAN]


def unit(tracking: TrackingMode) -> int:
    return UNIT.get(tracking, METERS)


def planning_state(seed: int, today: date, now: datetime) -> PlanningState:
    """The planned items at every stock location, their demand history, failure figures
    and levels (see the module's docstring)."""
    rng = random.Random(seed)
    world = build_world(seed)
    catalog_items, _ = world.catalog_payloads(now)
    by_sku = {p.sku: p for p in catalog_items if isinstance(p, CatalogItemUpserted)}
    chosen: list[CatalogItemUpserted] = []
    for category, count in PLANNED:
        ranked = [i for i in world.items if i.category is category]
        chosen.extend(by_sku[i.sku] for i in ranked[:count])
    positions = [planned(item, place) for item in chosen for place in world.stock_locations]
    state = PlanningState(world, chosen, positions)
    weight = {item.sku: 1 / math.sqrt(1 + n / 2) for n, item in enumerate(chosen)}
    state.demand = [
        record
        for position in positions
        if is_stocked(position.place.kind)
        for record in demand_history(rng, position, weight[position.sku], today)
    ]
    state.reliability = [
        failure_figures(rng, item.sku, region, now)
        for item in chosen
        if item.tracking_mode is TrackingMode.SERIAL
        for region in world.regions
    ]
    state.levels = [level_record(p, rng.randint(p.low, p.high), now) for p in positions]
    return state


def planned(item: CatalogItemUpserted, place: Place) -> Planned:
    size = unit(item.tracking_mode)
    if place.kind is LocationKind.TECHNICIAN_VAN:
        policy = resolve_policy(
            ItemFacts(
                sku=item.sku,
                category=item.category,
                criticality=item.criticality,
                tracking_mode=item.tracking_mode,
                lead_time_days=item.default_lead_time_days or 14,
            ),
            LocationFacts(code=place.code, kind=place.kind, region=place.region),
        )
        low, high = int(policy.min_quantity or 0), int(policy.max_quantity or 0)
        return Planned(item.sku, place, item.tracking_mode, low + 1, high, low)
    if place.kind is LocationKind.WAREHOUSE:
        return Planned(item.sku, place, item.tracking_mode, 300 * size, 600 * size, 0)
    if is_stocked(place.kind):
        return Planned(item.sku, place, item.tracking_mode, 5 * size, 20 * size, 0)
    return Planned(item.sku, place, item.tracking_mode, 0, 3 * size, 0)


def demand_history(
    rng: random.Random, position: Planned, weight: float, today: date
) -> list[Record]:
    """Issues at ``position`` over the last :data:`HISTORY_DAYS` days, a Poisson number a
    day."""
    rate = ISSUES_PER_DAY.get(position.place.kind, 0.0) * weight
    records = []
    for ago in range(1, HISTORY_DAYS + 1):
        day = today - timedelta(days=ago)
        for _ in range(poisson(rng, rate)):
            at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                seconds=rng.randint(7 * 3600, 18 * 3600)
            )
            serial = position.tracking is TrackingMode.SERIAL
            quantity = 1 if serial else rng.randint(1, 2 * unit(position.tracking))
            movement = StockMovementRecorded(
                movement_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                kind=MovementKind.ISSUE,
                reason_code="job",
                sku=position.sku,
                location=position.place.code,
                quantity=Decimal(quantity),
                serial=f"SN-{rng.getrandbits(48):012X}" if serial else None,
                job_id=f"JOB-{rng.getrandbits(32):08X}",
                actor="fsm",
                recorded_at=at,
            )
            records.append(event_record(movement, STOCK_MOVEMENTS, "stock"))
    return records


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's: fine for the small means of daily issues)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def failure_figures(rng: random.Random, sku: str, region: str, now: datetime) -> Record:
    """Assets' failure figures of ``sku`` in ``region``, computed as assets computes them."""
    installed = rng.randint(500, 5000)
    hours = Decimal(installed) * Decimal(8766) * Decimal(str(INSTALLED_YEARS))
    failures = round(installed * INSTALLED_YEARS * rng.uniform(0.01, 0.06))
    figures = reliability(Fleet(sku, region, installed, hours, failures), Decimal("0.95"))
    return event_record(computed(figures, now), ASSETS_RELIABILITY, "assets")


def level_record(position: Planned, available: int, as_of: datetime) -> Record:
    level = StockLevelChanged(
        sku=position.sku,
        location=position.place.code,
        on_hand=Decimal(available),
        reserved=Decimal(0),
        in_transit_in=Decimal(0),
        in_transit_out=Decimal(0),
        available=Decimal(available),
        as_of=as_of,
    )
    return event_record(level, STOCK_LEVELS, "stock")


def drained(rng: random.Random, van: Planned) -> int:
    """A level of ``van`` at its min or below: what triggers a suggestion."""
    return rng.randint(max(0, van.min_quantity - unit(van.tracking)), van.min_quantity)


# --------------------------------------------------------------------------- observing


class Watcher:
    """Reads stock.levels.v1 and replenishment.suggestions.v1 from their ends: when each
    measured level arrived, and when the first suggestion made for each expected
    sku@location did."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.levels: set[uuid.UUID] = set()
        """Measured levels' event ids."""
        self.level_read: dict[uuid.UUID, float] = {}
        self.expected: set[bytes] = set()
        """Keys whose level was sent: only their suggestions from then on count."""
        self.suggested: dict[bytes, tuple[float, str]] = {}
        """sku@location -> (time.time() read, its kind)."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            client_id="stockwire-bench-suggestions",
            enable_auto_commit=False,
            # Tansu answers a fetch only when its wait is up: keep it short, or it is
            # measured as the service's latency.
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        partitions = [
            TopicPartition(spec.name, n)
            for spec in (STOCK_LEVELS, REPLENISHMENT_SUGGESTIONS)
            for n in range(spec.partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        self._task = asyncio.create_task(self._run(consumer))

    def expect(self, key: str, event_id: uuid.UUID) -> None:
        self.levels.add(event_id)
        self.expected.add(key.encode())

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
                now = time.time()
                for partition, records in batch.items():
                    levels = partition.topic == STOCK_LEVELS.name
                    for record in records:
                        if record.key not in self.expected or record.value is None:
                            continue
                        envelope = json.loads(record.value)
                        if levels:
                            event_id = uuid.UUID(envelope["event_id"])
                            if event_id in self.levels:
                                self.level_read.setdefault(event_id, now)
                        elif envelope["event_type"] == SuggestionMade.event_type:
                            kind = envelope["payload"]["kind"]
                            self.suggested.setdefault(record.key, (now, kind))
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def check(self) -> None:
        """Raise what stopped the reader, if it stopped."""
        if self._task is not None and self._task.done():
            self._task.result()


@dataclass
class Sent:
    """A measured level change: its key, event and when the broker acknowledged it."""

    key: str
    event_id: uuid.UUID
    acked: float = math.nan


class Sender:
    """Publishes level changes one record at a time and notes each one's acknowledgement."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.pending: list[asyncio.Future[Any]] = []

    async def send(self, record: Record) -> asyncio.Future[Any]:
        futures = await self.publisher.send([record])
        future: asyncio.Future[Any] = futures[0]
        self.pending.append(future)
        return future

    async def measured(self, watcher: Watcher, position: Planned, available: int) -> Sent:
        record = level_record(position, available, datetime.now(UTC))
        sent = Sent(position.key, record.event_id)
        watcher.expect(sent.key, sent.event_id)
        future = await self.send(record)

        def acked(_: asyncio.Future[Any]) -> None:
            sent.acked = time.time()

        future.add_done_callback(acked)
        return sent

    async def settle(self) -> None:
        """Wait for every acknowledgement; raise if the broker refused a record."""
        await asyncio.gather(*self.pending)
        self.pending = []


async def paced(rate: float, seconds: float, send: Callable[[], Awaitable[object]]) -> int:
    """Call ``send`` ``rate`` times a second for ``seconds``; how many times it was called."""
    started = time.perf_counter()
    done = 0
    while (elapsed := time.perf_counter() - started) < seconds:
        while done < int(rate * elapsed) + 1:
            await send()
            done += 1
        await asyncio.sleep(TICK_S)
    return done


class ServiceTables:
    """Reads the service's own tables to see how far it got (a benchmark may; services don't)."""

    def __init__(self, conn: asyncpg.Connection, service: BenchService) -> None:
        self.conn = conn
        self.service = service

    async def applied(self) -> Counter[str]:
        rows = await self.conn.fetch("SELECT consumer, count(*) AS n FROM inbox GROUP BY consumer")
        return Counter({row["consumer"]: row["n"] for row in rows})

    async def wait_applied(self, expected: Counter[str], what: str) -> float:
        """Wait until each consumer's inbox holds ``expected`` events and no outbox row is
        unsent; the seconds it took."""
        started = last_progress = last_line = time.perf_counter()
        last: tuple[int, int] | None = None
        while True:
            self.service.check()
            applied = await self.applied()
            unsent = int(
                await self.conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            )
            if all(applied[c] >= n for c, n in expected.items()) and unsent == 0:
                return time.perf_counter() - started
            state = (sum(applied[c] for c in expected), unsent)
            if state != last:
                last, last_progress = state, time.perf_counter()
            if time.perf_counter() - last_line >= 15:
                last_line = time.perf_counter()
                progress(
                    f"  {what}: {state[0]}/{sum(expected.values())} applied, {unsent} outbox "
                    "rows unsent"
                )
            if time.perf_counter() - last_progress > STALL_S:
                raise BenchError(
                    f"{what}: no progress for {STALL_S:.0f}s ({state[0]}/"
                    f"{sum(expected.values())} applied, {unsent} unsent); end of "
                    f"{self.service.log_path}:\n{tail(self.service.log_path, 40)}"
                )
            await asyncio.sleep(0.25)

    async def scans(self) -> Counter[str]:
        """Index and sequential scans so far, per table."""
        rows = await self.conn.fetch(
            "SELECT relname, seq_scan + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables"
        )
        return Counter({row["relname"]: row["n"] for row in rows})


async def wait_suggested(
    watcher: Watcher, service: BenchService, sent: Sequence[Sent], within_s: float
) -> None:
    """Wait until every key of ``sent`` has its suggestion, for at most ``within_s``."""
    started = last_line = time.perf_counter()
    while True:
        service.check()
        watcher.check()
        count = sum(s.key.encode() in watcher.suggested for s in sent)
        if count == len(sent) or time.perf_counter() - started > within_s:
            return
        if time.perf_counter() - last_line >= 15:
            last_line = time.perf_counter()
            progress(f"  {count}/{len(sent)} suggestions arrived")
        await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Latencies:
    suggestion_ms: list[float]
    broker_ms: list[float]
    missing: int
    transfers: int


def latencies(watcher: Watcher, sent: Sequence[Sent]) -> Latencies:
    suggestion, broker = [], []
    missing = transfers = 0
    for s in sent:
        found = watcher.suggested.get(s.key.encode())
        if found is None:
            missing += 1
            continue
        suggestion.append((found[0] - s.acked) * 1000)
        transfers += found[1] == SuggestionKind.TRANSFER.value
        if (read := watcher.level_read.get(s.event_id)) is not None:
            broker.append((read - s.acked) * 1000)
    return Latencies(suggestion, broker, missing, transfers)


async def prepare(
    state: PlanningState,
    publisher: Publisher,
    tables: ServiceTables,
    service: BenchService,
) -> float:
    """The catalog copy, the failure figures, the demand history and the levels; the
    levels applied a second (each one evaluated, in the service's batches)."""
    _, locations = state.world.catalog_payloads(datetime.now(UTC))
    await fill_catalog(publisher, tables.conn, service, state.items, locations, STALL_S)
    await publisher.publish(state.reliability + state.demand)
    progress(
        f"state: published {len(state.demand)} issues over {HISTORY_DAYS} days and "
        f"{len(state.reliability)} failure figures; waiting ..."
    )
    seconds = await tables.wait_applied(
        Counter({DEMAND_CONSUMER: len(state.demand), RELIABILITY_CONSUMER: len(state.reliability)}),
        "history",
    )
    progress(f"state: history applied in {seconds:.1f}s")
    progress(f"state: publishing {len(state.levels)} levels, {LEVEL_CHUNK} at a time ...")
    started = time.perf_counter()
    for first in range(0, len(state.levels), LEVEL_CHUNK):
        chunk = state.levels[first : first + LEVEL_CHUNK]
        await publisher.publish(chunk)
        await tables.wait_applied(Counter({LEVELS_CONSUMER: first + len(chunk)}), "levels")
    seconds = time.perf_counter() - started
    per_s = len(state.levels) / seconds
    progress(f"state: levels applied in {seconds:.1f}s ({per_s:.1f}/s, each one evaluated)")
    return per_s


async def idle(
    watcher: Watcher, sender: Sender, service: BenchService, vans: Sequence[Planned]
) -> list[float]:
    """One drained van at a time, nothing else running: each suggestion's latency."""
    rng = random.Random(SEED + 1)
    sent = []
    for van in vans:
        one = await sender.measured(watcher, van, drained(rng, van))
        sent.append(one)
        await sender.settle()
        await wait_suggested(watcher, service, [one], IDLE_TIMEOUT_S)
    found = latencies(watcher, sent)
    if found.missing:
        raise BenchError(
            f"idle: {found.missing} of {len(sent)} drained vans got no suggestion within "
            f"{IDLE_TIMEOUT_S:.0f}s; end of {service.log_path}:\n{tail(service.log_path, 40)}"
        )
    return found.suggestion_ms


@dataclass
class Loaded:
    sent: list[Sent]
    background: int
    seconds: float


async def loaded(
    watcher: Watcher,
    sender: Sender,
    vans: Sequence[Planned],
    others: Sequence[Planned],
) -> Loaded:
    """Drained vans at :data:`RATE` a second beside :data:`BACKGROUND_RATE` other level
    changes, for :data:`LATENCY_S`."""
    rng = random.Random(SEED + 2)
    queue = iter(vans)
    sent: list[Sent] = []

    async def measured() -> None:
        van = next(queue)
        sent.append(await sender.measured(watcher, van, drained(rng, van)))

    async def background() -> None:
        other = rng.choice(others)
        now = datetime.now(UTC)
        await sender.send(level_record(other, rng.randint(other.low, other.high), now))

    started = time.perf_counter()
    _, background_count = await asyncio.gather(
        paced(RATE, LATENCY_S, measured), paced(BACKGROUND_RATE, LATENCY_S, background)
    )
    seconds = time.perf_counter() - started
    await sender.settle()
    return Loaded(sent, background_count, seconds)


async def suggestion_latency(settings: Settings) -> dict[str, float]:
    """Run the replenishment service on a fresh database, give it a realistic state, and
    measure how long drained vans' level changes take to become suggestions, idle and
    under a background load (the module's docstring says how). Raises
    :class:`BenchError` when the service cannot be measured."""
    now = datetime.now(UTC)
    state = await asyncio.to_thread(planning_state, SEED, now.date(), now)
    progress(
        f"state: {len(state.items)} planned items at {len(state.world.stock_locations)} "
        f"stock locations ({len(state.positions)} SKU x locations, {len(state.vans)} at vans)"
    )
    publisher = Publisher(settings.bootstrap_servers, idempotence=settings.kafka_idempotence)
    await publisher.start()
    watcher = Watcher(settings)
    try:
        async with service_bench.running_service(settings, SERVICE) as service:
            ready_s = await service.wait_ready()
            progress(
                f"service: ready after {ready_s:.1f}s (pid {', '.join(map(str, service.pids))}, "
                f"log {service.log_path})"
            )
            conn = await asyncpg.connect(asyncpg_dsn(settings.service_url(SERVICE)))
            try:
                async with httpx.AsyncClient(
                    base_url=service.url, trust_env=False, timeout=30
                ) as client:
                    tables = ServiceTables(conn, service)
                    service.phase = "state"
                    state_per_s = await prepare(state, publisher, tables, service)
                    await watcher.start()
                    figures = await measure(state, Sender(publisher), watcher, tables, client)
                    return {**figures, "state_levels_per_s": state_per_s}
            finally:
                await conn.close()
    finally:
        await watcher.stop()
        await publisher.stop()


async def measure(
    state: PlanningState,
    sender: Sender,
    watcher: Watcher,
    tables: ServiceTables,
    client: httpx.AsyncClient,
) -> dict[str, float]:
    """The idle and the loaded phases, on a service holding ``state``; their figures."""
    service = tables.service
    vans = state.vans
    random.Random(SEED).shuffle(vans)
    wanted = IDLE_CHANGES + math.ceil(RATE * LATENCY_S) + 1
    if wanted > len(vans):
        raise BenchError(
            f"{wanted} drained vans asked for, but only {len(vans)} van SKU x locations "
            "exist: lower BENCH_LATENCY_RATE or BENCH_LATENCY_SECONDS"
        )
    drained_keys = {v.key for v in vans[:wanted]}
    others = [p for p in state.positions if p.key not in drained_keys]
    await asyncio.sleep(1)  # the reader's first polls read the topics' old tails

    service.phase = "idle"
    idle_ms = await idle(watcher, sender, service, vans[:IDLE_CHANGES])
    progress(
        f"idle: {len(idle_ms)} drained vans one at a time: p50 "
        f"{percentile(idle_ms, 0.5):.0f} ms, max {max(idle_ms):.0f} ms"
    )

    service.phase = "loaded"
    scans_before = await tables.scans()
    applied_before = await tables.applied()
    metrics_before = await consumer_metrics(client, CONSUMERS)
    cpu_before = cpu_seconds(SERVICE, service.pids)
    started = time.perf_counter()
    progress(
        f"loaded: {RATE:g} drained vans/s beside {BACKGROUND_RATE:g} other level changes/s "
        f"for {LATENCY_S:g}s ..."
    )
    run = await loaded(watcher, sender, vans[IDLE_CHANGES:wanted], others)
    await wait_suggested(watcher, service, run.sent, DRAIN_S)
    seconds = time.perf_counter() - started
    cpu_after = cpu_seconds(SERVICE, service.pids)
    metrics = metrics_delta(metrics_before, await consumer_metrics(client, CONSUMERS))
    await asyncio.sleep(1.5)  # PostgreSQL's table statistics lag up to a second
    scans = await tables.scans() - scans_before
    evaluated = (await tables.applied() - applied_before)[LEVELS_CONSUMER]

    found = latencies(watcher, run.sent)
    progress(
        f"loaded: {len(run.sent)} drained vans and {run.background} other level changes in "
        f"{run.seconds:.1f}s; {len(found.suggestion_ms)} suggestions "
        f"({found.transfers} transfers), {found.missing} missing, all in {seconds:.1f}s"
    )
    progress(explain_metrics(metrics, seconds, CONSUMERS))
    busy = metrics.get(f"apply_sum:{LEVELS_CONSUMER}", 0.0)
    records = metrics.get(f"batch_sum:{LEVELS_CONSUMER}", 0.0)
    offered = (len(run.sent) + run.background) / run.seconds
    if busy:
        progress(
            f"loaded: the service applies {records / busy:.1f} level changes/s when busy "
            f"({busy / records * 1000:.0f} ms each); {offered:.0f}/s were offered"
        )
    per_change = ", ".join(
        f"{table} {n / max(1, evaluated):.1f}" for table, n in scans.most_common(8)
    )
    progress(f"loaded: table reads (index and sequential scans) per level change: {per_change}")
    cores = {name: (used - cpu_before.get(name, 0.0)) / seconds for name, used in cpu_after.items()}
    progress("loaded: cores used: " + ", ".join(f"{k} {v:.2f}" for k, v in cores.items()))
    return {
        "suggestion_p50_ms": percentile(found.suggestion_ms, 0.50),
        "suggestion_p99_ms": percentile(found.suggestion_ms, 0.99),
        "suggestion_max_ms": max(found.suggestion_ms, default=math.nan),
        "suggestions_measured": len(found.suggestion_ms),
        "suggestions_missing": found.missing,
        "suggestions_transfer": found.transfers,
        "broker_p50_ms": percentile(found.broker_ms, 0.50),
        "broker_p99_ms": percentile(found.broker_ms, 0.99),
        "idle_p50_ms": percentile(idle_ms, 0.50),
        "idle_max_ms": max(idle_ms),
        "level_events_per_s": offered,
        "background_per_s": run.background / run.seconds,
        "evaluation_ms": busy / records * 1000 if records else math.nan,
        "positions": len(state.positions),
        **{f"cpu_{name}": used for name, used in cores.items()},
    }


async def run(settings: Settings) -> bool:
    return report("replenishment_latency", await suggestion_latency(settings), TARGETS)


if __name__ == "__main__":
    service_bench.main(SERVICE, RUN_LOCK, run)
