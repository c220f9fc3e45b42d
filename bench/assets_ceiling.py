"""The raw ceiling: the assets load's writes straight to PostgreSQL.

No Kafka, no service, no rules: what each event of the load writes at least when applied
in publication order (its :class:`~assets_load.Write`, worked out by the generator) is
written with asyncpg in transactions of as many events as the assets service applies in
one batch (``STOCKWIRE_ASSETS_BATCH_SIZE``, default 500), to the assets service's own
tables (``stockwire.assets.tables``) in a database of their own. Per transaction: one
``INSERT ... ON CONFLICT DO UPDATE`` of every device the batch touches (its row after the
batch, in serial order); one of the sighting of every serial monitoring reported (the
latest); the timeline rows by COPY (one per event, one more per state change); the fact
kept for a later rebuild by COPY (one per event of a device); and an outbox row per state
change by COPY (a ``DeviceStateChanged`` envelope, built as a plain
dict). That is about as little as any implementation of the same tables can do, so the
service's rate over this one says what its consumers, rules, inbox, outbox relay and
Kafka cost.

    uv run python bench/assets_ceiling.py            # BENCH_EVENTS=100000, own servers
"""

import asyncio
import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from assets_load import AssetRecord, Device
from report import progress
from stock_ceiling import fresh_database

from stockwire.assets.tables import metadata
from stockwire.contracts.assets import DeviceStateChanged
from stockwire.contracts.ids import new_id
from stockwire.contracts.topics import ASSETS_LIFECYCLE
from stockwire.runtime.db import create_engine
from stockwire.runtime.outbox import COPY_COLUMNS, shard_of
from stockwire.runtime.settings import Settings

CEILING_SERVICE = "assets_ceiling"
"""The ceiling's database is ``<prefix>assets_ceiling``, apart from the service's."""

UPSERT_DEVICES = """
INSERT INTO devices AS d (
    serial, sku, state, location, location_kind, region, job_id, as_of, received_at,
    installed_since, health, mac, updated_at
)
SELECT * FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[],
    $13::timestamptz[]
)
ON CONFLICT (serial) DO UPDATE
SET state = EXCLUDED.state,
    location = EXCLUDED.location,
    location_kind = EXCLUDED.location_kind,
    region = EXCLUDED.region,
    job_id = EXCLUDED.job_id,
    as_of = EXCLUDED.as_of,
    installed_since = EXCLUDED.installed_since,
    health = EXCLUDED.health,
    mac = EXCLUDED.mac,
    updated_at = EXCLUDED.updated_at
"""

UPSERT_SIGHTINGS = """
INSERT INTO sightings AS s (serial, mac, site, source, seen_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
ON CONFLICT (serial) DO UPDATE
SET mac = coalesce(EXCLUDED.mac, s.mac),
    site = coalesce(EXCLUDED.site, s.site),
    source = EXCLUDED.source,
    seen_at = EXCLUDED.seen_at
WHERE EXCLUDED.seen_at >= s.seen_at
"""

HISTORY_COLUMNS = ("serial", "at", "kind", "summary", "detail", "source_event_id")

STATE_CHANGED = DeviceStateChanged.event_type
NO_HEADERS = json.dumps({})


@dataclass(frozen=True)
class CeilingResult:
    events: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.events / self.seconds


def _state_changed(
    device: Device, change: tuple[str | None, str], reason: str, cause: uuid.UUID, now: datetime
) -> tuple[object, ...]:
    """The outbox row of a state change: an envelope as the service writes one."""
    event_id = new_id()
    stamp = now.isoformat()
    envelope = {
        "event_id": str(event_id),
        "event_type": STATE_CHANGED,
        "schema_version": 1,
        "occurred_at": stamp,
        "producer": "assets",
        "correlation_id": str(cause),
        "causation_id": str(cause),
        "payload": {
            "serial": device.serial,
            "sku": device.sku,
            "from_state": change[0],
            "to_state": change[1],
            "location": device.location,
            "location_kind": device.location_kind,
            "job_id": device.job_id,
            "reason": reason,
            "changed_at": device.as_of.isoformat(),
            "source_event_id": str(cause),
        },
    }
    return (
        event_id,
        ASSETS_LIFECYCLE.name,
        device.serial,
        shard_of(device.serial),
        STATE_CHANGED,
        json.dumps(envelope),
        NO_HEADERS,
    )


async def apply(conn: asyncpg.Connection, records: Sequence[AssetRecord]) -> int:
    """One batch in one transaction; the number of events applied."""
    now = datetime.now(UTC)
    devices: dict[str, Device] = {}
    sightings: dict[str, tuple[str, str | None, str | None, str, datetime]] = {}
    history: list[tuple[object, ...]] = []
    facts: list[tuple[object, ...]] = []
    outbox: list[tuple[object, ...]] = []
    for record in records:
        write = record.write
        assert write is not None, "every record of the assets load says what it writes"
        device = write.device
        if write.sighting is not None:
            site, mac, source = write.sighting
            sightings[write.serial] = (write.serial, mac, site, source, write.at)
        if device is None:
            continue  # a serial no record has: only its sighting is kept
        devices[write.serial] = device
        detail = {"sku": device.sku, "location": device.location, "job_id": device.job_id}
        history.append(
            (write.serial, write.at, write.kind, write.summary, json.dumps(detail), record.event_id)
        )
        facts.append((write.serial, write.at, json.dumps({**detail, "reason": write.summary})))
        if write.change is not None:
            before, after = write.change
            summary = f"{before or 'nothing'} -> {after}: {write.summary}"
            change = {"from_state": before, "to_state": after, **detail}
            history.append(
                (
                    write.serial,
                    write.at,
                    "state_changed",
                    summary,
                    json.dumps(change),
                    record.event_id,
                )
            )
            outbox.append(_state_changed(device, write.change, write.summary, record.event_id, now))
    rows = [devices[serial] for serial in sorted(devices)]
    seen = [sightings[serial] for serial in sorted(sightings)]
    async with conn.transaction():
        if rows:
            await conn.execute(
                UPSERT_DEVICES,
                *(list(column) for column in zip(*rows, strict=True)),
                [now] * len(rows),
            )
        if seen:
            await conn.execute(
                UPSERT_SIGHTINGS, *(list(column) for column in zip(*seen, strict=True))
            )
        if history:
            await conn.copy_records_to_table(
                "device_history", records=history, columns=HISTORY_COLUMNS
            )
        if facts:
            await conn.copy_records_to_table(
                "device_facts", records=facts, columns=("serial", "at", "fact")
            )
        if outbox:
            await conn.copy_records_to_table("outbox", records=outbox, columns=COPY_COLUMNS)
    return len(records)


async def run_ceiling(
    settings: Settings, load: Sequence[AssetRecord], batch_size: int
) -> CeilingResult:
    """Time applying ``load`` in batches of ``batch_size`` on one connection, to fresh
    tables."""
    dsn = await fresh_database(settings, CEILING_SERVICE)
    engine = create_engine(settings, CEILING_SERVICE)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        applied = 0
        for first in range(0, len(load), batch_size):
            applied += await apply(conn, load[first : first + batch_size])
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    return CeilingResult(applied, seconds)


def main() -> None:
    """The ceiling alone, on the test stack's PostgreSQL."""
    from assets_load import AssetsLoadGenerator
    from service_bench import PREFIX
    from stock_load import build_world

    from stockwire.assets.settings import AssetsSettings
    from stockwire.devstack.teststack import test_stack

    events = int(os.environ.get("BENCH_EVENTS", "100000"))
    seed = int(os.environ.get("BENCH_SEED", "1"))
    load = AssetsLoadGenerator(build_world(seed), seed, 1000).generate(events)
    batch_size = AssetsSettings().assets_batch_size
    with test_stack() as settings:
        bench = settings.model_copy(update={"database_prefix": PREFIX})
        result = asyncio.run(run_ceiling(bench, load, batch_size))
    progress(
        f"ceiling: {result.events} events in {result.seconds:.1f}s = {result.per_s:.0f} events/s"
    )


if __name__ == "__main__":
    main()
