"""A batch is one transaction: each command in it is applied whole or rejected on its own,
and each SKU x location's level is published once, with its final figures."""

from datetime import UTC, datetime

import sqlalchemy as sa
from stock_refs import (
    PUBLIC_URL,
    Site,
    assert_books_balance,
    item,
    outbox_payloads,
    q,
    ref,
    seed,
    uow_for,
)

from stockwire.contracts.envelope import Envelope
from stockwire.contracts.ids import new_id
from stockwire.stock import handlers
from stockwire.stock.domain.commands import IssueParts, Line, Origin, ReceiptLine, ReceiveGoods
from stockwire.stock.domain.model import Policy
from stockwire.stock.tables import ledger
from stockwire.stock.unit_of_work import StockUnitOfWork

ORIGIN = Origin("tests")


def cause(event_type: str) -> Envelope:
    """An envelope received from outside, part of a flow that began before it."""
    return Envelope(
        event_id=new_id(),
        event_type=event_type,
        schema_version=1,
        occurred_at=datetime.now(UTC),
        producer="tests",
        correlation_id=new_id(),
        payload={},
    )


async def test_a_batch_publishes_one_level_per_pair_with_the_final_figures(
    stock_runtime, stock_engine
):
    site = Site()
    sku = item()
    await seed(stock_runtime, items=[sku], locations=site.locations())
    cmds = [ReceiveGoods(site.wh, (ReceiptLine(sku.sku, q(100)),), ORIGIN)]
    cmds += [
        IssueParts(site.wh, (Line(sku.sku, q(1)),), ORIGIN, job_id=ref("JOB")) for _ in range(30)
    ]

    outcomes = await handlers.apply_commands(cmds, uow_for(stock_runtime))

    assert all(outcome.applied for outcome in outcomes)
    envelopes = await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
    levels = [e for e in envelopes if e["event_type"] == "stock.level.changed"]
    movements = [e for e in envelopes if e["event_type"] == "stock.movement.recorded"]
    assert len(movements) == 31
    [level] = levels
    assert q(level["payload"]["on_hand"]) == 70
    assert level["payload"]["last_movement_id"] == movements[-1]["payload"]["movement_id"]


async def test_a_rejected_command_in_a_batch_leaves_the_others_applied(stock_runtime, stock_engine):
    site = Site()
    sku = item()
    await seed(stock_runtime, items=[sku], locations=site.locations())
    job = ref("JOB")
    cmds = [
        ReceiveGoods(site.wh, (ReceiptLine(sku.sku, q(5)),), ORIGIN),
        IssueParts(site.wh, (Line(sku.sku, q(10)),), ORIGIN, job_id=job),
        IssueParts(site.wh, (Line(sku.sku, q(5)),), ORIGIN, job_id=job),
    ]

    outcomes = await handlers.apply_commands(cmds, uow_for(stock_runtime))

    assert [o.applied for o in outcomes] == [True, False, True]
    async with stock_engine.connect() as conn:
        issued = await conn.scalar(
            sa.select(sa.func.sum(ledger.c.on_hand_delta)).where(ledger.c.job_id == job)
        )
    assert issued == -5
    kinds = [
        e["payload"].get("kind")
        for e in await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
        if e["event_type"] == "stock.alert.raised"
    ]
    assert kinds == ["rejected_movement", "stockout"]
    await assert_books_balance(stock_engine, [sku.sku])


async def test_each_event_a_batch_publishes_carries_the_flow_of_the_event_that_caused_it(
    stock_runtime, stock_engine
):
    site = Site()
    sku = item()
    await seed(stock_runtime, items=[sku], locations=site.locations())
    receipt, issue = cause("procurement.goods.received"), cause("fsm.parts.issued")
    cmds = [
        ReceiveGoods(site.wh, (ReceiptLine(sku.sku, q(5)),), Origin("tests", receipt.event_id)),
        IssueParts(
            site.wh, (Line(sku.sku, q(2)),), Origin("tests", issue.event_id), job_id=ref("JOB")
        ),
    ]

    async with stock_runtime.sessions.begin() as session:
        uow = StockUnitOfWork.within(
            session, stock_runtime.outbox, Policy(), [receipt, issue], public_url=PUBLIC_URL
        )
        await handlers.apply_commands(cmds, uow)

    staged = await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
    flows = [(e["event_type"], e["correlation_id"], e["causation_id"]) for e in staged]
    assert flows == [
        ("stock.movement.recorded", str(receipt.correlation_id), str(receipt.event_id)),
        ("stock.movement.recorded", str(issue.correlation_id), str(issue.event_id)),
        ("stock.level.changed", str(issue.correlation_id), str(issue.event_id)),
    ]
    assert receipt.correlation_id != issue.correlation_id
