"""Assets service throughput, device timeline latency and memory, against its raw ceiling,
in one run.

1. Raw ceiling: the load's writes (a device upsert, a timeline row, and an outbox row and
   a timeline row per state change, a sighting per monitoring report) written with asyncpg
   alone, in batches of the service's batch size (bench/assets_ceiling.py):
   ``ceiling_per_s``. It runs first, while PostgreSQL is quiet, and runs even when the
   service cannot.
2. Load (bench/assets_load.py): ``BENCH_EVENTS`` events of the lives of serialized devices
   (``StockMovementRecorded`` of serials on stock.movements.v1: receipts, transfers,
   issues, installs, returns good and faulty) interleaved with what monitoring reports of
   them on monitoring.device-events.v1 (about a quarter: mostly sightings, some
   degradations and recoveries, failures of installed devices). One device lives through
   the whole load with ``BENCH_TIMELINE_EVENTS`` events. First the catalog read copy is
   filled (catalog.items.v1 / catalog.locations.v1 upserts); then the load is published as
   fast as the broker takes it, acks=all (``offered_per_s``).
3. End to end: the real assets service runs as a child process (``python -m
   stockwire.assets`` after its migrations, on a freshly created
   ``stockwire_bench_assets`` database). The clock runs from the first record published
   until the service's inbox holds every event of the load (applied: its device rows,
   timeline and outbox rows are in the same transaction) and no outbox row is unsent
   (polled every 0.25 s). ``e2e_per_s`` is events over that window; ``ratio`` =
   e2e_per_s / ceiling_per_s.
4. Timeline: ``GET /api/v1/devices/{serial}?limit=500`` of the long-lived device, the
   first page (its device and 500 timeline rows), ``BENCH_TIMELINE_REQUESTS`` times one
   after another after 10 unmeasured: ``timeline_p50_ms``, ``timeline_p99_ms``. Also the
   time to read its whole timeline page by page (``timeline_all_ms``, median of 20).
5. ``rss_mb``: the service's peak resident memory (children included), sampled every
   200 ms over the whole run.

One run at a time per PostgreSQL (an advisory lock); the service is stopped on the way
out, also on Ctrl-C or SIGTERM, and the end of its log is shown if it dies.

    make bench-assets                     # BENCH_EVENTS=100000, BENCH_SEED=1
    BENCH_EVENTS=20000 make bench-assets  # a quicker run
"""

import asyncio
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import asyncpg
import httpx
import service_bench
from assets_ceiling import run_ceiling
from assets_load import TIMELINE_SERIAL, AssetRecord, AssetsLoadGenerator, describe
from report import Target, progress, report
from service_bench import (
    BenchError,
    BenchService,
    checkpoint,
    consumer_metrics,
    cpu_seconds,
    explain_metrics,
    fill_catalog,
    percentile,
)
from stock_load import Publisher, build_world

from stockwire.assets.consumers import MOVEMENTS_CONSUMER, REPORTS_CONSUMER
from stockwire.assets.settings import AssetsSettings
from stockwire.contracts.assets import DeviceStateChanged, FailureRecorded, TransitionRejected
from stockwire.devstack.tokens import api_tokens_json
from stockwire.runtime.db import asyncpg_dsn
from stockwire.runtime.harness import ProcessFailed, tail
from stockwire.runtime.settings import Settings

SERVICE = "assets"
EVENTS = int(os.environ.get("BENCH_EVENTS", "100000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
TIMELINE_EVENTS = int(os.environ.get("BENCH_TIMELINE_EVENTS", "1000"))
TIMELINE_REQUESTS = int(os.environ.get("BENCH_TIMELINE_REQUESTS", "200"))
TIMELINE_LIMIT = 500
TIMELINE_WARM_UP = 10
TIMELINE_WALKS = 20
CEILING_RUNS = int(os.environ.get("BENCH_CEILING_RUNS", "2"))
STALL_S = float(os.environ.get("BENCH_STALL_SECONDS", "120"))
"""Give up when the service makes no progress for this long."""
RUN_LOCK = 0x5354_4245_4E43_4841 >> 1
"""Advisory lock key ("STBENCHA") that keeps two runs on one PostgreSQL apart."""
CONSUMERS = [MOVEMENTS_CONSUMER, REPORTS_CONSUMER]

TARGETS: dict[str, Target] = {
    "e2e_per_s": (">=", 5_000),
    "ratio": (">=", 0.25),
    "timeline_p99_ms": ("<=", 50),
    "rss_mb": ("<=", 300),
}


# --------------------------------------------------------------------------- observing


class AssetsDatabase:
    """Reads the service's own tables to see how far it got (a benchmark may; services don't)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def applied(self) -> int:
        """Events of the load the service applied (its two consumers' inbox rows)."""
        found = await self.conn.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = ANY($1::text[])", CONSUMERS
        )
        return int(found)

    async def unsent(self) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))

    async def summary(self) -> dict[str, int]:
        """What the load left: devices, timeline rows by kind, events published by type."""
        counts = {"devices": int(await self.conn.fetchval("SELECT count(*) FROM devices"))}
        for row in await self.conn.fetch(
            "SELECT kind, count(*) AS n FROM device_history GROUP BY kind"
        ):
            counts[f"history_{row['kind']}"] = row["n"]
        for row in await self.conn.fetch(
            "SELECT event_type, count(*) AS n FROM outbox GROUP BY event_type"
        ):
            counts[row["event_type"]] = row["n"]
        counts["history"] = sum(n for k, n in counts.items() if k.startswith("history_"))
        counts["timeline_rows"] = int(
            await self.conn.fetchval(
                "SELECT count(*) FROM device_history WHERE serial = $1", TIMELINE_SERIAL
            )
        )
        return counts


async def wait_applied(db: AssetsDatabase, service: BenchService, expected: int) -> float:
    """Wait until ``expected`` events are applied and the outbox is empty; the time
    (``time.time()``) that was seen."""
    last_progress = time.perf_counter()
    last_state: tuple[int, int] | None = None
    last_line = 0.0
    while True:
        service.check()
        applied = await db.applied()
        unsent = await db.unsent()
        seen_at = time.time()
        if applied >= expected and unsent == 0:
            return seen_at
        state = (applied, unsent)
        if state != last_state:
            last_state, last_progress = state, time.perf_counter()
        if time.perf_counter() - last_line >= 2:
            last_line = time.perf_counter()
            progress(f"  load: {applied}/{expected} events applied, {unsent} outbox rows unsent")
        if time.perf_counter() - last_progress > STALL_S:
            raise BenchError(
                f"load: no progress for {STALL_S:.0f}s ({applied}/{expected} applied, "
                f"{unsent} unsent); end of {service.log_path}:\n{tail(service.log_path, 40)}"
            )
        await asyncio.sleep(0.25)


@dataclass(frozen=True)
class Timeline:
    rows: int
    p50_ms: float
    p99_ms: float
    all_ms: float


async def timeline_latency(client: httpx.AsyncClient) -> Timeline:
    """The first page (limit 500) of the long-lived device, asked one request after
    another; and its whole timeline, page by page."""
    path = f"/api/v1/devices/{quote(TIMELINE_SERIAL, safe='')}"

    async def page(cursor: str | None = None) -> tuple[int, str | None]:
        """Rows on the page, and the next page's cursor."""
        params: dict[str, str | int] = {"limit": TIMELINE_LIMIT}
        if cursor is not None:
            params["cursor"] = cursor
        answer = await client.get(path, params=params)
        if answer.status_code != 200:
            raise BenchError(f"GET {path} answered {answer.status_code}: {answer.text[:500]}")
        body = answer.json()
        return len(body["timeline"]), body["next_cursor"]

    async def walk() -> int:
        rows, cursor = await page()
        while cursor is not None:
            more, cursor = await page(cursor)
            rows += more
        return rows

    for _ in range(TIMELINE_WARM_UP):
        await page()
    first_page = []
    for _ in range(TIMELINE_REQUESTS):
        started = time.perf_counter()
        await page()
        first_page.append((time.perf_counter() - started) * 1000)
    walks = []
    rows = 0
    for _ in range(TIMELINE_WALKS):
        started = time.perf_counter()
        rows = await walk()
        walks.append((time.perf_counter() - started) * 1000)
    return Timeline(
        rows=rows,
        p50_ms=percentile(first_page, 0.50),
        p99_ms=percentile(first_page, 0.99),
        all_ms=percentile(walks, 0.50),
    )


# --------------------------------------------------------------------------- the run


@dataclass
class EndToEnd:
    figures: dict[str, float]
    publish_s: float


async def end_to_end(
    settings: Settings,
    publisher: Publisher,
    generator: AssetsLoadGenerator,
    load: Sequence[AssetRecord],
    ceiling_per_s: float,
) -> EndToEnd:
    token = secrets.token_urlsafe(24)
    env = {"STOCKWIRE_API_TOKENS": api_tokens_json(token)}
    async with service_bench.running_service(settings, SERVICE, env=env) as service:
        ready_s = await service.wait_ready()
        progress(
            f"service: ready after {ready_s:.1f}s (pid {', '.join(map(str, service.pids))}, "
            f"log {service.log_path})"
        )
        conn = await asyncpg.connect(asyncpg_dsn(settings.service_url(SERVICE)))
        try:
            async with httpx.AsyncClient(
                base_url=service.url,
                headers={"Authorization": f"Bearer {token}"},
                trust_env=False,
                timeout=30,
            ) as client:
                db = AssetsDatabase(conn)
                items, locations = generator.world.catalog_payloads(datetime.now(UTC))
                await fill_catalog(publisher, conn, service, items, locations, STALL_S)
                service.phase = "load"
                cpu_before = cpu_seconds(SERVICE, service.pids)
                started = time.time()
                publish_s = await publisher.publish(load)
                progress(f"load: published {len(load)} events in {publish_s:.1f}s "
                         f"({len(load) / publish_s:.0f}/s offered)")  # fmt: skip
                finished = await wait_applied(db, service, len(load))
                seconds = finished - started
                cpu_after = cpu_seconds(SERVICE, service.pids)
                e2e_per_s = len(load) / seconds
                progress(
                    f"load: {len(load)} events applied and published in {seconds:.1f}s "
                    f"= {e2e_per_s:.0f} events/s"
                )
                cores = {
                    name: (used - cpu_before.get(name, 0.0)) / seconds
                    for name, used in cpu_after.items()
                }
                progress(
                    "load: cores used: "
                    + ", ".join(f"{name} {used:.2f}" for name, used in cores.items())
                )
                progress(
                    explain_metrics(await consumer_metrics(client, CONSUMERS), seconds, CONSUMERS)
                )
                summary = await db.summary()
                progress(f"load: the service holds {summary}")
                service.phase = "timeline"
                timeline = await timeline_latency(client)
                progress(
                    f"timeline: {TIMELINE_SERIAL} has {timeline.rows} timeline rows "
                    f"({TIMELINE_EVENTS} events); first page of {TIMELINE_LIMIT} over "
                    f"{TIMELINE_REQUESTS} requests: p50 {timeline.p50_ms:.1f} ms, "
                    f"p99 {timeline.p99_ms:.1f} ms; all pages {timeline.all_ms:.1f} ms"
                )
        finally:
            await conn.close()
        peaks = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in service.phase_peaks.items())
        progress(f"service: peak RSS {service.peak_rss / 2**20:.0f} MB (by phase, MB: {peaks})")
    figures = {
        "e2e_per_s": e2e_per_s,
        "ratio": e2e_per_s / ceiling_per_s,
        "rejected": summary.get(TransitionRejected.event_type, 0),
        "state_changes": summary.get(DeviceStateChanged.event_type, 0),
        "failures": summary.get(FailureRecorded.event_type, 0),
        "parked": summary.get("history_parked", 0),
        "superseded": summary.get("history_superseded", 0),
        "monitoring_applied": summary.get("history_monitoring", 0),
        "timeline_rows": timeline.rows,
        "timeline_p50_ms": timeline.p50_ms,
        "timeline_p99_ms": timeline.p99_ms,
        "timeline_all_ms": timeline.all_ms,
        "rss_mb": service.peak_rss / 2**20,
        **{f"load_cpu_{name}": used for name, used in cores.items()},
    }
    return EndToEnd(figures, publish_s)


async def run(settings: Settings) -> bool:
    batch_size = AssetsSettings().assets_batch_size
    generator = AssetsLoadGenerator(build_world(SEED), SEED, TIMELINE_EVENTS)
    progress(f"generating {EVENTS} events (seed {SEED}) ...")
    started = time.perf_counter()
    load = await asyncio.to_thread(generator.generate, EVENTS)
    progress(f"generated in {time.perf_counter() - started:.1f}s")
    progress(f"  load: {describe(load)}")
    figures: dict[str, float] = {"events": len(load)}
    targets = dict(TARGETS)
    failure: str | None = None

    # The best of a few runs: a ceiling is what PostgreSQL can do, and on a shared 2-core
    # machine a single short run is at the mercy of whatever else runs.
    progress("ceiling: the same writes with asyncpg alone ...")
    runs = []
    for _ in range(CEILING_RUNS):
        runs.append(await run_ceiling(settings, load, batch_size))
        progress(f"ceiling: {runs[-1].events} events at {runs[-1].per_s:.0f}/s")
    ceiling = max(runs, key=lambda run: run.per_s)
    figures["ceiling_per_s"] = ceiling.per_s
    await checkpoint(settings)

    publisher = Publisher(settings.bootstrap_servers, idempotence=settings.kafka_idempotence)
    await publisher.start()
    try:
        try:
            e2e = await end_to_end(settings, publisher, generator, load, ceiling.per_s)
        except (BenchError, ProcessFailed) as error:
            failure = f"end to end failed: {error}"
            progress(failure)
            progress("offered load only: publishing to Kafka with no consumer ...")
            publish_s = await publisher.publish(load)
            figures["offered_per_s"] = len(load) / publish_s
        else:
            figures["offered_per_s"] = len(load) / e2e.publish_s
            figures |= e2e.figures
    finally:
        await publisher.stop()

    if failure is not None:
        figures |= {"e2e_per_s": 0.0, "ratio": 0.0}
        targets = {name: TARGETS[name] for name in ("e2e_per_s", "ratio")}
    met = report(SERVICE, figures, targets)
    if failure is not None:
        progress(failure.splitlines()[0].removesuffix(":"))
        return False
    return met


def main() -> None:
    service_bench.main(SERVICE, RUN_LOCK, run)


if __name__ == "__main__":
    main()
