"""Suggestions over HTTP: listed with filters a page at a time, read one by one with why
each was made, accepted (a transfer to stock, a purchase to the ERP) or rejected with a
reason, each exactly once."""

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from replenishment_refs import (
    DEMAND_CONSUMER,
    consumed,
    events,
    known_item,
    known_places,
    level,
    levels,
    movement,
    place,
    problems,
    publish,
    ref,
    suggestions,
    today,
    why,
)

from stockwire.contracts.vocabulary import LocationKind, MovementKind


@dataclass
class Made:
    """One SKU with two open suggestions: a transfer into ``van`` from ``warehouse`` (of
    the north region), and a purchase for ``other_van`` (of the south region, where
    nothing is spare)."""

    sku: str
    warehouse: str
    van: str
    other_warehouse: str
    other_van: str
    transfer: dict
    purchase: dict


@pytest.fixture
async def made(producer, writer, replenishment_runtime) -> Made:
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    north, south = ref("REG"), ref("REG")
    warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, north)
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, north)
    other_warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, south)
    other_van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, south)
    await known_places(engine, warehouse, van, other_warehouse, other_van)
    await levels(producer, engine, level(sku, warehouse, 20), level(sku, other_warehouse, 0))
    await levels(producer, engine, level(sku, van, 1), level(sku, other_van, 0))
    [transfer] = await suggestions(writer, sku=sku, location=van)
    [purchase] = await suggestions(writer, sku=sku, location=other_van)
    return Made(sku, warehouse, van, other_warehouse, other_van, transfer, purchase)


def ids(found: list[dict]) -> list[str]:
    return [s["suggestion_id"] for s in found]


async def test_suggestions_are_filtered_by_status_kind_sku_and_location(writer, made):
    transfer, purchase = made.transfer["suggestion_id"], made.purchase["suggestion_id"]

    assert sorted(ids(await suggestions(writer, sku=made.sku))) == sorted([transfer, purchase])
    assert ids(await suggestions(writer, sku=made.sku, kind="transfer")) == [transfer]
    assert ids(await suggestions(writer, sku=made.sku, kind="purchase")) == [purchase]
    assert ids(await suggestions(writer, sku=made.sku, kind="last_time_buy")) == []
    assert ids(await suggestions(writer, location=made.van)) == [transfer]
    assert ids(await suggestions(writer, sku=made.sku, location=made.warehouse)) == []
    assert ids(await suggestions(writer, sku=made.sku, status="rejected")) == []

    rejected = await writer.post(
        f"/api/v1/suggestions/{purchase}/reject", json={"reason": "budget frozen"}
    )
    assert rejected.status_code == 200, rejected.text

    assert ids(await suggestions(writer, sku=made.sku, status="open")) == [transfer]
    assert ids(await suggestions(writer, sku=made.sku, status="rejected")) == [purchase]
    bad = await writer.get("/api/v1/suggestions", params={"status": "pending"})
    assert bad.status_code == 422
    assert "status" in problems(bad)


async def test_suggestions_come_newest_first_a_page_at_a_time(writer, made):
    first = await writer.get("/api/v1/suggestions", params={"sku": made.sku, "limit": 1})
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    assert cursor is not None

    second = await writer.get(
        "/api/v1/suggestions", params={"sku": made.sku, "limit": 1, "cursor": cursor}
    )

    assert second.status_code == 200, second.text
    assert second.json()["next_cursor"] is None
    paged = ids(first.json()["suggestions"]) + ids(second.json()["suggestions"])
    expected = sorted([made.transfer["suggestion_id"], made.purchase["suggestion_id"]])
    assert paged == sorted(expected, key=uuid.UUID, reverse=True)


def cursor_of(*parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        cursor_of("policies", "SKU", "LOC"),
        cursor_of("suggestions", "not-an-id"),
        cursor_of("suggestions", 12),
    ],
)
async def test_a_cursor_this_list_did_not_return_is_a_422(writer, cursor):
    answer = await writer.get("/api/v1/suggestions", params={"cursor": cursor})

    assert answer.status_code == 422, answer.text
    assert problems(answer)["cursor"] == "is not a cursor this endpoint returned"


async def test_one_suggestion_is_read_by_its_id(reader, made):
    transfer = made.transfer

    answer = await reader.get(f"/api/v1/suggestions/{transfer['suggestion_id']}")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == transfer
    assert body["kind"] == "transfer"
    assert (body["sku"], body["location"], body["from_location"]) == (
        made.sku,
        made.van,
        made.warehouse,
    )
    assert body["status"] == "open"
    assert f"{made.warehouse} holds 20 above its max" in body["summary"]
    assert body["decided_at"] is None


@pytest.mark.parametrize("action", ["", "/why"])
async def test_an_unknown_suggestion_is_a_404_and_a_malformed_id_a_422(reader, action):
    unknown = await reader.get(f"/api/v1/suggestions/{uuid.uuid4()}{action}")
    malformed = await reader.get(f"/api/v1/suggestions/not-an-id{action}")

    assert unknown.status_code == 404, unknown.text
    assert malformed.status_code == 422, malformed.text
    assert "suggestion_id" in problems(malformed)


async def test_why_gives_every_number_behind_a_transfer(reader, made):
    explanation = await why(reader, made.transfer["suggestion_id"])

    policy = explanation["policy"]
    assert policy["kind"] == "min_max"
    assert (policy["min_quantity"], policy["max_quantity"]) == (2, 5)
    assert policy["sources"]["min_quantity"] == "location_kind_and_category_default"
    assert policy["service_level"] == 0.9
    assert policy["service_level_reason"] == "0.9: the default for technician_van locations"
    levels_ = explanation["levels"]
    assert (levels_["reorder_point"], levels_["reorder_point_source"]) == (2, "min")
    assert (levels_["order_up_to"], levels_["order_up_to_source"]) == (5, "max")
    assert levels_["safety"] is None
    assert explanation["position"]["available"] == 1
    assert explanation["inbound"] == 0
    assert explanation["inventory_position"] == 1
    assert explanation["triggered"] is True
    assert explanation["need"] == 4
    [elsewhere] = explanation["excess_elsewhere"]
    assert elsewhere == {
        "location": made.warehouse,
        "kind": "warehouse",
        "available": 20,
        "inbound": 0,
        "max_level": 0,
        "excess": 20,
    }
    assert explanation["suggestion"]["source_location"] == made.warehouse
    assert explanation["suggestion"]["quantity"] == 4
    assert explanation["evaluated_on"] == today().isoformat()
    assert explanation["summary"] == made.transfer["summary"]


async def test_why_a_purchase_says_when_it_arrives(reader, made):
    explanation = await why(reader, made.purchase["suggestion_id"])

    arrival = (today() + timedelta(days=14)).isoformat()
    assert explanation["excess_elsewhere"] == []
    assert explanation["suggestion"]["lead_time_days"] == 14
    assert explanation["suggestion"]["expected_arrival"] == arrival
    assert explanation["lead_time_days"] == 14
    assert f"arriving about {arrival}" in explanation["reason"]


async def test_accepting_a_transfer_asks_stock_to_ship_it(writer, made, replenishment_runtime):
    engine = replenishment_runtime.engine
    suggestion_id = made.transfer["suggestion_id"]

    answer = await writer.post(f"/api/v1/suggestions/{suggestion_id}/accept")

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"
    assert answer.json()["decided_by"] == "api:writer"
    [request] = await events(
        engine, f"{made.sku}@{made.warehouse}", "replenishment.transfer.requested"
    )
    assert request["payload"] | {"quantity": None, "requested_at": None} == {
        "transfer_id": suggestion_id,
        "suggestion_id": suggestion_id,
        "sku": made.sku,
        "from_location": made.warehouse,
        "to_location": made.van,
        "quantity": None,
        "requested_by": "api:writer",
        "requested_at": None,
    }
    assert Decimal(request["payload"]["quantity"]) == 4
    [accepted] = await events(engine, f"{made.sku}@{made.van}", "replenishment.suggestion.accepted")
    assert accepted["payload"]["suggestion_id"] == suggestion_id
    assert (
        await events(engine, f"{made.sku}@{made.van}", "replenishment.purchase-order.requested")
        == []
    )


async def test_accepting_a_purchase_asks_the_erp_for_a_purchase_order(
    writer, made, replenishment_runtime
):
    suggestion_id = made.purchase["suggestion_id"]

    answer = await writer.post(f"/api/v1/suggestions/{suggestion_id}/accept")

    assert answer.status_code == 200, answer.text
    [request] = await events(
        replenishment_runtime.engine,
        f"{made.sku}@{made.other_van}",
        "replenishment.purchase-order.requested",
    )
    payload = request["payload"]
    assert payload["suggestion_id"] == suggestion_id
    assert payload["kind"] == "purchase"
    assert (payload["sku"], payload["location"]) == (made.sku, made.other_van)
    assert Decimal(payload["quantity"]) == 5
    assert payload["lead_time_days"] == 14
    assert payload["expected_arrival"] == (today() + timedelta(days=14)).isoformat()
    assert uuid.UUID(payload["request_id"])
    assert (
        await events(
            replenishment_runtime.engine,
            f"{made.sku}@{made.other_warehouse}",
            "replenishment.transfer.requested",
        )
        == []
    )


async def test_an_accepted_purchase_is_on_order_until_a_receipt_quotes_its_request(
    producer, writer, made, replenishment_runtime
):
    engine = replenishment_runtime.engine
    suggestion_id = made.purchase["suggestion_id"]
    assert (await writer.post(f"/api/v1/suggestions/{suggestion_id}/accept")).status_code == 200
    [request] = await events(
        engine, f"{made.sku}@{made.other_van}", "replenishment.purchase-order.requested"
    )

    await levels(producer, engine, level(made.sku, made.other_van, 1))

    assert await suggestions(writer, sku=made.sku, location=made.other_van, status="open") == []

    receipt = movement(
        MovementKind.RECEIPT, made.sku, made.other_warehouse, 5, datetime.now(UTC)
    ).model_copy(update={"po_number": request["payload"]["request_id"]})
    await consumed(engine, DEMAND_CONSUMER, await publish(producer, receipt))
    await levels(producer, engine, level(made.sku, made.other_van, 1))

    [again] = await suggestions(writer, sku=made.sku, location=made.other_van, status="open")
    assert again["kind"] == "purchase"
    assert float(again["quantity"]) == 4


async def test_rejecting_a_suggestion_keeps_the_reason_and_publishes_it(
    writer, made, replenishment_runtime
):
    suggestion_id = made.transfer["suggestion_id"]

    answer = await writer.post(
        f"/api/v1/suggestions/{suggestion_id}/reject", json={"reason": "van is off the road"}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "rejected"
    assert body["decision_reason"] == "van is off the road"
    assert body["decided_by"] == "api:writer"
    [published] = await events(
        replenishment_runtime.engine,
        f"{made.sku}@{made.van}",
        "replenishment.suggestion.rejected",
    )
    assert published["payload"]["reason"] == "van is off the road"
    assert published["payload"]["rejected_by"] == "api:writer"
    assert (
        await events(
            replenishment_runtime.engine,
            f"{made.sku}@{made.warehouse}",
            "replenishment.transfer.requested",
        )
        == []
    )


@pytest.mark.parametrize("first", ["accept", "reject"])
@pytest.mark.parametrize("then", ["accept", "reject"])
async def test_a_decided_suggestion_cannot_be_decided_again(writer, made, first, then):
    url = f"/api/v1/suggestions/{made.transfer['suggestion_id']}"
    reason = {"reason": "not needed"}
    decided = await writer.post(f"{url}/{first}", json=reason if first == "reject" else None)
    assert decided.status_code == 200, decided.text

    again = await writer.post(f"{url}/{then}", json=reason if then == "reject" else None)

    assert again.status_code == 409, again.text
    assert f"was already {decided.json()['status']}" in problems(again)["status"]


@pytest.mark.parametrize("action", ["accept", "reject"])
async def test_deciding_an_unknown_suggestion_is_a_404_and_a_malformed_id_a_422(writer, action):
    body = {"reason": "no"} if action == "reject" else None

    unknown = await writer.post(f"/api/v1/suggestions/{uuid.uuid4()}/{action}", json=body)
    malformed = await writer.post(f"/api/v1/suggestions/12345/{action}", json=body)

    assert unknown.status_code == 404, unknown.text
    assert malformed.status_code == 422, malformed.text


@pytest.mark.parametrize(
    ("body", "field"),
    [(None, "body"), ({}, "reason"), ({"reason": ""}, "reason"), ({"reason": 5}, "reason")],
)
async def test_a_rejection_without_a_reason_is_a_422(writer, made, body, field):
    url = f"/api/v1/suggestions/{made.transfer['suggestion_id']}"

    answer = await writer.post(f"{url}/reject", json=body)

    assert answer.status_code == 422, answer.text
    assert field in problems(answer)
    assert (await writer.get(url)).json()["status"] == "open"


async def test_a_reader_cannot_decide_and_an_anonymous_caller_cannot_read(reader, anonymous, made):
    url = f"/api/v1/suggestions/{made.transfer['suggestion_id']}"

    assert (await reader.post(f"{url}/accept")).status_code == 403
    assert (await reader.post(f"{url}/reject", json={"reason": "no"})).status_code == 403
    assert (await anonymous.get(url)).status_code == 401
    assert (await anonymous.get("/api/v1/suggestions")).status_code == 401
    assert (await reader.get(url)).json()["status"] == "open"


async def test_an_accept_repeated_with_its_idempotency_key_is_applied_once(
    writer, made, replenishment_runtime
):
    url = f"/api/v1/suggestions/{made.transfer['suggestion_id']}/accept"
    headers = {"Idempotency-Key": ref("KEY")}

    first = await writer.post(url, headers=headers)
    repeat = await writer.post(url, headers=headers)

    assert first.status_code == repeat.status_code == 200, repeat.text
    assert repeat.json() == first.json()
    requests = await events(
        replenishment_runtime.engine,
        f"{made.sku}@{made.warehouse}",
        "replenishment.transfer.requested",
    )
    assert len(requests) == 1
    assert (await writer.post(url)).status_code == 409
