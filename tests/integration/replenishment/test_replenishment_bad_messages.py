"""Messages replenishment cannot read go to the dead-letter topic with the reason, and
the consumer goes on with the next message of the same partition."""

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from replenishment_refs import (
    DEMAND_CONSUMER,
    LEVELS_CONSUMER,
    consumed,
    dead_letter,
    dead_letters,
    issue,
    level,
    levels,
    publish,
    stocked_region,
    suggestions,
    today,
)

from stockwire.contracts.envelope import wrap
from stockwire.contracts.topics import STOCK_LEVELS, STOCK_MOVEMENTS


def envelope_with(payload, **changes) -> bytes:
    """``payload`` in an envelope, with ``changes`` made to the payload's JSON."""
    document = wrap(payload, producer="stock").model_dump(mode="json")
    document["payload"] |= changes
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("value", "reason_class", "reason"),
    [
        (lambda sku, at: b"{not json", b"invalid_envelope", b"invalid envelope"),
        (
            lambda sku, at: envelope_with(level(sku, at, 1), available="plenty"),
            b"invalid_payload",
            b"payload.available",
        ),
        (
            lambda sku, at: envelope_with(level(sku, at, 1), as_of="yesterday"),
            b"invalid_payload",
            b"payload.as_of",
        ),
    ],
    ids=["not-json", "wrong-type", "wrong-date"],
)
async def test_a_level_that_cannot_be_read_is_dead_lettered_and_the_next_one_applied(
    settings, producer, writer, replenishment_runtime, value, reason_class, reason
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    key = f"{s.sku}@{s.van}"
    dead = await dead_letters(settings.bootstrap_servers, STOCK_LEVELS.name)
    try:
        await producer.send_and_wait(STOCK_LEVELS.name, value=value(s.sku, s.van), key=key.encode())
        record = await dead_letter(dead, key, LEVELS_CONSUMER)
    finally:
        await dead.stop()

    headers = dict(record.headers)
    assert headers["dlq-reason-class"] == reason_class
    assert reason in headers["dlq-reason"]
    assert headers["dlq-source-topic"] == STOCK_LEVELS.name.encode()
    await levels(producer, engine, level(s.sku, s.van, 0))
    [made] = await suggestions(writer, sku=s.sku, location=s.van)
    assert made["kind"] == "purchase"


async def test_a_movement_that_cannot_be_read_is_dead_lettered_and_the_next_one_counted(
    settings, producer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    key = f"{s.sku}@{s.van}"
    dead = await dead_letters(settings.bootstrap_servers, STOCK_MOVEMENTS.name)
    try:
        bad = envelope_with(issue(s.sku, s.van, 2, datetime.now(UTC)), quantity="-2")
        await producer.send_and_wait(STOCK_MOVEMENTS.name, value=bad, key=key.encode())
        record = await dead_letter(dead, key, DEMAND_CONSUMER)
    finally:
        await dead.stop()

    assert b"payload.quantity" in dict(record.headers)["dlq-reason"]
    await consumed(
        engine, DEMAND_CONSUMER, await publish(producer, issue(s.sku, s.van, 3, datetime.now(UTC)))
    )
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text("SELECT day, quantity FROM demand_daily WHERE sku = :sku"), {"sku": s.sku}
            )
        ).all()
    assert [(day, float(quantity)) for day, quantity in rows] == [(today(), 3)]
