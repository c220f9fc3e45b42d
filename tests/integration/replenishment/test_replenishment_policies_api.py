"""Policies over HTTP: the policy in effect with where each value came from, overrides
that take effect at once (the SKU x location is evaluated again in the same request),
and a 422 naming the field and the reason for every kind of bad input."""

import pytest
from replenishment_refs import (
    known_item,
    known_places,
    level,
    levels,
    place,
    problems,
    ref,
    suggestions,
)

from stockwire.contracts.vocabulary import LocationKind


@pytest.fixture
async def stocked(producer, replenishment_runtime):
    """An ONT (serial, medium criticality, 14 days from the supplier), a warehouse and a
    van in one region, all known to replenishment."""
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    region = ref("REG")
    warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, region)
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, region)
    site = await place(producer, ref("SITE"), LocationKind.CUSTOMER_SITE, region)
    await known_places(engine, warehouse, van, site)
    return sku, warehouse, van, site


def path(sku: str, at: str) -> str:
    return f"/api/v1/policies/{sku}/{at}"


async def test_a_van_plans_by_the_min_and_max_of_its_defaults_with_their_sources(reader, stocked):
    sku, _, van, _ = stocked

    answer = await reader.get(path(sku, van))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["override"] is None
    effective = body["effective"]
    assert effective["kind"] == "min_max"
    assert (effective["min_quantity"], effective["max_quantity"]) == (2, 5)
    assert effective["reorder_point"] is None
    assert effective["service_level"] == 0.9
    assert (effective["lead_time_days"], effective["review_period_days"]) == (2, 1)
    assert effective["supplier_lead_time_days"] == 14
    assert effective["sources"] == {
        "kind": "location_kind_default",
        "service_level": "location_kind_default",
        "min_quantity": "location_kind_and_category_default",
        "max_quantity": "location_kind_and_category_default",
        "review_period_days": "location_kind_default",
        "lead_time_days": "location_kind_default",
    }


async def test_a_warehouse_computes_its_reorder_point_over_the_supplier_lead_time(reader, stocked):
    sku, warehouse, _, _ = stocked

    answer = await reader.get(path(sku, warehouse))

    assert answer.status_code == 200, answer.text
    effective = answer.json()["effective"]
    assert effective["kind"] == "reorder_point"
    assert effective["reorder_point"] is None  # computed, not fixed
    assert effective["order_up_to"] is None
    assert effective["min_quantity"] is None
    assert effective["service_level"] == 0.97
    assert effective["lead_time_days"] == 14
    assert effective["review_period_days"] == 7
    assert effective["sources"] == {
        "kind": "base_default",
        "service_level": "location_kind_default",
        "review_period_days": "base_default",
        "lead_time_days": "catalog",
    }


async def test_a_critical_item_is_planned_at_the_criticality_floor(
    producer, reader, stocked, replenishment_runtime
):
    _, warehouse, _, _ = stocked
    sku = await known_item(
        producer, replenishment_runtime.engine, ref("OPT"), criticality="critical", category="optic"
    )

    effective = (await reader.get(path(sku, warehouse))).json()["effective"]

    assert effective["service_level"] == 0.995
    assert effective["sources"]["service_level"] == "criticality"
    assert "critical criticality" in effective["service_level_reason"]
    assert "0.97" in effective["service_level_reason"]


async def test_raising_a_vans_min_makes_a_suggestion_at_once_and_removing_it_withdraws_it(
    producer, writer, stocked, replenishment_runtime
):
    sku, _, van, _ = stocked
    await levels(producer, replenishment_runtime.engine, level(sku, van, 3))
    assert await suggestions(writer, sku=sku) == []  # 3 is above the min of 2

    put = await writer.put(path(sku, van), json={"min_quantity": 4})

    assert put.status_code == 200, put.text
    body = put.json()
    assert body["override"]["min_quantity"] == 4
    assert body["override"]["max_quantity"] is None
    assert body["override"]["updated_by"] == "api:writer"
    assert body["effective"]["min_quantity"] == 4
    assert body["effective"]["max_quantity"] == 5
    assert body["effective"]["sources"]["min_quantity"] == "override"
    assert body["effective"]["sources"]["max_quantity"] == "location_kind_and_category_default"
    [made] = await suggestions(writer, sku=sku, location=van)
    assert made["status"] == "open"
    assert made["kind"] == "purchase"
    assert float(made["quantity"]) == 2  # up to the max of 5 from 3

    read = (await writer.get(path(sku, van))).json()
    assert read["effective"]["min_quantity"] == 4

    removed = await writer.delete(path(sku, van))

    assert removed.status_code == 204, removed.text
    after = (await writer.get(path(sku, van))).json()
    assert after["override"] is None
    assert after["effective"]["min_quantity"] == 2
    [withdrawn] = await suggestions(writer, sku=sku, location=van)
    assert withdrawn["suggestion_id"] == made["suggestion_id"]
    assert withdrawn["status"] == "withdrawn"
    again = await writer.delete(path(sku, van))
    assert again.status_code == 404, again.text


async def test_a_fixed_reorder_point_at_a_warehouse_takes_effect_at_once(
    producer, writer, stocked, replenishment_runtime
):
    sku, warehouse, _, _ = stocked
    await levels(producer, replenishment_runtime.engine, level(sku, warehouse, 5))
    assert await suggestions(writer, sku=sku) == []  # no demand: a computed point of 0

    put = await writer.put(path(sku, warehouse), json={"reorder_point": 10, "order_up_to": 30})

    assert put.status_code == 200, put.text
    assert put.json()["effective"]["sources"]["reorder_point"] == "override"
    [made] = await suggestions(writer, sku=sku, location=warehouse)
    assert made["kind"] == "purchase"
    assert float(made["quantity"]) == 25
    explanation = (await writer.get(f"/api/v1/suggestions/{made['suggestion_id']}/why")).json()
    levels_ = explanation["explanation"]["levels"]
    assert (levels_["reorder_point"], levels_["reorder_point_source"]) == (10, "fixed")
    assert (levels_["order_up_to"], levels_["order_up_to_source"]) == (30, "fixed")


async def test_an_override_replaces_the_whole_previous_override(writer, stocked):
    sku, _, van, _ = stocked
    first = await writer.put(path(sku, van), json={"min_quantity": 3, "service_level": 0.95})
    assert first.status_code == 200, first.text

    second = await writer.put(path(sku, van), json={"max_quantity": 8})

    assert second.status_code == 200, second.text
    body = second.json()
    assert body["override"]["version"] == 2
    assert body["override"]["min_quantity"] is None
    assert body["effective"]["min_quantity"] == 2
    assert body["effective"]["max_quantity"] == 8
    assert body["effective"]["service_level"] == 0.9


async def test_a_van_switched_to_a_reorder_point_leaves_its_default_min_and_max_behind(
    writer, stocked
):
    sku, _, van, _ = stocked

    answer = await writer.put(path(sku, van), json={"kind": "reorder_point", "reorder_point": 3})

    assert answer.status_code == 200, answer.text
    effective = answer.json()["effective"]
    assert effective["kind"] == "reorder_point"
    assert effective["reorder_point"] == 3
    assert effective["sources"]["reorder_point"] == "override"
    assert effective["min_quantity"] is None
    assert effective["max_quantity"] is None


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (
            {"min_quantity": 5, "max_quantity": 2},
            "max_quantity",
            "the max (2) is below the min (5)",
        ),
        ({"min_quantity": 9}, "max_quantity", "is below the"),
        ({"service_level": 0}, "service_level", "greater than 0"),
        ({"service_level": 1}, "service_level", "less than 1"),
        ({"service_level": 1.5}, "service_level", "less than 1"),
        ({"service_level": -0.1}, "service_level", "greater than 0"),
        ({"reorder_point": 3}, "reorder_point", "a min_max policy reorders at its min"),
        (
            {"kind": "min_max", "order_up_to": 6},
            "order_up_to",
            "a min_max policy reorders at its min",
        ),
        (
            {"kind": "reorder_point", "reorder_point": 5, "order_up_to": 2},
            "order_up_to",
            "below the reorder point",
        ),
        ({"min_quantity": 2.5}, "min_quantity", "is counted in whole units, not 2.5"),
        ({"min_quantity": -1}, "min_quantity", "from 0"),
        ({"review_period_days": 0}, "review_period_days", "greater than or equal to 1"),
        ({"minimum": 3}, "minimum", "Extra inputs are not permitted"),
        ({"service_level": "0.9"}, "service_level", "valid number"),
        ({"lead_time_days": 2.5}, "lead_time_days", "valid integer"),
        ({"kind": "fixed"}, "kind", "'min_max' or 'reorder_point'"),
    ],
)
async def test_bad_policy_input_is_a_422_naming_the_field_and_why(
    writer, stocked, replenishment_runtime, body, field, reason
):
    sku, _, van, _ = stocked

    answer = await writer.put(path(sku, van), json=body)

    assert answer.status_code == 422, answer.text
    found = problems(answer)
    assert field in found, found
    assert reason in found[field], found
    assert (await writer.get(path(sku, van))).json()["override"] is None


async def test_a_min_max_policy_at_a_warehouse_needs_its_min_and_max(writer, stocked):
    sku, warehouse, _, _ = stocked

    answer = await writer.put(path(sku, warehouse), json={"kind": "min_max"})

    assert answer.status_code == 422, answer.text
    found = problems(answer)
    assert set(found) == {"min_quantity", "max_quantity"}
    assert "a min_max policy needs a min_quantity" in found["min_quantity"]


async def test_an_item_counted_in_meters_takes_fractions(
    producer, writer, stocked, replenishment_runtime
):
    _, _, van, _ = stocked
    cable = await known_item(
        producer,
        replenishment_runtime.engine,
        ref("DROP"),
        category="cable",
        tracking_mode="length",
        unit="m",
    )

    answer = await writer.put(path(cable, van), json={"min_quantity": 62.5})

    assert answer.status_code == 200, answer.text
    effective = answer.json()["effective"]
    assert (effective["min_quantity"], effective["max_quantity"]) == (62.5, 150)
    assert effective["service_level"] == 0.98  # cable's category default, above the van's


async def test_every_problem_of_an_override_is_named_at_once(writer, stocked):
    sku, _, van, _ = stocked

    answer = await writer.put(
        path(sku, van), json={"min_quantity": 1.5, "reorder_point": 4, "order_up_to": 9}
    )

    assert answer.status_code == 422, answer.text
    assert set(problems(answer)) == {"min_quantity", "reorder_point", "order_up_to"}


async def test_an_unknown_item_or_location_is_a_404(writer, stocked):
    sku, warehouse, _, _ = stocked
    for unknown in (path(ref("NOPE"), warehouse), path(sku, ref("NOWHERE"))):
        assert (await writer.get(unknown)).status_code == 404
        put = await writer.put(unknown, json={"service_level": 0.9})
        assert put.status_code == 404, put.text


async def test_a_customer_site_has_no_policy(writer, stocked):
    sku, _, _, site = stocked

    for answer in (
        await writer.get(path(sku, site)),
        await writer.put(path(sku, site), json={"service_level": 0.9}),
    ):
        assert answer.status_code == 422, answer.text
        assert "holds no planned stock" in problems(answer)["location"]


async def test_policies_need_a_token_and_changes_need_the_write_scope(anonymous, reader, stocked):
    sku, warehouse, _, _ = stocked

    assert (await anonymous.get(path(sku, warehouse))).status_code == 401
    assert (await anonymous.put(path(sku, warehouse), json={})).status_code == 401
    assert (await reader.put(path(sku, warehouse), json={"service_level": 0.9})).status_code == 403
    assert (await reader.delete(path(sku, warehouse))).status_code == 403
    assert (await reader.get(path(sku, warehouse))).json()["override"] is None


async def test_a_repeated_put_with_the_same_idempotency_key_gets_the_first_answer(writer, stocked):
    sku, warehouse, _, _ = stocked
    headers = {"Idempotency-Key": ref("KEY")}
    body = {"service_level": 0.99, "review_period_days": 3}

    first = await writer.put(path(sku, warehouse), json=body, headers=headers)
    repeat = await writer.put(path(sku, warehouse), json=body, headers=headers)

    assert first.status_code == repeat.status_code == 200, repeat.text
    assert repeat.json() == first.json()
    assert first.json()["override"]["version"] == 1
    other = await writer.put(path(sku, warehouse), json={"service_level": 0.5}, headers=headers)
    assert other.status_code == 409, other.text
    fresh = await writer.put(path(sku, warehouse), json=body)
    assert fresh.json()["override"]["version"] == 2


async def test_a_repeated_delete_with_the_same_idempotency_key_gets_the_first_answer(
    writer, stocked
):
    sku, warehouse, _, _ = stocked
    assert (await writer.put(path(sku, warehouse), json={"service_level": 0.99})).status_code == 200
    headers = {"Idempotency-Key": ref("KEY")}

    first = await writer.delete(path(sku, warehouse), headers=headers)
    repeat = await writer.delete(path(sku, warehouse), headers=headers)

    assert first.status_code == repeat.status_code == 204, repeat.text
    assert (await writer.delete(path(sku, warehouse))).status_code == 404


async def test_overrides_are_listed_by_sku_and_location_a_page_at_a_time(writer, stocked):
    sku, warehouse, van, _ = stocked
    for at in (van, warehouse):
        assert (await writer.put(path(sku, at), json={"service_level": 0.96})).status_code == 200

    seen = []
    cursor = None
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = (await writer.get("/api/v1/policies", params=params)).json()
        seen.extend((o["sku"], o["location"]) for o in page["overrides"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    mine = [key for key in seen if key[0] == sku]
    assert mine == sorted([(sku, van), (sku, warehouse)])
    assert seen == sorted(seen)
