"""Where a short location's stock comes from: a transfer from the location of its own
region holding the most above its max, never from another region or from a location
that holds no planned stock; a purchase when nothing in the region is spare."""

from replenishment_refs import (
    item,
    known_item,
    known_places,
    level,
    levels,
    open_suggestion,
    place,
    publish,
    ref,
    suggestions,
    why,
)

from stockwire.contracts.vocabulary import LocationKind


async def test_the_warehouse_with_the_most_excess_gives_the_transfer(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    region = ref("REG")
    small = await place(producer, ref("WH"), LocationKind.WAREHOUSE, region)
    large = await place(producer, ref("WH"), LocationKind.WAREHOUSE, region)
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, region)
    await known_places(engine, small, large, van)
    await levels(producer, engine, level(sku, small, 10), level(sku, large, 30))

    await levels(producer, engine, level(sku, van, 0))

    [found] = await suggestions(writer, sku=sku, location=van)
    assert found["kind"] == "transfer"
    assert found["from_location"] == large
    assert float(found["quantity"]) == 5
    explanation = await why(writer, found["suggestion_id"])
    assert [(e["location"], e["excess"]) for e in explanation["excess_elsewhere"]] == [
        (large, 30),
        (small, 10),
    ]


async def test_a_transfer_moves_no_more_than_the_giver_has_spare(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    region = ref("REG")
    warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, region)
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, region)
    await known_places(engine, warehouse, van)
    await levels(producer, engine, level(sku, warehouse, 3))

    await levels(producer, engine, level(sku, van, 0))

    [found] = await suggestions(writer, sku=sku, location=van)
    assert found["kind"] == "transfer"
    assert found["from_location"] == warehouse
    assert float(found["quantity"]) == 3  # 5 are needed, 3 are spare


async def test_a_van_above_its_max_gives_to_another_van_of_its_region(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    region = ref("REG")
    full = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, region)
    empty = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, region)
    await known_places(engine, full, empty)
    await levels(producer, engine, level(sku, full, 9))

    await levels(producer, engine, level(sku, empty, 1))

    [found] = await suggestions(writer, sku=sku, location=empty)
    assert found["kind"] == "transfer"
    assert found["from_location"] == full
    assert float(found["quantity"]) == 4  # 9 - max 5 spare; 5 - 1 needed


async def test_excess_in_another_region_is_not_used(producer, writer, replenishment_runtime):
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    here, there = ref("REG"), ref("REG")
    warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, here)
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, here)
    far = await place(producer, ref("WH"), LocationKind.WAREHOUSE, there)
    await known_places(engine, warehouse, van, far)
    await levels(producer, engine, level(sku, warehouse, 0), level(sku, far, 100))

    await levels(producer, engine, level(sku, van, 0))

    [found] = await suggestions(writer, sku=sku, location=van)
    assert found["kind"] == "purchase"
    assert found["from_location"] is None
    assert float(found["quantity"]) == 5
    assert (await why(writer, found["suggestion_id"]))["excess_elsewhere"] == []


async def test_stock_at_a_customer_site_is_never_a_source(producer, writer, replenishment_runtime):
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    region = ref("REG")
    site = await place(producer, ref("SITE"), LocationKind.CUSTOMER_SITE, region)
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, region)
    await known_places(engine, site, van)
    await levels(producer, engine, level(sku, site, 40))

    await levels(producer, engine, level(sku, van, 0))

    [found] = await suggestions(writer, sku=sku, location=van)
    assert found["kind"] == "purchase"
    assert await suggestions(writer, sku=sku, location=site) == []


async def test_a_level_that_arrives_before_its_item_is_evaluated_when_the_item_does(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    sku, region = ref("ONT"), ref("REG")
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, region)
    await known_places(engine, van)
    await levels(producer, engine, level(sku, van, 0))
    assert await suggestions(writer, sku=sku) == []

    await publish(producer, item(sku), producer_name="catalog")

    found = await open_suggestion(writer, sku, van)
    assert found is not None
    assert found["kind"] == "purchase"
    assert float(found["quantity"]) == 5
