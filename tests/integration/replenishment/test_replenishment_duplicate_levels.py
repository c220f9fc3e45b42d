"""Stock levels told twice, or out of order, change nothing: a redelivered level is
applied once, and an older level never overwrites a newer one."""

from datetime import UTC, datetime, timedelta

from replenishment_refs import (
    LEVELS_CONSUMER,
    alerts,
    consumed,
    demanded,
    events,
    level,
    levels,
    position,
    publish,
    send_envelope,
    stocked_region,
    suggestions,
)


async def test_a_level_delivered_twice_makes_one_suggestion_and_one_alert(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await demanded(producer, engine, s.sku, s.van, 3, days_ago=2)
    await levels(producer, engine, level(s.sku, s.warehouse, 20))
    short = level(s.sku, s.van, 1)
    envelope = await publish(producer, short)

    await send_envelope(producer, short, envelope)
    await send_envelope(producer, short, envelope)
    # Same key, so same partition: once this one is applied, the repeats before it were seen.
    await levels(producer, engine, level(s.sku, s.van, 1))

    await consumed(engine, LEVELS_CONSUMER, envelope)
    [made] = await suggestions(writer, sku=s.sku)
    assert made["status"] == "open"
    assert len(await events(engine, f"{s.sku}@{s.van}", "replenishment.suggestion.made")) == 1
    raised = await alerts(engine, f"projected_stockout:{s.sku}@{s.van}")
    assert [a["event_type"] for a in raised] == ["replenishment.alert.raised"]


async def test_an_older_level_arriving_late_does_not_overwrite_a_newer_one(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    now = datetime.now(UTC)
    await levels(producer, engine, level(s.sku, s.van, 1, when=now))
    [made] = await suggestions(writer, sku=s.sku, location=s.van)

    await levels(producer, engine, level(s.sku, s.van, 10, when=now - timedelta(minutes=5)))

    assert await position(engine, s.sku, s.van) == 1
    [still] = await suggestions(writer, sku=s.sku, location=s.van)
    assert still == made
    assert await events(engine, f"{s.sku}@{s.van}", "replenishment.suggestion.withdrawn") == []
