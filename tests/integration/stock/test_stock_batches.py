"""A batch is one transaction: each command in it is applied whole or rejected on its own,
and each SKU x location's level is published once, with its final figures."""

import secrets

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

from stockwire.contracts import fsm
from stockwire.contracts.base import Event
from stockwire.contracts.envelope import wrap
from stockwire.contracts.ids import new_id
from stockwire.contracts.receipts import GoodsReceived
from stockwire.contracts.receipts import ReceiptLine as GoodsLine
from stockwire.contracts.topics import topic_for
from stockwire.runtime.consumer import Received
from stockwire.stock import handlers
from stockwire.stock.domain.commands import IssueParts, Line, Origin, ReceiptLine, ReceiveGoods
from stockwire.stock.domain.model import Policy
from stockwire.stock.tables import MESSAGING, ledger
from stockwire.stock.unit_of_work import StockUnitOfWork

ORIGIN = Origin("tests")


def cause(payload: Event, trace: dict[str, str] | None = None) -> Received:
    """An event a consumer received from outside, part of a flow that began before it,
    written in the trace ``trace``."""
    envelope = wrap(payload, producer="tests", correlation_id=new_id())
    return Received(envelope, payload, topic_for(type(payload)).name, 0, 0, trace or {})


def goods_received(location: str, sku: str) -> GoodsReceived:
    return GoodsReceived(
        receipt_id=ref("GR"),
        po_number=ref("PO"),
        supplier="tests",
        location=location,
        lines=(GoodsLine(sku=sku, ordered_quantity=q(1), received_quantity=q(1)),),
    )


def parts_issued(location: str, sku: str) -> fsm.PartsIssued:
    return fsm.PartsIssued(
        job_id=ref("JOB"), from_location=location, lines=(fsm.PartLine(sku=sku, quantity=q(1)),)
    )


def traceparent() -> str:
    """A W3C traceparent of a new trace, as a writer's span would send it."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


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
    receipt = cause(goods_received(site.wh, sku.sku))
    issue = cause(parts_issued(site.wh, sku.sku))
    cmds = [
        ReceiveGoods(
            site.wh, (ReceiptLine(sku.sku, q(5)),), Origin("tests", receipt.envelope.event_id)
        ),
        IssueParts(
            site.wh,
            (Line(sku.sku, q(2)),),
            Origin("tests", issue.envelope.event_id),
            job_id=ref("JOB"),
        ),
    ]

    async with stock_runtime.sessions.begin() as session:
        uow = StockUnitOfWork.within(
            session, stock_runtime.outbox, Policy(), [receipt, issue], public_url=PUBLIC_URL
        )
        await handlers.apply_commands(cmds, uow)

    staged = await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
    flows = [(e["event_type"], e["correlation_id"], e["causation_id"]) for e in staged]
    received, issued = receipt.envelope, issue.envelope
    assert flows == [
        ("stock.movement.recorded", str(received.correlation_id), str(received.event_id)),
        ("stock.movement.recorded", str(issued.correlation_id), str(issued.event_id)),
        ("stock.level.changed", str(issued.correlation_id), str(issued.event_id)),
    ]
    assert received.correlation_id != issued.correlation_id


async def test_each_event_a_batch_publishes_continues_the_trace_of_the_event_that_caused_it(
    stock_runtime, stock_engine
):
    # Given a batch of two events, each written in a trace of its own, the second
    # draining what the first received
    site = Site()
    sku = item()
    await seed(stock_runtime, items=[sku], locations=site.locations())
    receipt = cause(goods_received(site.van, sku.sku), {"traceparent": traceparent()})
    issue = cause(
        parts_issued(site.van, sku.sku),
        {"traceparent": traceparent(), "tracestate": "fsm=job"},
    )
    cmds = [
        ReceiveGoods(
            site.van, (ReceiptLine(sku.sku, q(3)),), Origin("tests", receipt.envelope.event_id)
        ),
        IssueParts(
            site.van,
            (Line(sku.sku, q(3)),),
            Origin("tests", issue.envelope.event_id),
            job_id=ref("JOB"),
        ),
    ]

    # When it is applied in one unit of work
    async with stock_runtime.sessions.begin() as session:
        uow = StockUnitOfWork.within(
            session, stock_runtime.outbox, Policy(), [receipt, issue], public_url=PUBLIC_URL
        )
        await handlers.apply_commands(cmds, uow)

    # Then each staged event carries its own cause's trace context, not the batch's
    outbox = MESSAGING.outbox
    async with stock_engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.event_type, outbox.c.headers)
            .where(outbox.c.key == f"{sku.sku}@{site.van}")
            .order_by(outbox.c.id)
        )
        traces = [(row.event_type, row.headers) for row in rows]
    assert traces == [
        ("stock.movement.recorded", receipt.trace),
        ("stock.movement.recorded", issue.trace),
        ("stock.alert.raised", issue.trace),
        ("stock.level.changed", issue.trace),
    ]
