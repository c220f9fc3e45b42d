"""Concurrent writers on the same SKU x location never lose an update, never deadlock,
and never let one serial arrive in two places."""

import asyncio
import random
from collections import Counter

import sqlalchemy as sa
from stock_refs import Site, assert_books_balance, item, q, ref, seed, uow_for

from stockwire.stock import handlers
from stockwire.stock.domain.commands import (
    IssueParts,
    Line,
    Origin,
    ReceiptLine,
    ReceiveGoods,
    ShipTransfer,
)
from stockwire.stock.tables import levels

ORIGIN = Origin("tests")


async def levels_of(engine, skus: list[str]) -> dict[tuple[str, str], object]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(levels.c.sku, levels.c.location, levels.c.on_hand).where(
                levels.c.sku.in_(skus)
            )
        )
        return {(r.sku, r.location): r.on_hand for r in rows}


async def test_concurrent_http_issues_and_transfers_take_exactly_the_stock_there_is(
    writer, stock_runtime, stock_engine
):
    site = Site()
    sku = item()
    await seed(stock_runtime, items=[sku], locations=site.locations())
    received = await writer.post(
        "/api/v1/receipts",
        json={"location": site.wh, "lines": [{"sku": sku.sku, "received_quantity": "60"}]},
    )
    assert received.status_code == 201

    async def issue() -> int:
        response = await writer.post(
            "/api/v1/issues",
            json={
                "from_location": site.wh,
                "job_id": ref("JOB"),
                "lines": [{"sku": sku.sku, "quantity": "1"}],
            },
        )
        return response.status_code

    async def transfer() -> int:
        response = await writer.post(
            "/api/v1/transfers",
            json={
                "sku": sku.sku,
                "from_location": site.wh,
                "to_location": site.pop,
                "quantity": "1",
            },
        )
        return response.status_code

    requests = [issue() for _ in range(50)] + [transfer() for _ in range(50)]
    random.shuffle(requests)
    statuses = Counter(await asyncio.gather(*requests))

    assert statuses == {201: 60, 409: 40}
    level = (
        await writer.get("/api/v1/balances", params={"sku": sku.sku, "location": site.wh})
    ).json()
    [wh] = level["balances"] if "balances" in level else level["items"]
    assert q(wh["on_hand"]) == 0
    await assert_books_balance(stock_engine, [sku.sku])


async def test_instances_applying_crossing_batches_concurrently_neither_deadlock_nor_lose_updates(
    stock_runtime, stock_engine
):
    """Four writers (as four instances would) apply batches that move three SKUs both ways
    between two locations, each batch in its own order."""
    site = Site()
    skus = [item() for _ in range(3)]
    await seed(stock_runtime, items=skus, locations=site.locations())
    for where in (site.wh, site.pop):
        lines = tuple(ReceiptLine(s.sku, q(1000)) for s in skus)
        await handlers.apply_commands([ReceiveGoods(where, lines, ORIGIN)], uow_for(stock_runtime))

    def batch(seed_: int) -> list:
        rng = random.Random(seed_)
        cmds = []
        for _ in range(60):
            sku = rng.choice(skus).sku
            here, there = rng.sample([site.wh, site.pop], 2)
            if rng.random() < 0.5:
                cmds.append(IssueParts(here, (Line(sku, q(1)),), ORIGIN, job_id=ref("JOB")))
            else:
                cmds.append(ShipTransfer(ref("T"), sku, here, there, q(1), ORIGIN))
        return cmds

    batches = [batch(n) for n in range(8)]
    results = await asyncio.gather(
        *(handlers.apply_commands(cmds, uow_for(stock_runtime)) for cmds in batches)
    )

    assert all(outcome.applied for outcomes in results for outcome in outcomes)
    await assert_books_balance(stock_engine, [s.sku for s in skus])
    taken: Counter[tuple[str, str]] = Counter()
    for cmds in batches:
        for cmd in cmds:
            sku = cmd.lines[0].sku if isinstance(cmd, IssueParts) else cmd.sku
            taken[(sku, cmd.from_location)] += 1
    on_hand = await levels_of(stock_engine, [s.sku for s in skus])
    for key, count in taken.items():
        assert on_hand[key] == 1000 - count


async def test_one_new_serial_received_at_two_places_at_once_lands_in_one(writer, stock_runtime):
    site = Site()
    ont = item("ONT", "serial")
    await seed(stock_runtime, items=[ont], locations=site.locations())

    async def receive(location: str, serial: str) -> int:
        response = await writer.post(
            "/api/v1/receipts",
            json={
                "location": location,
                "lines": [{"sku": ont.sku, "received_quantity": "1", "serials": [serial]}],
            },
        )
        return response.status_code

    for _ in range(5):
        serial = ref("SN")
        statuses = sorted(await asyncio.gather(receive(site.wh, serial), receive(site.pop, serial)))
        assert statuses == [201, 409]
