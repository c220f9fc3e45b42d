"""Stock service throughput, latency and memory, against its raw ceiling, in one run.

1. Raw ceiling: the load's balance updates written with asyncpg alone, in batches of the
   service's batch size (bench/stock_ceiling.py): ``ceiling_per_s``. It runs first, while
   PostgreSQL is quiet, and runs even when the service cannot.
2. Offered load: a realistic ISP workload (bench/stock_load.py) is published straight to
   Kafka with acks=all: FSM job events (parts issued, installed, returned), van restocks
   as pick and receipt scans, and goods receipts (``offered_per_s``). First the catalog
   read copy is filled (catalog.items.v1 / catalog.locations.v1 upserts) and seed stock is
   received, so no movement of the load can go negative whatever order the consumers
   apply it in.
3. End to end: the real stock service runs as a child process (``python -m stockwire.stock``
   after its migrations, on a freshly created ``stockwire_bench_stock`` database). The clock
   runs from the first record published until every event is applied (the service's inbox
   holds all of them), every outbox row is sent and the last stock-level event has arrived
   on stock.levels.v1. ``e2e_per_s`` is movements applied (distinct movement ids in the
   ledger) per second over that window; ``ratio`` = e2e_per_s / ceiling_per_s.
   A second phase publishes at half that rate, paced, and measures each event's latency
   from its publication (its ``occurred_at`` is the send time) to its movements'
   ``recorded_at`` (``p50_ms``, ``p99_ms``), and to the arrival of the stock-level event
   its movement caused (``p99_visible_ms``). ``rss_mb`` is the service's peak resident
   memory (children included) sampled every 200 ms over the whole run, ``rss_load_mb``
   over the two measured phases only.

One run at a time per PostgreSQL (an advisory lock); the service is stopped on the way
out, also on Ctrl-C or SIGTERM, and the end of its log is shown if it dies.

    make bench-stock                     # BENCH_EVENTS=60000, BENCH_SEED=1: ~2 minutes
    BENCH_EVENTS=20000 make bench-stock  # a quicker run
    BENCH_LATENCY_SECONDS=30             # length of the paced phase (default 20)
"""

import asyncio
import contextlib
import importlib.util
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import service_bench
from aiokafka import AIOKafkaConsumer, TopicPartition
from report import Target, progress, report
from service_bench import BenchError, BenchService, checkpoint, fill_catalog, percentile
from stock_ceiling import run_ceiling
from stock_load import (
    LoadGenerator,
    Publisher,
    Record,
    build_world,
    describe,
)

from stockwire.contracts.topics import STOCK_LEVELS
from stockwire.runtime.db import asyncpg_dsn
from stockwire.runtime.harness import ProcessFailed, tail
from stockwire.runtime.settings import Settings
from stockwire.stock.settings import StockSettings

SERVICE = "stock"
EVENTS = int(os.environ.get("BENCH_EVENTS", "60000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
LATENCY_S = float(os.environ.get("BENCH_LATENCY_SECONDS", "20"))
CEILING_RUNS = int(os.environ.get("BENCH_CEILING_RUNS", "2"))
CEILING_WORKERS = int(os.environ.get("BENCH_CEILING_WORKERS", "1"))
INSTANCES = int(os.environ.get("BENCH_INSTANCES", "1"))
"""Stock service processes, all in the same consumer groups (scale-out)."""
STALL_S = float(os.environ.get("BENCH_STALL_SECONDS", "120"))
"""Give up when the service makes no progress for this long."""
RUN_LOCK = 0x5354_4245_4E43_4853 >> 1
"""Advisory lock key ("STBENCHS") that keeps two runs on one PostgreSQL apart."""

TARGETS: dict[str, Target] = {
    "e2e_per_s": (">=", 10_000),
    "ratio": (">=", 0.25),
    "p99_ms": ("<=", 250),
    "rss_mb": ("<=", 300),
}


def service_missing() -> str | None:
    """Why the stock service cannot be run yet, or None when it can."""
    for module, what in (
        ("stockwire.stock.__main__", "services/stock/src/stockwire/stock/__main__.py"),
        ("stockwire.stock.migrations", "services/stock/src/stockwire/stock/migrations/"),
    ):
        try:
            found = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            found = None
        if found is None:
            return f"{what} does not exist yet"
    return None


# --------------------------------------------------------------------------- observing


@dataclass
class LevelWatcher:
    """Reads stock.levels.v1 from the start and notes when each event arrived."""

    settings: Settings
    arrived: dict[str, float] = field(default_factory=dict)
    """event_id -> time.time() of arrival."""
    by_batch: dict[tuple[str, str], float] = field(default_factory=dict)
    """(sku@location, as_of) -> arrival of that level event. The service stamps a batch's
    movements (``recorded_at``) and level events (``as_of``) with one time, so this finds
    the level event a movement caused."""
    last_arrival: float = 0.0
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            client_id="stockwire-bench-levels",
            enable_auto_commit=False,
            # Tansu answers a fetch only when its wait is up, not when data arrives; the
            # default 500 ms would be measured as the service's latency.
            fetch_max_wait_ms=20,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=16 * 1024 * 1024,
        )
        await consumer.start()
        partitions = [TopicPartition(STOCK_LEVELS.name, p) for p in range(STOCK_LEVELS.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
                now = time.time()
                for records in batch.values():
                    for record in records:
                        if record.value is None:
                            continue
                        envelope = json.loads(record.value)
                        event_id = envelope["event_id"]
                        if event_id in self.arrived:
                            continue
                        self.arrived[event_id] = now
                        self.last_arrival = now
                        key = record.key.decode() if record.key else ""
                        self.by_batch[(key, envelope["payload"]["as_of"])] = now
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class Marks:
    """Where the service's tables stood before a phase."""

    inbox: int
    outbox_id: int
    ledger_id: int
    levels_before: int
    """Level events received by then (every earlier one: phases run one after another)."""


@dataclass
class PhaseResult:
    events: int
    movements: int
    ledger_legs: int
    rejected: int
    level_events: int
    seconds: float
    publish_s: float

    @property
    def per_s(self) -> float:
        return self.movements / self.seconds if self.seconds else 0.0


class ServiceDatabase:
    """Reads the service's own tables to see how far it got (a benchmark may; services don't)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def marks(self, levels: "LevelWatcher") -> Marks:
        inbox = await self.conn.fetchval("SELECT count(*) FROM inbox")
        outbox_id = await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        ledger_id = await self.conn.fetchval("SELECT coalesce(max(id), 0) FROM ledger")
        return Marks(inbox, outbox_id, ledger_id, len(levels.arrived))

    async def applied(self, marks: Marks) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM inbox")) - marks.inbox

    async def unsent(self) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))

    async def level_events(self, marks: Marks) -> int:
        return int(
            await self.conn.fetchval(
                "SELECT count(*) FROM outbox WHERE id > $1 AND topic = $2",
                marks.outbox_id,
                STOCK_LEVELS.name,
            )
        )

    async def summary(self, marks: Marks) -> tuple[int, int, int]:
        """Since ``marks``: movements in the ledger, their ledger rows, and rejections."""
        row = await self.conn.fetchrow(
            "SELECT count(DISTINCT movement_id) AS movements, count(*) AS legs "
            "FROM ledger WHERE id > $1",
            marks.ledger_id,
        )
        assert row is not None, "an aggregate without GROUP BY answers one row"
        rejected = await self.conn.fetchval(
            "SELECT count(*) FROM outbox WHERE id > $1 AND event_type = $2",
            marks.outbox_id,
            "stock.movement.rejected",
        )
        return int(row["movements"]), int(row["legs"]), int(rejected)

    async def rejection_reasons(self, marks: Marks) -> dict[str, int]:
        rows = await self.conn.fetch(
            """
            SELECT envelope->'payload'->>'reason' AS reason, count(*) AS n FROM outbox
            WHERE id > $1 AND event_type = 'stock.movement.rejected' GROUP BY 1 ORDER BY 2 DESC
            """,
            marks.outbox_id,
        )
        return {row["reason"]: row["n"] for row in rows}

    async def movements_since(self, marks: Marks) -> list[asyncpg.Record]:
        """Movements staged since ``marks``: source event, balance key, recorded_at (as the
        service serialized it, so it compares equal to a level event's ``as_of``)."""
        return await self.conn.fetch(
            """
            SELECT envelope->'payload'->>'source_event_id' AS source,
                   envelope->'payload'->>'sku' AS sku,
                   envelope->'payload'->>'location' AS location,
                   envelope->'payload'->>'recorded_at' AS recorded_at
            FROM outbox WHERE id > $1 AND event_type = 'stock.movement.recorded'
            """,
            marks.outbox_id,
        )


async def wait_applied(
    db: ServiceDatabase,
    service: BenchService,
    levels: LevelWatcher,
    marks: Marks,
    expected: int,
    label: str,
) -> float:
    """Wait until ``expected`` events are applied, the outbox is empty and every level
    event staged since ``marks`` has arrived; the arrival time of the last one."""
    last_progress = time.perf_counter()
    last_state: tuple[int, int, int] | None = None
    last_line = 0.0
    while True:
        service.check()
        applied = await db.applied(marks)
        unsent = await db.unsent()
        staged_levels = await db.level_events(marks) if applied >= expected and not unsent else -1
        state = (applied, unsent, len(levels.arrived))
        if state != last_state:
            last_state, last_progress = state, time.perf_counter()
        if time.perf_counter() - last_line >= 2:
            last_line = time.perf_counter()
            progress(
                f"  {label}: {applied}/{expected} events applied, {unsent} outbox rows unsent, "
                f"{len(levels.arrived)} level events received"
            )
        arrived = len(levels.arrived) - marks.levels_before
        if applied >= expected and unsent == 0 and 0 <= staged_levels <= arrived:
            return levels.last_arrival
        if time.perf_counter() - last_progress > STALL_S:
            raise BenchError(
                f"{label}: no progress for {STALL_S:.0f}s ({applied}/{expected} applied, "
                f"{unsent} unsent, {len(levels.arrived)} level events); end of "
                f"{service.log_path}:\n{tail(service.log_path, 40)}"
            )
        await asyncio.sleep(0.25)


# --------------------------------------------------------------------------- phases


async def burst(
    records: Sequence[Record],
    publisher: Publisher,
    db: ServiceDatabase,
    service: BenchService,
    levels: LevelWatcher,
    label: str,
) -> PhaseResult:
    """Publish everything at once; time until all of it is applied and published."""
    service.phase = label
    marks = await db.marks(levels)
    started_wall = time.time()
    publish_s = await publisher.publish(records)
    progress(f"{label}: published {len(records)} events in {publish_s:.1f}s "
             f"({len(records) / publish_s:.0f}/s offered)")  # fmt: skip
    finished = await wait_applied(db, service, levels, marks, len(records), label)
    movements, legs, rejected = await db.summary(marks)
    level_events = await db.level_events(marks)
    if rejected:
        reasons = await db.rejection_reasons(marks)
        progress(f"{label}: {rejected} movements rejected: {reasons}")
    return PhaseResult(
        len(records), movements, legs, rejected, level_events, finished - started_wall, publish_s
    )


@dataclass
class Latency:
    sent: int
    measured: int
    visible: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    p99_visible_ms: float


async def paced(
    records: Sequence[Record],
    rate: float,
    publisher: Publisher,
    db: ServiceDatabase,
    service: BenchService,
    levels: LevelWatcher,
) -> Latency:
    service.phase = "latency"
    marks = await db.marks(levels)
    progress(f"latency: publishing at {rate:.0f} events/s for up to {LATENCY_S:.0f}s ...")
    started = time.perf_counter()
    sent = await publisher.publish_paced(records, rate, LATENCY_S)
    seconds = time.perf_counter() - started
    await wait_applied(db, service, levels, marks, len(sent), "latency")
    applied_at: dict[str, datetime] = {}
    visible_at: dict[str, float] = {}
    for row in await db.movements_since(marks):
        source, stamp = row["source"], row["recorded_at"]
        recorded = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        if source not in applied_at or recorded < applied_at[source]:
            applied_at[source] = recorded
        arrival = levels.by_batch.get((f"{row['sku']}@{row['location']}", stamp))
        if arrival is not None and arrival > visible_at.get(source, 0.0):
            visible_at[source] = arrival
    applied = [
        (applied_at[str(e)].timestamp() - when) * 1000
        for e, when in sent.items()
        if str(e) in applied_at
    ]
    shown = [(visible_at[str(e)] - when) * 1000 for e, when in sent.items() if str(e) in visible_at]
    return Latency(
        sent=len(sent),
        measured=len(applied),
        visible=len(shown),
        seconds=seconds,
        rate=len(sent) / seconds,
        p50_ms=percentile(applied, 0.50),
        p99_ms=percentile(applied, 0.99),
        p99_visible_ms=percentile(shown, 0.99),
    )


# --------------------------------------------------------------------------- the run


async def run(settings: Settings) -> bool:
    batch_size = StockSettings().stock_batch_size
    missing = service_missing()
    world = build_world(SEED)
    generator = LoadGenerator(world, SEED)
    progress(f"generating {EVENTS} events (seed {SEED}) ...")
    started = time.perf_counter()
    load = await asyncio.to_thread(generator.generate, EVENTS)
    reservoir = await asyncio.to_thread(generator.generate, EVENTS // 2)
    seed = generator.seed()
    progress(f"generated in {time.perf_counter() - started:.1f}s")
    progress(f"  load: {describe(load)}")
    progress(f"  seed: {describe(seed)}")
    figures: dict[str, float] = {"events": len(load)}
    targets = dict(TARGETS)
    failure: str | None = None

    # The ceiling first: PostgreSQL is quiet then (no autovacuum of the service's fresh
    # tables), and it is measured even when the service cannot run.
    # The best of a few runs: a ceiling is what PostgreSQL can do, and on a shared
    # 2-core machine a single short run is at the mercy of whatever else runs.
    progress("ceiling: the same balance updates with asyncpg alone ...")
    runs = []
    for _ in range(CEILING_RUNS):
        runs.append(await run_ceiling(settings, seed, load, batch_size, CEILING_WORKERS))
        progress(f"ceiling: {runs[-1].movements} movements at {runs[-1].per_s:.0f}/s")
    ceiling = max(runs, key=lambda run: run.per_s)
    figures["ceiling_per_s"] = ceiling.per_s
    await checkpoint(settings)

    publisher = Publisher(settings.bootstrap_servers, idempotence=settings.kafka_idempotence)
    await publisher.start()
    try:
        if missing is not None:
            failure = f"end to end: the stock service is not available: {missing}"
            progress(failure)
        else:
            try:
                e2e, latency, rss = await end_to_end(
                    settings, publisher, generator, seed, load, reservoir
                )
            except (BenchError, ProcessFailed) as error:
                failure = f"end to end failed: {error}"
                progress(failure)
        if failure is not None:
            progress("offered load only: publishing to Kafka with no consumer ...")
            publish_s = await publisher.publish(load)
            figures["offered_per_s"] = len(load) / publish_s
        else:
            figures |= {
                "offered_per_s": len(load) / e2e.publish_s,
                "movements": e2e.movements,
                "e2e_per_s": e2e.per_s,
                "ratio": e2e.per_s / ceiling.per_s,
                "rejected": e2e.rejected,
                "p50_ms": latency.p50_ms,
                "p99_ms": latency.p99_ms,
                "p99_visible_ms": latency.p99_visible_ms,
                "latency_rate_per_s": latency.rate,
                "rss_mb": rss.peak,
                "rss_load_mb": rss.measured,
            }
    finally:
        await publisher.stop()

    if failure is not None:
        figures |= {"e2e_per_s": 0.0, "ratio": 0.0}
        targets = {name: TARGETS[name] for name in ("e2e_per_s", "ratio")}
    report("stock", figures, targets)
    if failure is not None:
        progress(failure.splitlines()[0].removesuffix(":"))
        return False
    return True


@dataclass(frozen=True)
class Memory:
    peak: float
    """MB, over the whole run (seed included)."""
    measured: float
    """MB, over the measured phases (load and latency)."""


async def end_to_end(
    settings: Settings,
    publisher: Publisher,
    generator: LoadGenerator,
    seed: list[Record],
    load: list[Record],
    reservoir: list[Record],
) -> tuple[PhaseResult, Latency, Memory]:
    async with service_bench.running_service(settings, SERVICE, instances=INSTANCES) as service:
        ready_s = await service.wait_ready()
        progress(
            f"service: ready after {ready_s:.1f}s (pid {', '.join(map(str, service.pids))}, "
            f"log {service.log_path})"
        )
        conn = await asyncpg.connect(asyncpg_dsn(settings.service_url(SERVICE)))
        levels = LevelWatcher(settings)
        await levels.start()
        try:
            db = ServiceDatabase(conn)
            now = datetime.now(UTC)
            items, locations = generator.world.catalog_payloads(now)
            await fill_catalog(publisher, db.conn, service, items, locations, STALL_S)
            seeded = await burst(seed, publisher, db, service, levels, "seed")
            progress(f"seed: {seeded.movements} movements in {seeded.seconds:.1f}s")
            e2e = await burst(load, publisher, db, service, levels, "load")
            progress(
                f"load: {e2e.movements} movements from {e2e.events} events in "
                f"{e2e.seconds:.1f}s = {e2e.per_s:.0f} movements/s "
                f"({e2e.ledger_legs} ledger rows, {e2e.level_events} level events, "
                f"{e2e.rejected} rejected)"
            )
            per_event = e2e.movements / e2e.events
            latency = await paced(
                reservoir, e2e.per_s / 2 / per_event, publisher, db, service, levels
            )
            progress(
                f"latency: {latency.measured} of {latency.sent} events at {latency.rate:.0f}/s: "
                f"p50 {latency.p50_ms:.0f} ms, p99 {latency.p99_ms:.0f} ms, "
                f"p99 to the level event {latency.p99_visible_ms:.0f} ms "
                f"({latency.visible} events changed a level)"
            )
        finally:
            await levels.stop()
            await conn.close()
        phases = service.phase_peaks
        rss = Memory(
            peak=service.peak_rss / 2**20,
            measured=max(phases.get("load", 0), phases.get("latency", 0)) / 2**20,
        )
        peaks = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in phases.items())
        progress(f"service: peak RSS {rss.peak:.0f} MB (by phase, MB: {peaks})")
    return e2e, latency, rss


def main() -> None:
    service_bench.main(SERVICE, RUN_LOCK, run)


if __name__ == "__main__":
    main()
