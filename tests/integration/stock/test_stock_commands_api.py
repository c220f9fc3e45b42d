"""The command API through the real app and PostgreSQL: movements, rejections, rules."""

import pytest
from stock_refs import assert_books_balance, item, outbox_payloads, q, receive, ref, seed


async def test_receipt_then_issue_moves_stock_and_publishes_movements_and_one_level_each(
    writer, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])

    received = await receive(writer, site.wh, sku.sku, 10, ordered_quantity="12")
    issued = await writer.post(
        "/api/v1/issues",
        json={
            "from_location": site.wh,
            "job_id": ref("JOB"),
            "lines": [{"sku": sku.sku, "quantity": "3"}],
        },
    )

    assert received["movements"][0]["reason_code"] == "receipt_short"
    assert issued.status_code == 201, issued.text
    [level] = issued.json()["levels"]
    assert (q(level["on_hand"]), q(level["available"])) == (7, 7)
    envelopes = await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
    assert [e["event_type"] for e in envelopes] == [
        "stock.movement.recorded",
        "stock.level.changed",
        "stock.movement.recorded",
        "stock.level.changed",
    ]
    assert q(envelopes[-1]["payload"]["on_hand"]) == 7
    await assert_books_balance(stock_engine, [sku.sku])


async def test_issuing_more_than_on_hand_is_a_409_rejection_event_and_alert(
    writer, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    await receive(writer, site.wh, sku.sku, 2)

    response = await writer.post(
        "/api/v1/issues",
        json={"from_location": site.wh, "lines": [{"sku": sku.sku, "quantity": "5"}]},
    )

    assert response.status_code == 409, response.text
    body = response.json()
    assert (body["error"], body["reason"]) == ("rejected", "negative_stock")
    envelopes = await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
    types = [e["event_type"] for e in envelopes]
    assert types[-2:] == ["stock.movement.rejected", "stock.alert.raised"]
    assert envelopes[-1]["payload"]["kind"] == "rejected_movement"
    await assert_books_balance(stock_engine, [sku.sku])


async def test_unknown_sku_over_http_is_rejected_as_unknown_sku(writer, site):
    response = await writer.post(
        "/api/v1/receipts",
        json={"location": site.wh, "lines": [{"sku": ref("NOPE"), "received_quantity": "1"}]},
    )

    assert response.status_code == 409
    assert response.json()["reason"] == "unknown_sku"


@pytest.mark.parametrize("quantity", ["-1", "0", "1000001", "1.0001", "lots", None])
async def test_an_oversized_negative_or_malformed_quantity_is_a_422(writer, site, quantity):
    response = await writer.post(
        "/api/v1/issues",
        json={"from_location": site.wh, "lines": [{"sku": "ANY", "quantity": quantity}]},
    )

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid"
    assert body["problems"][0]["field"].endswith("quantity")


async def test_text_the_database_cannot_store_is_a_422(writer, site):
    response = await writer.post(
        "/api/v1/issues",
        json={"from_location": site.wh, "lines": [{"sku": "ONT\u0000X", "quantity": "1"}]},
    )

    assert response.status_code == 422, response.text
    assert response.json()["problems"] == [
        {
            "field": "lines.0.sku",
            "reason": "must not contain control characters, nor start or end with spaces",
        }
    ]


async def test_adjustments_need_the_admin_scope(writer, admin, stock_runtime, stock_engine, site):
    sku = item()
    await seed(stock_runtime, items=[sku])
    body = {
        "sku": sku.sku,
        "location": site.wh,
        "quantity_delta": "4",
        "reason": "found",
        "note": "behind the rack",
    }

    refused = await writer.post("/api/v1/adjustments", json=body)
    applied = await admin.post("/api/v1/adjustments", json=body)

    assert refused.status_code == 403
    assert applied.status_code == 201, applied.text
    [movement] = applied.json()["movements"]
    assert (movement["kind"], movement["reason_code"]) == ("adjustment", "adjustment_found")
    [envelope] = [
        e
        for e in await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
        if e["event_type"] == "stock.movement.recorded"
    ]
    assert envelope["payload"]["note"] == "behind the rack"


async def test_a_repeated_request_id_is_applied_once_and_answered_the_same(
    writer, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    body = {"location": site.wh, "lines": [{"sku": sku.sku, "received_quantity": "5"}]}
    key = {"Idempotency-Key": ref("req")}

    first = await writer.post("/api/v1/receipts", json=body, headers=key)
    again = await writer.post("/api/v1/receipts", json=body, headers=key)
    other = await writer.post(
        "/api/v1/receipts",
        json={**body, "lines": [{"sku": sku.sku, "received_quantity": "6"}]},
        headers=key,
    )

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert other.status_code == 409
    assert other.json()["problems"][0]["field"] == "Idempotency-Key"
    [level] = again.json()["levels"]
    assert q(level["on_hand"]) == 5
    movements = [
        e
        for e in await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
        if e["event_type"] == "stock.movement.recorded"
    ]
    assert len(movements) == 1


async def test_a_faulty_return_lands_in_the_nearest_quarantine(writer, stock_runtime, site):
    sku = item()
    await seed(stock_runtime, items=[sku])

    response = await writer.post(
        "/api/v1/returns",
        json={
            "to_location": site.van,
            "condition": "faulty",
            "line": {"sku": sku.sku, "quantity": "1"},
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["movements"][0]["location"] == site.wh_q


async def test_a_transfer_received_short_writes_off_the_rest_and_alerts(
    writer, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    await receive(writer, site.wh, sku.sku, 10)

    shipped = await writer.post(
        "/api/v1/transfers",
        json={"sku": sku.sku, "from_location": site.wh, "to_location": site.pop, "quantity": "6"},
    )
    assert shipped.status_code == 201, shipped.text
    transfer_id = shipped.json()["transfer_id"]
    received = await writer.post(
        f"/api/v1/transfers/{transfer_id}/receive", json={"quantity_received": "4"}
    )
    again = await writer.post(
        f"/api/v1/transfers/{transfer_id}/receive", json={"quantity_received": "4"}
    )
    unknown = await writer.post(
        f"/api/v1/transfers/{ref('T')}/receive", json={"quantity_received": "4"}
    )

    assert received.status_code == 200, received.text
    assert [m["reason_code"] for m in received.json()["movements"]] == [
        "transfer_received",
        "transfer_shortage",
    ]
    assert "transfer_discrepancy" in [a["kind"] for a in received.json()["alerts"]]
    levels = {level["location"]: level for level in received.json()["levels"]}
    assert q(levels[site.pop]["on_hand"]) == 4
    assert q(levels[site.pop]["in_transit_in"]) == 0
    assert q(levels[site.wh]["in_transit_out"]) == 0
    assert again.status_code == 409
    assert unknown.status_code == 404
    await assert_books_balance(stock_engine, [sku.sku])


async def test_a_blind_count_hides_nothing_it_should_not_and_closes_with_accuracy(
    writer, stock_runtime, stock_engine, site
):
    first, second = item(), item()
    await seed(stock_runtime, items=[first, second])
    await receive(writer, site.wh, first.sku, 10)
    await receive(writer, site.wh, second.sku, 3)

    opened = await writer.post("/api/v1/counts", json={"location": site.wh, "blind": True})
    assert opened.status_code == 201, opened.text
    count_id = opened.json()["count"]["count_id"]
    line = await writer.post(
        f"/api/v1/counts/{count_id}/lines", json={"sku": first.sku, "counted": "8"}
    )
    await writer.post(f"/api/v1/counts/{count_id}/lines", json={"sku": second.sku, "counted": "3"})
    closed = await writer.post(f"/api/v1/counts/{count_id}/close")
    closed_again = await writer.post(f"/api/v1/counts/{count_id}/close")

    assert line.status_code == 200, line.text
    assert "expected" not in line.text and line.json()["levels"] == []
    assert closed.status_code == 200, closed.text
    count = closed.json()["count"]
    assert (count["status"], count["items_counted"], count["items_matching"]) == ("closed", 2, 1)
    assert q(count["accuracy"]) == q("0.5")
    assert [(m["sku"], m["reason_code"], q(m["quantity"])) for m in closed.json()["movements"]] == [
        (first.sku, "count_loss", 2)
    ]
    assert "count_variance" in [a["kind"] for a in closed.json()["alerts"]]
    assert closed_again.status_code == 409
    await assert_books_balance(stock_engine, [first.sku, second.sku])


async def test_reservations_hold_available_until_released(writer, stock_runtime, site):
    sku = item()
    await seed(stock_runtime, items=[sku])
    await receive(writer, site.wh, sku.sku, 5)

    reserved = await writer.post(
        "/api/v1/reservations",
        json={"job_id": ref("JOB"), "sku": sku.sku, "location": site.wh, "quantity": "4"},
    )
    too_much = await writer.post(
        "/api/v1/reservations",
        json={"job_id": ref("JOB"), "sku": sku.sku, "location": site.wh, "quantity": "2"},
    )
    reservation_id = reserved.json()["reservation_id"]
    released = await writer.post(f"/api/v1/reservations/{reservation_id}/release")
    unknown = await writer.post(f"/api/v1/reservations/{ref('R')}/release")

    assert reserved.status_code == 201, reserved.text
    assert q(reserved.json()["levels"][0]["available"]) == 1
    assert too_much.status_code == 409 and too_much.json()["reason"] == "negative_stock"
    assert released.status_code == 200
    assert q(released.json()["levels"][0]["available"]) == 5
    assert unknown.status_code == 404


async def test_a_serial_cannot_be_received_twice(writer, stock_runtime, site):
    sku = item("ONT", "serial")
    await seed(stock_runtime, items=[sku])
    serial = ref("SN")
    await receive(writer, site.wh, sku.sku, 1, serials=[serial])

    response = await writer.post(
        "/api/v1/receipts",
        json={
            "location": site.pop,
            "lines": [{"sku": sku.sku, "received_quantity": "1", "serials": [serial]}],
        },
    )

    assert response.status_code == 409
    assert response.json()["reason"] == "serial_already_in_stock"


RULE_BREAKERS = [
    pytest.param(
        "/api/v1/transfers",
        {"sku": "ANY", "from_location": "WH-1", "to_location": "WH-1", "quantity": "1"},
        "to_location",
        "from_location and to_location must differ",
        id="transfer-to-itself",
    ),
    pytest.param(
        "/api/v1/transfers",
        {
            "sku": "ANY",
            "from_location": "WH-1",
            "to_location": "POP-1",
            "quantity": "2",
            "serials": ["S1", "S1"],
        },
        "serials",
        "serials must not repeat",
        id="transfer-serial-twice",
    ),
    pytest.param(
        "/api/v1/receipts",
        {
            "location": "WH-1",
            "lines": [{"sku": "ANY", "received_quantity": "3", "serials": ["S1", "S2"]}],
        },
        "lines.0.serials",
        "name as many serials as the quantity",
        id="receipt-serials-short",
    ),
    pytest.param(
        "/api/v1/transfers/T-1/receive",
        {"quantity_received": "2", "serials": ["S1"]},
        "serials",
        "name as many serials as the quantity",
        id="transfer-receipt-serials-short",
    ),
    pytest.param(
        "/api/v1/adjustments",
        {"sku": "ANY", "location": "WH-1", "quantity_delta": "0", "reason": "found"},
        "quantity_delta",
        "must be a decimal number from -1000000 to 1000000, not 0, with at most 3 decimal places",
        id="adjustment-by-zero",
    ),
    pytest.param(
        "/api/v1/adjustments",
        {"sku": "ANY", "location": "WH-1", "quantity_delta": "-1000001", "reason": "lost"},
        "quantity_delta",
        "must be a decimal number from -1000000 to 1000000, not 0, with at most 3 decimal places",
        id="adjustment-too-large",
    ),
    pytest.param(
        "/api/v1/adjustments",
        {
            "sku": "ANY",
            "location": "WH-1",
            "quantity_delta": "2",
            "reason": "found",
            "serial": "S1",
        },
        "quantity_delta",
        "a serial is adjusted by 1 or -1",
        id="serial-adjusted-by-two",
    ),
    pytest.param(
        "/api/v1/counts/C-1/lines",
        {"counted": "1"},
        "sku",
        "name a sku, a serial or both",
        id="count-line-naming-nothing",
    ),
    pytest.param(
        "/api/v1/counts/C-1/lines",
        {"serial": "S1", "counted": "2"},
        "counted",
        "a serial is counted 0 or 1",
        id="serial-counted-twice",
    ),
]


@pytest.mark.parametrize(("path", "body", "field", "reason"), RULE_BREAKERS)
async def test_a_body_that_breaks_a_command_rule_is_a_422_naming_the_field(
    admin, writer, path, body, field, reason
):
    client = admin if path.endswith("adjustments") else writer

    response = await client.post(path, json=body)

    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid"
    assert answer["problems"] == [{"field": field, "reason": reason}]


async def test_a_count_loss_beyond_a_million_metres_is_booked_in_pieces(
    writer, stock_runtime, stock_engine, site
):
    cable = item("CABLE", "length")
    await seed(stock_runtime, items=[cable])
    spool = {"sku": cable.sku, "received_quantity": "1000000", "lot": "SPOOL-1"}
    await writer.post("/api/v1/receipts", json={"location": site.wh, "lines": [spool, spool]})
    opened = await writer.post("/api/v1/counts", json={"location": site.wh})
    count_id = opened.json()["count"]["count_id"]
    await writer.post(
        f"/api/v1/counts/{count_id}/lines",
        json={"sku": cable.sku, "lot": "SPOOL-1", "counted": "0.5"},
    )

    closed = await writer.post(f"/api/v1/counts/{count_id}/close")

    assert closed.status_code == 200, closed.text
    assert [(m["reason_code"], q(m["quantity"])) for m in closed.json()["movements"]] == [
        ("count_loss", q(1_000_000)),
        ("count_loss", q("999999.5")),
    ]
    [level] = closed.json()["levels"]
    assert q(level["on_hand"]) == q("0.5")
    published = await outbox_payloads(stock_engine, f"{cable.sku}@{site.wh}")
    assert q(published[-1]["payload"]["on_hand"]) == q("0.5")
    await assert_books_balance(stock_engine, [cable.sku])


async def test_a_level_reaches_a_billion_and_a_receipt_beyond_is_a_409_rejection(
    writer, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    lines = [{"sku": sku.sku, "received_quantity": "1000000"}] * 500
    for _ in range(2):
        filled = await writer.post("/api/v1/receipts", json={"location": site.wh, "lines": lines})
        assert filled.status_code == 201, filled.text

    beyond = await writer.post(
        "/api/v1/receipts",
        json={"location": site.wh, "lines": [{"sku": sku.sku, "received_quantity": "0.001"}]},
    )

    [level] = filled.json()["levels"]
    assert q(level["on_hand"]) == q(1_000_000_000)
    assert beyond.status_code == 409, beyond.text
    assert (beyond.json()["error"], beyond.json()["reason"]) == ("rejected", "invalid_quantity")
    published = await outbox_payloads(stock_engine, f"{sku.sku}@{site.wh}")
    assert [e["event_type"] for e in published[-3:]] == [
        "stock.level.changed",
        "stock.movement.rejected",
        "stock.alert.raised",
    ]
    assert q(published[-3]["payload"]["on_hand"]) == q(1_000_000_000)
    await assert_books_balance(stock_engine, [sku.sku])
