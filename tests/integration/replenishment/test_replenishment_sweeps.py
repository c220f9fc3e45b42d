"""The periodic sweep, run here as the service runs it: suggestions left waiting raise
an overdue alert until they are decided or withdrawn; a region holding stock in the wrong
places raises an imbalance until it is balanced; a model nearing its end of life with an
installed base gets a last-time buy sized from its failures, once, until it is bought."""

from datetime import timedelta

from replenishment_refs import (
    RELIABILITY_CONSUMER,
    alerts,
    consumed,
    events,
    known_item,
    known_places,
    level,
    levels,
    place,
    publish,
    ref,
    reliability,
    stocked_region,
    suggestions,
    today,
    why,
)
from scipy.stats import poisson

from stockwire.contracts.vocabulary import LocationKind

RAISED = "replenishment.alert.raised"
RESOLVED = "replenishment.alert.resolved"


async def short_van(producer, writer, engine):
    """A van at 1 (min 2, max 5) in a region whose warehouse holds 20: a transfer of 4."""
    s = await stocked_region(producer, engine)
    await levels(producer, engine, level(s.sku, s.warehouse, 20))
    await levels(producer, engine, level(s.sku, s.van, 1))
    [made] = await suggestions(writer, sku=s.sku, location=s.van)
    return s, made


async def test_a_suggestion_left_waiting_is_overdue_until_it_is_accepted(
    producer, writer, replenishment_runtime, sweep
):
    engine = replenishment_runtime.engine
    s, made = await short_van(producer, writer, engine)
    key = f"suggestion_overdue:transfer:{s.sku}@{s.van}"

    await sweep()
    await sweep()

    [raised] = await alerts(engine, key)
    assert raised["event_type"] == RAISED
    alert = raised["payload"]
    assert alert["kind"] == "suggestion_overdue"
    assert alert["suggestion_id"] == made["suggestion_id"]
    assert alert["summary"].startswith(
        f"the transfer of 4 {s.sku} from {s.warehouse} to {s.van} has waited 0 hours"
    )
    assert (alert["location"], alert["region"]) == (s.van, s.region)

    accepted = await writer.post(f"/api/v1/suggestions/{made['suggestion_id']}/accept")
    assert accepted.status_code == 200, accepted.text

    _, resolved = await alerts(engine, key)
    assert resolved["event_type"] == RESOLVED
    assert resolved["payload"]["suggestion_id"] == made["suggestion_id"]
    await sweep()
    assert len(await alerts(engine, key)) == 2


async def test_an_overdue_suggestion_withdrawn_by_a_new_level_is_no_longer_overdue(
    producer, writer, replenishment_runtime, sweep
):
    engine = replenishment_runtime.engine
    s, _ = await short_van(producer, writer, engine)
    key = f"suggestion_overdue:transfer:{s.sku}@{s.van}"
    await sweep()

    await levels(producer, engine, level(s.sku, s.van, 4))

    assert [a["event_type"] for a in await alerts(engine, key)] == [RAISED, RESOLVED]
    [withdrawn] = await suggestions(writer, sku=s.sku, location=s.van)
    assert withdrawn["status"] == "withdrawn"


async def test_a_region_short_in_one_place_with_excess_in_another_is_out_of_balance(
    producer, writer, replenishment_runtime, sweep
):
    engine = replenishment_runtime.engine
    s, _ = await short_van(producer, writer, engine)
    key = f"regional_imbalance:{s.sku}@{s.region}"

    await sweep()
    await sweep()

    [raised] = await alerts(engine, key)
    alert = raised["payload"]
    assert alert["kind"] == "regional_imbalance"
    assert alert["summary"] == (
        f"{s.sku} in {s.region} is out of balance: {s.van} is at or below its reorder point "
        f"(1 of 2) while {s.warehouse} holds 20 above its max"
    )
    assert alert["labels"] == {"short_location": s.van, "excess_location": s.warehouse}
    assert float(alert["figures"]["shortfall"]) == 1
    assert float(alert["figures"]["excess"]) == 20

    await levels(producer, engine, level(s.sku, s.van, 4))
    await sweep()

    _, resolved = await alerts(engine, key)
    assert resolved["event_type"] == RESOLVED
    assert resolved["payload"]["summary"] == f"{s.sku} in {s.region} is back in balance"


async def test_a_region_short_everywhere_is_not_out_of_balance(
    producer, writer, replenishment_runtime, sweep
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await levels(producer, engine, level(s.sku, s.warehouse, 0), level(s.sku, s.van, 1))

    await sweep()

    assert await alerts(engine, f"regional_imbalance:{s.sku}@{s.region}") == []


async def test_a_model_nearing_its_end_of_life_gets_one_last_time_buy_until_it_is_bought(
    producer, writer, replenishment_runtime, sweep, replenishment_settings
):
    engine = replenishment_runtime.engine
    end_of_life = today() + timedelta(days=100)
    sku = await known_item(producer, engine, ref("ONT"), end_of_life=end_of_life)
    region = ref("REG")
    warehouses = [await place(producer, ref("WH"), LocationKind.WAREHOUSE, region) for _ in "ab"]
    await known_places(engine, *warehouses)
    await consumed(
        engine,
        RELIABILITY_CONSUMER,
        await publish(producer, reliability(sku, region, 20, "0.1"), producer_name="assets"),
    )
    await levels(producer, engine, level(sku, warehouses[1], 4))
    key = f"last_time_buy_due:{sku}@{region}"

    await sweep()
    await sweep()

    years = replenishment_settings.replenishment_service_years_after_end_of_life
    failures = 20 * 0.1 * years
    covered = int(poisson.ppf(0.97, failures))
    first = min(warehouses)
    [buy] = await suggestions(writer, sku=sku, kind="last_time_buy")
    assert buy["location"] == first
    assert buy["status"] == "open"
    assert float(buy["quantity"]) == covered - 4
    explanation = await why(writer, buy["suggestion_id"])
    assert explanation["end_of_life"] == end_of_life.isoformat()
    assert explanation["days_to_end_of_life"] == 100
    assert explanation["installed_base"] == 20
    assert explanation["expected_failures"] == failures
    assert explanation["failures_quantile"] == covered
    assert explanation["held"] == 4
    [raised] = await alerts(engine, key)
    assert raised["event_type"] == RAISED
    assert raised["payload"]["suggestion_id"] == buy["suggestion_id"]
    assert raised["payload"]["summary"] == (
        f"{sku} reaches its end of life on {end_of_life.isoformat()}: a last-time buy of "
        f"{covered - 4} into {first} covers the 20 installed in {region}"
    )

    accepted = await writer.post(f"/api/v1/suggestions/{buy['suggestion_id']}/accept")
    assert accepted.status_code == 200, accepted.text
    [order] = await events(engine, f"{sku}@{first}", "replenishment.purchase-order.requested")
    assert order["payload"]["kind"] == "last_time_buy"
    assert float(order["payload"]["quantity"]) == covered - 4

    await sweep()

    assert await suggestions(writer, sku=sku, kind="last_time_buy", status="open") == []
    _, resolved = await alerts(engine, key)
    assert resolved["event_type"] == RESOLVED
    assert resolved["payload"]["summary"] == f"the last-time buy of {sku} in {region} is settled"


async def test_a_model_whose_end_of_life_is_beyond_the_horizon_gets_no_last_time_buy(
    producer, writer, replenishment_runtime, sweep, replenishment_settings
):
    engine = replenishment_runtime.engine
    horizon = replenishment_settings.replenishment_last_time_buy_days
    sku = await known_item(
        producer, engine, ref("ONT"), end_of_life=today() + timedelta(days=horizon + 1)
    )
    region = ref("REG")
    await known_places(engine, await place(producer, ref("WH"), LocationKind.WAREHOUSE, region))
    await consumed(
        engine,
        RELIABILITY_CONSUMER,
        await publish(producer, reliability(sku, region, 20, "0.1"), producer_name="assets"),
    )

    await sweep()

    assert await suggestions(writer, sku=sku) == []
    assert await alerts(engine, f"last_time_buy_due:{sku}@{region}") == []


async def test_an_empty_warehouse_that_needs_nothing_is_not_short_beside_a_full_van(
    producer, writer, replenishment_runtime, sweep
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    # No demand: the warehouse plans a reorder point and order-up-to level of 0.
    await levels(producer, engine, level(s.sku, s.warehouse, 0), level(s.sku, s.van, 7))

    await sweep()

    assert await suggestions(writer, sku=s.sku) == []
    assert await alerts(engine, f"regional_imbalance:{s.sku}@{s.region}") == []
