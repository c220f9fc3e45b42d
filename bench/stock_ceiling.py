"""The raw ceiling: the load's balance updates written straight to PostgreSQL.

No Kafka, no service, no rules: the balance legs each event of the load should cause
(see ``Leg`` in stock_load.py) are applied with asyncpg in transactions of as many events
as the stock service applies in one batch (``STOCKWIRE_STOCK_BATCH_SIZE``, default 500),
to the stock service's own tables (``stockwire.stock.tables``) in a database of their own.
Per transaction: one upsert of every level (SKU x location) the batch touches, in key
order, returning the figures a stock-level event carries; one upsert of every balance it
touches (deltas summed per row, which one INSERT ... ON CONFLICT needs); the ledger rows
by COPY. That is about as little as any implementation of the same tables can do per
batch, so the service's rate over this one says how much its consumers, rules, inbox,
outbox and Kafka cost.

    uv run python bench/stock_ceiling.py            # BENCH_EVENTS=60000, own servers
"""

import asyncio
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
from report import progress
from stock_load import Record

from stockwire.runtime.db import asyncpg_dsn, create_engine
from stockwire.runtime.settings import Settings
from stockwire.stock.tables import metadata

CEILING_SERVICE = "ceiling"
"""The ceiling's database is ``<prefix>ceiling``, apart from the service's."""

UPSERT = """
INSERT INTO balances AS b (sku, location, lot, serial, on_hand, last_movement_id, updated_at)
SELECT * FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::uuid[], $7::timestamptz[]
)
ON CONFLICT (sku, location, lot, serial) DO UPDATE
SET on_hand = b.on_hand + EXCLUDED.on_hand,
    last_movement_id = EXCLUDED.last_movement_id,
    updated_at = EXCLUDED.updated_at
"""

UPSERT_LEVELS = """
INSERT INTO levels AS l (sku, location, on_hand, last_movement_id, updated_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::uuid[], $5::timestamptz[])
ON CONFLICT (sku, location) DO UPDATE
SET on_hand = l.on_hand + EXCLUDED.on_hand,
    last_movement_id = EXCLUDED.last_movement_id,
    updated_at = EXCLUDED.updated_at
RETURNING sku, location, on_hand, reserved, in_transit_in, in_transit_out, last_movement_id
"""

LEDGER_COLUMNS = (
    "movement_id",
    "kind",
    "reason_code",
    "sku",
    "location",
    "lot",
    "serial",
    "on_hand_delta",
    "quantity",
    "actor",
    "source_event_id",
    "recorded_at",
)


@dataclass(frozen=True)
class CeilingResult:
    events: int
    movements: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.movements / self.seconds


async def fresh_database(settings: Settings, service: str) -> str:
    """Drop and create ``service``'s database; its asyncpg DSN."""
    name = settings.database_name(service)
    admin = await asyncpg.connect(asyncpg_dsn(settings.server_url()))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return asyncpg_dsn(settings.service_url(service))


async def apply(conn: asyncpg.Connection, records: Sequence[Record]) -> int:
    """One batch in one transaction; the number of movements applied."""
    now = datetime.now(UTC)
    deltas: dict[tuple[str, str, str, str], Decimal] = {}
    last: dict[tuple[str, str, str, str], uuid.UUID] = {}
    ledger = []
    movements: dict[int, uuid.UUID] = {}
    for record in records:
        for leg in record.legs:
            movement_id = movements.get(leg.movement)
            if movement_id is None:
                movement_id = movements[leg.movement] = uuid.uuid4()
            if leg.on_hand_delta:  # an install from a job's custody changes no balance
                key = (leg.sku, leg.location, leg.lot, leg.serial)
                deltas[key] = deltas.get(key, Decimal(0)) + leg.on_hand_delta
                last[key] = movement_id
            ledger.append(
                (
                    movement_id,
                    leg.kind,
                    record.event_type,
                    leg.sku,
                    leg.location,
                    leg.lot,
                    leg.serial,
                    leg.on_hand_delta,
                    leg.quantity,
                    "bench",
                    record.event_id,
                    now,
                )
            )
    keys = sorted(deltas)
    pair_deltas: dict[tuple[str, str], Decimal] = {}
    pair_last: dict[tuple[str, str], uuid.UUID] = {}
    for key in keys:
        pair = (key[0], key[1])
        pair_deltas[pair] = pair_deltas.get(pair, Decimal(0)) + deltas[key]
        pair_last[pair] = last[key]
    pairs = sorted(pair_deltas)
    async with conn.transaction():
        if pairs:
            await conn.fetch(
                UPSERT_LEVELS,
                [p[0] for p in pairs],
                [p[1] for p in pairs],
                [pair_deltas[p] for p in pairs],
                [pair_last[p] for p in pairs],
                [now] * len(pairs),
            )
        if keys:
            await conn.execute(
                UPSERT,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [k[3] for k in keys],
                [deltas[k] for k in keys],
                [last[k] for k in keys],
                [now] * len(keys),
            )
        if ledger:
            await conn.copy_records_to_table("ledger", records=ledger, columns=LEDGER_COLUMNS)
    return len(movements)


async def run_ceiling(
    settings: Settings,
    seed: Sequence[Record],
    load: Sequence[Record],
    batch_size: int,
    workers: int = 1,
) -> CeilingResult:
    """Apply ``seed`` (untimed), then time applying ``load`` in batches of ``batch_size``
    on ``workers`` connections at once (each takes the next batch when it is free)."""
    await fresh_database(settings, CEILING_SERVICE)
    engine = create_engine(settings, CEILING_SERVICE)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    dsn = asyncpg_dsn(settings.service_url(CEILING_SERVICE))
    conns = [await asyncpg.connect(dsn) for _ in range(workers)]
    try:
        for first in range(0, len(seed), batch_size):
            await apply(conns[0], seed[first : first + batch_size])
        await conns[0].execute("VACUUM ANALYZE balances")
        progress(
            f"ceiling: seeded; applying {len(load)} events in batches of {batch_size} "
            f"on {workers} connection(s) ..."
        )
        batches = iter(range(0, len(load), batch_size))

        async def worker(conn: asyncpg.Connection) -> int:
            applied = 0
            for first in batches:
                applied += await apply(conn, load[first : first + batch_size])
            return applied

        started = time.perf_counter()
        movements = sum(await asyncio.gather(*(worker(conn) for conn in conns)))
        seconds = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
    return CeilingResult(len(load), movements, seconds)


def main() -> None:
    """The ceiling alone, on the test stack's PostgreSQL."""
    from stock_load import LoadGenerator, build_world

    from stockwire.devstack.teststack import test_stack
    from stockwire.stock.settings import StockSettings

    events = int(os.environ.get("BENCH_EVENTS", "60000"))
    seed = int(os.environ.get("BENCH_SEED", "1"))
    generator = LoadGenerator(build_world(seed), seed)
    load = generator.generate(events)
    seed_records = generator.seed()
    batch_size = StockSettings().stock_batch_size
    with test_stack() as settings:
        bench = settings.model_copy(update={"database_prefix": "stockwire_bench_"})
        workers = int(os.environ.get("BENCH_CEILING_WORKERS", "1"))
        result = asyncio.run(run_ceiling(bench, seed_records, load, batch_size, workers))
    progress(
        f"ceiling: {result.movements} movements from {result.events} events in "
        f"{result.seconds:.1f}s = {result.per_s:.0f} movements/s"
    )


if __name__ == "__main__":
    main()
