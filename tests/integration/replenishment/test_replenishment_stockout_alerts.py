"""Projected stockouts: a location whose stock runs out before more could arrive raises
an alert with the date and the suggestion that prevents it, raises it again only when it
gets worse, and resolves it when a level shows the stock lasts."""

from datetime import timedelta

from replenishment_refs import (
    PUBLIC_URL,
    alerts,
    demanded,
    events,
    level,
    levels,
    stocked_region,
    suggestions,
    today,
)


async def test_a_van_running_out_raises_a_stockout_with_the_transfer_that_prevents_it(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await demanded(producer, engine, s.sku, s.van, 3, days_ago=2)  # 1 a day
    await levels(producer, engine, level(s.sku, s.warehouse, 20))

    await levels(producer, engine, level(s.sku, s.van, 1))

    [made] = await suggestions(writer, sku=s.sku, location=s.van)
    key = f"projected_stockout:{s.sku}@{s.van}"
    [raised] = await alerts(engine, key)
    alert = raised["payload"]
    runs_out_on = (today() + timedelta(days=1)).isoformat()
    assert alert["kind"] == "projected_stockout"
    assert alert["severity"] == "critical"  # 1 day left, 2 days to restock
    assert alert["summary"] == (
        f"{s.sku} at {s.van} runs out in about 1 day, on {runs_out_on}; "
        f"a transfer of 4 from {s.warehouse} is suggested"
    )
    assert alert["suggestion_id"] == made["suggestion_id"]
    assert alert["link"] == f"{PUBLIC_URL}/api/v1/suggestions/{made['suggestion_id']}/why"
    assert (alert["sku"], alert["location"], alert["region"]) == (s.sku, s.van, s.region)
    assert alert["labels"] == {
        "runs_out_on": runs_out_on,
        "suggestion": f"transfer:{s.sku}@{s.van}",
        "source_location": s.warehouse,
    }
    assert float(alert["figures"]["days_left"]) == 1
    assert float(alert["figures"]["daily_demand"]) == 1
    assert float(alert["figures"]["suggested_quantity"]) == 4


async def test_a_stockout_is_raised_once_for_repeated_levels_and_resolved_when_stock_lasts(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await demanded(producer, engine, s.sku, s.van, 3, days_ago=2)
    await levels(producer, engine, level(s.sku, s.warehouse, 20))
    await levels(producer, engine, level(s.sku, s.van, 1))
    [made] = await suggestions(writer, sku=s.sku, location=s.van)
    key = f"projected_stockout:{s.sku}@{s.van}"

    await levels(producer, engine, level(s.sku, s.van, 1))
    await levels(producer, engine, level(s.sku, s.van, 1))

    assert [a["event_type"] for a in await alerts(engine, key)] == ["replenishment.alert.raised"]

    await levels(producer, engine, level(s.sku, s.van, 6))

    _, resolved = await alerts(engine, key)
    assert resolved["event_type"] == "replenishment.alert.resolved"
    assert resolved["payload"]["suggestion_id"] == made["suggestion_id"]
    assert resolved["payload"]["summary"] == (
        f"{s.sku} at {s.van} is no longer projected to run out before more can arrive"
    )
    [withdrawn] = await suggestions(writer, sku=s.sku, location=s.van)
    assert withdrawn["status"] == "withdrawn"
    [published] = await events(engine, f"{s.sku}@{s.van}", "replenishment.suggestion.withdrawn")
    assert published["payload"]["suggestion_id"] == made["suggestion_id"]


async def test_a_stockout_that_gets_worse_is_raised_again_with_the_new_suggestion(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await demanded(producer, engine, s.sku, s.van, 3, days_ago=2)
    await levels(producer, engine, level(s.sku, s.warehouse, 20))
    await levels(producer, engine, level(s.sku, s.van, 2))
    [first] = await suggestions(writer, sku=s.sku, location=s.van, status="open")

    await levels(producer, engine, level(s.sku, s.van, 1))

    [second] = await suggestions(writer, sku=s.sku, location=s.van, status="open")
    assert float(first["quantity"]) == 3
    assert float(second["quantity"]) == 4
    warning, critical = await alerts(engine, f"projected_stockout:{s.sku}@{s.van}")
    assert warning["payload"]["severity"] == "warning"  # 2 days left: within 2 + 1 days
    assert warning["payload"]["suggestion_id"] == first["suggestion_id"]
    assert critical["payload"]["severity"] == "critical"
    assert critical["payload"]["suggestion_id"] == second["suggestion_id"]
    assert "a transfer of 4" in critical["payload"]["summary"]
    replaced = (await writer.get(f"/api/v1/suggestions/{first['suggestion_id']}")).json()
    assert replaced["status"] == "withdrawn"


async def test_an_accepted_transfer_on_its_way_resolves_the_stockout(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await demanded(producer, engine, s.sku, s.van, 3, days_ago=2)
    await levels(producer, engine, level(s.sku, s.warehouse, 20))
    await levels(producer, engine, level(s.sku, s.van, 1))
    [made] = await suggestions(writer, sku=s.sku, location=s.van)
    accepted = await writer.post(f"/api/v1/suggestions/{made['suggestion_id']}/accept")
    assert accepted.status_code == 200, accepted.text
    key = f"projected_stockout:{s.sku}@{s.van}"
    assert [a["event_type"] for a in await alerts(engine, key)] == ["replenishment.alert.raised"]

    # Stock ships it: 4 are in transit to the van.
    await levels(producer, engine, level(s.sku, s.van, 1, in_transit_in=4))

    _, resolved = await alerts(engine, key)
    assert resolved["event_type"] == "replenishment.alert.resolved"
    assert await suggestions(writer, sku=s.sku, location=s.van, status="open") == []


async def test_a_van_with_no_demand_is_not_projected_to_run_out(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await levels(producer, engine, level(s.sku, s.warehouse, 20))

    await levels(producer, engine, level(s.sku, s.van, 0))

    [made] = await suggestions(writer, sku=s.sku, location=s.van)
    assert made["kind"] == "transfer"
    assert await alerts(engine, f"projected_stockout:{s.sku}@{s.van}") == []
