"""A van at or below its minimum gets a suggestion: a transfer when a warehouse of its
region holds more than its max, a purchase otherwise; accepting a transfer asks stock to
ship it."""

from replenishment_refs import (
    eventually,
    item,
    level,
    levels,
    open_suggestion,
    outbox_events,
    publish,
    ref,
    region,
    suggestions,
)


async def test_a_van_below_its_minimum_gets_a_transfer_from_the_warehouse_with_excess(
    producer, writer, replenishment_runtime
):
    sku = ref("ONT")
    await publish(producer, item(sku), producer_name="catalog")
    r = await region(producer)
    await levels(producer, replenishment_runtime.engine, level(sku, r.warehouse, 20))
    await publish(producer, level(sku, r.van, 1))

    found = await open_suggestion(writer, sku, r.van)

    assert found is not None
    assert found["kind"] == "transfer"
    assert found["from_location"] == r.warehouse
    assert float(found["quantity"]) == 4  # ONT on a van: min 2, max 5; 5 - 1 = 4

    accepted = await writer.post(f"/api/v1/suggestions/{found['suggestion_id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    requests = await eventually(
        lambda: outbox_events(replenishment_runtime.engine, f"{sku}@{r.warehouse}"), bool
    )
    assert [e["event_type"] for e in requests] == ["replenishment.transfer.requested"]
    assert requests[0]["payload"]["transfer_id"] == found["suggestion_id"]
    assert requests[0]["payload"]["to_location"] == r.van


async def test_a_van_with_no_excess_in_its_region_gets_a_purchase(producer, writer):
    sku = ref("ONT")
    await publish(producer, item(sku), producer_name="catalog")
    r = await region(producer)
    await publish(producer, level(sku, r.warehouse, 0))
    await publish(producer, level(sku, r.van, 0))

    found = await open_suggestion(writer, sku, r.van)

    assert found is not None
    assert found["kind"] == "purchase"
    assert float(found["quantity"]) == 5
    assert await suggestions(writer, sku=sku, location=r.warehouse, status="open") == []


async def test_an_accepted_transfer_counts_as_inbound_until_stock_ships_it(
    producer, writer, replenishment_runtime
):
    sku = ref("ONT")
    await publish(producer, item(sku), producer_name="catalog")
    r = await region(producer)
    await levels(producer, replenishment_runtime.engine, level(sku, r.warehouse, 20))
    await publish(producer, level(sku, r.van, 1))
    found = await open_suggestion(writer, sku, r.van)
    assert found is not None
    accepted = await writer.post(f"/api/v1/suggestions/{found['suggestion_id']}/accept")
    assert accepted.status_code == 200, accepted.text

    # A newer level of the van, before stock shipped: 1 + the 4 on their way is above 2
    await levels(producer, replenishment_runtime.engine, level(sku, r.van, 1))

    assert await suggestions(writer, sku=sku, location=r.van, status="open") == []


async def test_a_rejected_transfer_is_not_suggested_again_at_the_next_level_change(
    producer, writer, replenishment_runtime
):
    sku = ref("ONT")
    await publish(producer, item(sku), producer_name="catalog")
    r = await region(producer)
    await levels(producer, replenishment_runtime.engine, level(sku, r.warehouse, 20))
    await publish(producer, level(sku, r.van, 1))
    found = await open_suggestion(writer, sku, r.van)
    assert found is not None
    rejected = await writer.post(
        f"/api/v1/suggestions/{found['suggestion_id']}/reject",
        json={"reason": "the van is decommissioned on Friday"},
    )
    assert rejected.status_code == 200, rejected.text

    await levels(producer, replenishment_runtime.engine, level(sku, r.van, 0))

    assert await suggestions(writer, sku=sku, location=r.van, status="open") == []
