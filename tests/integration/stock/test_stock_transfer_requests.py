"""Replenishment's transfer requests on the real broker: stock ships each accepted transfer
once, under its transfer_id, choosing the serials itself; a request it cannot ship is
published as a rejection saying why, and one it cannot read is dead-lettered."""

import asyncio
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from stock_refs import assert_books_balance, item, outbox_payloads, q, ref, seed, uow_for
from stock_topics import (
    TIMEOUT_S,
    eventually,
    ledger_rows,
    publish,
    records_for,
    stock_receive,
    tail,
)

from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.replenishment import TransferRequested
from stockwire.contracts.topics import REPLENISHMENT_TRANSFER_REQUESTS, STOCK_MOVEMENTS
from stockwire.stock import handlers
from stockwire.stock.domain.commands import IssueParts, Line, Origin, ShipTransfer
from stockwire.stock.tables import levels, serials, transfers

PRODUCER = "replenishment"


def request(
    sku: str, from_location: str, to_location: str, quantity: object, transfer_id: str = ""
) -> TransferRequested:
    suggestion_id = uuid.uuid4()
    return TransferRequested(
        transfer_id=transfer_id or str(suggestion_id),
        suggestion_id=suggestion_id,
        sku=sku,
        from_location=from_location,
        to_location=to_location,
        quantity=q(quantity),
        requested_by="planner-ana",
        requested_at=datetime.now(UTC),
    )


async def ask(producer, payload: TransferRequested, envelope: Envelope | None = None) -> Envelope:
    return await publish(producer, payload, envelope=envelope, by=PRODUCER)


async def level(engine, sku: str, location: str) -> tuple:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(levels.c.on_hand, levels.c.in_transit_out, levels.c.in_transit_in).where(
                    levels.c.sku == sku, levels.c.location == location
                )
            )
        ).one()
    return tuple(row)


async def transfer_row(engine, transfer_id: str) -> sa.Row | None:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.select(transfers).where(transfers.c.transfer_id == transfer_id)
        )
        return result.one_or_none()


RECORDED = "stock.movement.recorded"
REJECTED = "stock.movement.rejected"


async def published_for(
    consumer: AIOKafkaConsumer, key: str, event_type: str, transfer_id: str | None = None
) -> Envelope:
    """The first ``event_type`` for ``key`` about ``transfer_id`` (a rejection names
    none): the receipt that put stock there may still be on its way too."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        for record in await records_for(consumer, key):
            envelope = Envelope.model_validate_json(record.value)
            if (envelope.event_type, envelope.payload.get("transfer_id")) == (
                event_type,
                transfer_id,
            ):
                return envelope
    raise AssertionError(f"no {event_type} for {key} about {transfer_id}")


async def already_there(consumer: AIOKafkaConsumer, key: str) -> list[ConsumerRecord]:
    """The records for ``key`` the tail can read within two seconds: for a record that must
    not exist, once what would have written it is known to be done."""
    found: list[ConsumerRecord] = []
    deadline = asyncio.get_running_loop().time() + 2
    while asyncio.get_running_loop().time() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        found.extend(r for batch in batches.values() for r in batch if r.key == key.encode())
    return found


async def test_a_transfer_request_ships_into_transit_at_both_ends_and_publishes_it(
    settings, producer, stock_runtime, stock_engine, site
):
    # Given 10 on the shelf at the warehouse
    sku = item()
    await seed(stock_runtime, items=[sku])
    await stock_receive(stock_runtime, site.wh, sku.sku, 10)
    movements = await tail(settings, STOCK_MOVEMENTS)
    try:
        # When replenishment asks for 4 of them at the point of presence
        asked = request(sku.sku, site.wh, site.pop, 4)
        envelope = await ask(producer, asked)
        [shipped] = await eventually(
            lambda: ledger_rows(stock_engine, transfer_id=asked.transfer_id, location=site.wh)
        )
        movement = await published_for(
            movements, f"{sku.sku}@{site.wh}", RECORDED, asked.transfer_id
        )
    finally:
        await movements.stop()

    # Then they are in transit out at the warehouse and in transit in at the PoP
    assert await level(stock_engine, sku.sku, site.wh) == (q(6), q(4), q(0))
    assert await level(stock_engine, sku.sku, site.pop) == (q(0), q(0), q(4))
    assert (shipped.kind, shipped.reason_code) == ("transfer_ship", "transfer_shipped")
    assert shipped.actor == f"{PRODUCER}:planner-ana"
    assert shipped.source_event_id == envelope.event_id
    row = await transfer_row(stock_engine, asked.transfer_id)
    assert row is not None and (row.status, row.quantity_shipped) == ("in_transit", q(4))
    # And the shipment is published, caused by the request
    assert movement.payload["transfer_id"] == asked.transfer_id
    assert movement.payload["to_location"] == site.pop
    assert movement.causation_id == envelope.event_id
    await assert_books_balance(stock_engine, [sku.sku])


async def test_a_serial_tracked_request_ships_the_serials_that_arrived_first(
    producer, stock_runtime, stock_engine, site
):
    # Given serials received at the warehouse in three deliveries; names do not follow
    # arrival, and the second delivery brought two at once
    ont = item("ONT", "serial")
    await seed(stock_runtime, items=[ont])
    first, second_b, second_a = "Z-" + ref("SN"), "B-" + ref("SN"), "A-" + ref("SN")
    last = ref("SN")
    await stock_receive(stock_runtime, site.wh, ont.sku, 1, serials=(first,))
    await stock_receive(stock_runtime, site.wh, ont.sku, 2, serials=(second_b, second_a))
    await stock_receive(stock_runtime, site.wh, ont.sku, 1, serials=(last,))

    # When replenishment asks for 2, naming none
    asked = request(ont.sku, site.wh, site.van, 2)
    await ask(producer, asked)
    rows = await eventually(
        lambda: ledger_rows(stock_engine, transfer_id=asked.transfer_id, location=site.wh)
    )

    # Then stock ships the oldest, the tie broken by serial
    assert sorted(r.serial for r in rows) == sorted([first, second_a])
    row = await transfer_row(stock_engine, asked.transfer_id)
    assert row is not None and sorted(row.serials) == sorted([first, second_a])
    async with stock_engine.connect() as conn:
        states = dict(
            (
                await conn.execute(
                    sa.select(serials.c.serial, serials.c.state).where(
                        serials.c.serial.in_([first, second_b, second_a, last])
                    )
                )
            ).all()
        )
    assert states == {
        first: "in_transit",
        second_a: "in_transit",
        second_b: "in_stock",
        last: "in_stock",
    }
    assert await level(stock_engine, ont.sku, site.van) == (q(0), q(0), q(2))
    await assert_books_balance(stock_engine, [ont.sku])


async def test_a_redelivered_or_resent_request_ships_once(
    settings, producer, stock_runtime, stock_engine, site
):
    # Given 10 on the shelf, and a request delivered twice and then sent again as a new
    # event with the same transfer_id
    sku = item()
    await seed(stock_runtime, items=[sku])
    await stock_receive(stock_runtime, site.wh, sku.sku, 10)
    key = f"{sku.sku}@{site.wh}"
    asked = request(sku.sku, site.wh, site.pop, 3)
    movements = await tail(settings, STOCK_MOVEMENTS)
    dead = await tail(settings, REPLENISHMENT_TRANSFER_REQUESTS.dlq, partitions=1)
    try:
        envelope = await ask(producer, asked)
        await ask(producer, asked, envelope)
        resent = await ask(producer, asked)
        # A later request on the same partition shows when the repeats were handled
        follower = request(sku.sku, site.wh, site.pop, 1)
        await ask(producer, follower)
        await eventually(lambda: ledger_rows(stock_engine, transfer_id=follower.transfer_id))
        published = [
            Envelope.model_validate_json(r.value) for r in await already_there(movements, key)
        ]
        dead_letters = await already_there(dead, key)
    finally:
        await movements.stop()
        await dead.stop()

    # Then it shipped once, from the first delivery; the repeats changed nothing, and
    # neither was rejected nor dead-lettered
    rows = await ledger_rows(stock_engine, transfer_id=asked.transfer_id, location=site.wh)
    assert [(r.on_hand_delta, r.source_event_id) for r in rows] == [(q(-3), envelope.event_id)]
    assert resent.event_id != envelope.event_id
    assert await level(stock_engine, sku.sku, site.wh) == (q(6), q(4), q(0))
    about = [
        (e.event_type, e.payload.get("transfer_id"))
        for e in published
        if e.event_type == REJECTED or e.payload.get("transfer_id")
    ]
    assert about == [(RECORDED, asked.transfer_id), (RECORDED, follower.transfer_id)]
    assert dead_letters == []


async def test_a_resent_request_that_differs_is_rejected_naming_the_shipped_transfer(
    settings, producer, stock_runtime, stock_engine, site
):
    # Given a transfer shipped at a replenishment request
    sku = item()
    await seed(stock_runtime, items=[sku])
    await stock_receive(stock_runtime, site.wh, sku.sku, 10)
    asked = request(sku.sku, site.wh, site.pop, 3)
    await ask(producer, asked)
    await eventually(lambda: ledger_rows(stock_engine, transfer_id=asked.transfer_id))
    movements = await tail(settings, STOCK_MOVEMENTS)
    try:
        # When a request with the same transfer_id asks for another quantity
        changed = request(sku.sku, site.wh, site.pop, 5, transfer_id=asked.transfer_id)
        envelope = await ask(producer, changed)
        rejection = await published_for(movements, f"{sku.sku}@{site.wh}", REJECTED)
    finally:
        await movements.stop()

    # Then nothing more ships, and the rejection says which transfer it clashes with
    assert rejection.payload["reason"] == "invalid_quantity"
    assert asked.transfer_id in rejection.payload["message"]
    assert "already shipped" in rejection.payload["message"]
    assert rejection.payload["source_event_id"] == str(envelope.event_id)
    assert await level(stock_engine, sku.sku, site.wh) == (q(7), q(3), q(0))


async def test_a_request_for_more_than_the_shelf_holds_is_rejected_and_ships_nothing(
    producer, stock_runtime, stock_engine, site
):
    # Given 2 of a bulk item and 1 serial of a serial-tracked one at the warehouse
    bulk, ont = item(), item("ONT", "serial")
    await seed(stock_runtime, items=[bulk, ont])
    await stock_receive(stock_runtime, site.wh, bulk.sku, 2)
    await stock_receive(stock_runtime, site.wh, ont.sku, 1, serials=(ref("SN"),))

    # When replenishment asks for 5 of the one and 2 of the other
    too_many = request(bulk.sku, site.wh, site.pop, 5)
    too_few_serials = request(ont.sku, site.wh, site.pop, 2)
    await ask(producer, too_many)
    await ask(producer, too_few_serials)

    async def rejection(sku: str) -> dict | None:
        staged = await outbox_payloads(stock_engine, f"{sku}@{site.wh}")
        return next((e["payload"] for e in staged if e["event_type"] == REJECTED), None)

    bulk_rejection = await eventually(lambda: rejection(bulk.sku))
    serial_rejection = await eventually(lambda: rejection(ont.sku))

    # Then both are rejected as negative stock, saying what is there, and nothing ships
    assert bulk_rejection["reason"] == serial_rejection["reason"] == "negative_stock"
    assert bulk_rejection["kind"] == serial_rejection["kind"] == "transfer_ship"
    assert "not enough" in bulk_rejection["message"]
    assert "1 on the shelf" in serial_rejection["message"]
    for asked in (too_many, too_few_serials):
        assert await transfer_row(stock_engine, asked.transfer_id) is None
        assert await ledger_rows(stock_engine, transfer_id=asked.transfer_id) == []
    assert await level(stock_engine, bulk.sku, site.wh) == (q(2), q(0), q(0))
    assert await level(stock_engine, ont.sku, site.wh) == (q(1), q(0), q(0))


async def test_a_malformed_request_is_dead_lettered_and_the_consumer_goes_on(
    settings, producer, stock_runtime, stock_engine, site
):
    # Given stock at the warehouse, and two requests that break the contract: one to the
    # place it comes from, one naming no SKU
    sku = item()
    await seed(stock_runtime, items=[sku])
    await stock_receive(stock_runtime, site.wh, sku.sku, 10)
    key = f"{sku.sku}@{site.wh}"
    same_place = wrap(request(sku.sku, site.wh, site.pop, 1), producer=PRODUCER).model_dump(
        mode="json"
    )
    same_place["payload"]["to_location"] = site.wh
    no_sku = wrap(request(sku.sku, site.wh, site.pop, 1), producer=PRODUCER).model_dump(mode="json")
    del no_sku["payload"]["sku"]
    dead = await tail(settings, REPLENISHMENT_TRANSFER_REQUESTS.dlq, partitions=1)
    try:
        # When they are sent, followed by a good one on the same partition
        for bad in (same_place, no_sku):
            await producer.send_and_wait(
                REPLENISHMENT_TRANSFER_REQUESTS.name,
                value=json.dumps(bad).encode(),
                key=key.encode(),
            )
        good = request(sku.sku, site.wh, site.pop, 2)
        await ask(producer, good)
        dead_letters = await records_for(dead, key, expect=2)
        [shipped] = await eventually(
            lambda: ledger_rows(stock_engine, transfer_id=good.transfer_id, location=site.wh)
        )
    finally:
        await dead.stop()

    # Then both are dead-lettered with the reason, and the good one still ships
    reasons = [dict(r.headers)["dlq-reason"].decode() for r in dead_letters]
    assert "a transfer goes to another location" in reasons[0]
    assert "payload.sku" in reasons[1]
    assert {dict(r.headers)["dlq-consumer"] for r in dead_letters} == {b"stock-movements"}
    assert shipped.on_hand_delta == q(-2)


async def test_a_pick_in_a_batch_sees_what_earlier_commands_did_and_leaves_doubtful_serials(
    stock_runtime, stock_engine, site
):
    # Given four serials at the warehouse, the second oldest held in conflict
    ont = item("ONT", "serial")
    await seed(stock_runtime, items=[ont])
    oldest, doubtful, middle, newest = (ref("SN") for _ in range(4))
    for serial in (oldest, doubtful, middle, newest):
        await stock_receive(stock_runtime, site.wh, ont.sku, 1, serials=(serial,))
    async with stock_engine.begin() as conn:
        await conn.execute(
            sa.update(serials)
            .where(serials.c.serial == doubtful)
            .values(conflict_sku=ont.sku, conflict_location=site.van)
        )

    # When one batch issues the oldest to a job, then picks two for the van
    origin = Origin("replenishment:ana", source_event_id=uuid.uuid4())
    issue, pick = await handlers.apply_commands(
        [
            IssueParts(site.wh, (Line(ont.sku, q(1), (oldest,)),), origin, job_id=ref("JOB")),
            ShipTransfer(ref("T"), ont.sku, site.wh, site.van, q(2), origin, stock_picks=True),
        ],
        uow_for(stock_runtime),
    )

    # Then the pick takes the oldest two still on the shelf that are not in doubt
    assert issue.applied and pick.applied, (issue.rejection, pick.rejection)
    assert [m.serial for m in pick.movements] == [middle, newest]
    await assert_books_balance(stock_engine, [ont.sku])
