"""Cancelling transfers and counts through the real app and PostgreSQL: routes, scopes,
refusals, replays, and what the read API shows afterwards."""

from stock_refs import Site, assert_books_balance, item, outbox_payloads, q, receive, ref, seed


async def stocked(writer, stock_runtime, site: Site, quantity: int) -> str:
    """A new SKU, ``quantity`` of it received at the warehouse."""
    sku = item()
    await seed(stock_runtime, items=[sku])
    await receive(writer, site.wh, sku.sku, quantity)
    return sku.sku


async def ship(client, sku: str, site: Site, quantity, **fields) -> str:
    response = await client.post(
        "/api/v1/transfers",
        json={
            "sku": sku,
            "from_location": site.wh,
            "to_location": site.pop,
            "quantity": str(quantity),
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["transfer_id"]


async def cancellations_published(stock_engine, sku: str, site: Site) -> list[dict]:
    """The ``transfer_cancel`` movements staged for the warehouse's balance of ``sku``."""
    return [
        e["payload"]
        for e in await outbox_payloads(stock_engine, f"{sku}@{site.wh}")
        if e["event_type"] == "stock.movement.recorded"
        and e["payload"]["kind"] == "transfer_cancel"
    ]


async def test_cancelling_a_transfer_puts_it_back_on_hand_at_the_origin(
    writer, stock_runtime, stock_engine, site
):
    sku = await stocked(writer, stock_runtime, site, 10)
    transfer_id = await ship(writer, sku, site, 6)

    cancelled = await writer.post(f"/api/v1/transfers/{transfer_id}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    [movement] = cancelled.json()["movements"]
    assert (movement["kind"], movement["reason_code"], movement["location"]) == (
        "transfer_cancel",
        "transfer_cancelled",
        site.wh,
    )
    assert (movement["transfer_id"], q(movement["quantity"])) == (transfer_id, 6)
    levels = {level["location"]: level for level in cancelled.json()["levels"]}
    assert (q(levels[site.wh]["on_hand"]), q(levels[site.wh]["in_transit_out"])) == (10, 0)
    assert q(levels[site.pop]["in_transit_in"]) == 0
    [published] = await cancellations_published(stock_engine, sku, site)
    assert published["transfer_id"] == transfer_id
    await assert_books_balance(stock_engine, [sku])


async def test_a_cancelled_transfer_is_listed_as_cancelled_and_not_as_open(
    writer, stock_runtime, site
):
    sku = await stocked(writer, stock_runtime, site, 10)
    kept, called_off = await ship(writer, sku, site, 2), await ship(writer, sku, site, 3)
    await writer.post(f"/api/v1/transfers/{called_off}/cancel")

    open_ones = await writer.get("/api/v1/transfers", params={"sku": sku, "status": "in_transit"})
    cancelled = await writer.get("/api/v1/transfers", params={"sku": sku, "status": "cancelled"})

    assert [t["transfer_id"] for t in open_ones.json()["transfers"]] == [kept]
    [row] = cancelled.json()["transfers"]
    assert (row["transfer_id"], row["status"], row["quantity_received"]) == (
        called_off,
        "cancelled",
        None,
    )


async def test_serials_of_a_cancelled_transfer_are_in_stock_at_the_origin(
    writer, stock_runtime, stock_engine, site
):
    sku = item("ONT", "serial")
    await seed(stock_runtime, items=[sku])
    serials = [ref("SN"), ref("SN")]
    await receive(writer, site.wh, sku.sku, 2, serials=serials)
    transfer_id = await ship(writer, sku.sku, site, 2, serials=serials)

    cancelled = await writer.post(f"/api/v1/transfers/{transfer_id}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert sorted(m["serial"] for m in cancelled.json()["movements"]) == sorted(serials)
    for serial in serials:
        current = (await writer.get(f"/api/v1/serials/{serial}")).json()["current"]
        assert (current["location"], current["state"]) == (site.wh, "in_stock")
    await assert_books_balance(stock_engine, [sku.sku])


async def test_a_received_cancelled_or_unknown_transfer_cannot_be_cancelled(
    writer, stock_runtime, site
):
    sku = await stocked(writer, stock_runtime, site, 10)
    received, cancelled = await ship(writer, sku, site, 2), await ship(writer, sku, site, 3)
    await writer.post(f"/api/v1/transfers/{received}/receive", json={"quantity_received": "2"})
    await writer.post(f"/api/v1/transfers/{cancelled}/cancel")

    after_receipt = await writer.post(f"/api/v1/transfers/{received}/cancel")
    twice = await writer.post(f"/api/v1/transfers/{cancelled}/cancel")
    arriving_after_all = await writer.post(
        f"/api/v1/transfers/{cancelled}/receive", json={"quantity_received": "3"}
    )
    unknown = await writer.post(f"/api/v1/transfers/{ref('T')}/cancel")

    for response, status in (
        (after_receipt, "received"),
        (twice, "cancelled"),
        (arriving_after_all, "cancelled"),
    ):
        assert response.status_code == 409, response.text
        body = response.json()
        assert (body["error"], body["problems"][0]["field"]) == ("conflict", "transfer_id")
        assert f"already {status}" in body["detail"]
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"


async def test_cancelling_needs_the_write_scope(reader, writer, stock_runtime, site):
    sku = await stocked(writer, stock_runtime, site, 5)
    transfer_id = await ship(writer, sku, site, 1)
    opened = await writer.post("/api/v1/counts", json={"location": site.wh})
    count_id = opened.json()["count"]["count_id"]

    transfer = await reader.post(f"/api/v1/transfers/{transfer_id}/cancel")
    count = await reader.post(f"/api/v1/counts/{count_id}/cancel")

    assert (transfer.status_code, count.status_code) == (403, 403)
    assert transfer.json()["error"] == "forbidden"
    still = await writer.get("/api/v1/transfers", params={"sku": sku})
    assert still.json()["transfers"][0]["status"] == "in_transit"


async def test_a_repeated_cancellation_with_its_request_id_is_answered_the_same(
    writer, stock_runtime, stock_engine, site
):
    sku = await stocked(writer, stock_runtime, site, 5)
    transfer_id = await ship(writer, sku, site, 4)
    key = {"Idempotency-Key": ref("req")}

    first = await writer.post(f"/api/v1/transfers/{transfer_id}/cancel", headers=key)
    again = await writer.post(f"/api/v1/transfers/{transfer_id}/cancel", headers=key)
    elsewhere = await writer.post(f"/api/v1/transfers/{ref('T')}/cancel", headers=key)

    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    assert elsewhere.status_code == 409
    assert elsewhere.json()["problems"][0]["field"] == "Idempotency-Key"
    assert len(await cancellations_published(stock_engine, sku, site)) == 1
    await assert_books_balance(stock_engine, [sku])


async def test_a_cancelled_count_adjusts_nothing_and_takes_no_more_lines(
    writer, stock_runtime, stock_engine, site
):
    sku = await stocked(writer, stock_runtime, site, 10)
    opened = await writer.post("/api/v1/counts", json={"location": site.wh})
    count_id = opened.json()["count"]["count_id"]
    await writer.post(f"/api/v1/counts/{count_id}/lines", json={"sku": sku, "counted": "7"})
    key = {"Idempotency-Key": ref("req")}

    cancelled = await writer.post(f"/api/v1/counts/{count_id}/cancel", headers=key)
    replayed = await writer.post(f"/api/v1/counts/{count_id}/cancel", headers=key)
    line = await writer.post(f"/api/v1/counts/{count_id}/lines", json={"sku": sku, "counted": "8"})
    closed = await writer.post(f"/api/v1/counts/{count_id}/close")
    twice = await writer.post(f"/api/v1/counts/{count_id}/cancel")
    unknown = await writer.post(f"/api/v1/counts/{ref('CNT')}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert replayed.json() == cancelled.json()
    body = cancelled.json()
    assert (body["movements"], body["levels"], body["count"]["status"]) == ([], [], "cancelled")
    assert line.status_code == 409, line.text
    assert (line.json()["error"], line.json()["reason"]) == ("rejected", "count_not_open")
    for refused in (closed, twice):
        assert (refused.status_code, refused.json()["error"]) == (409, "conflict"), refused.text
    assert unknown.status_code == 404
    balance = await writer.get("/api/v1/balances", params={"sku": sku, "location": site.wh})
    assert q(balance.json()["balances"][0]["on_hand"]) == 10
    await assert_books_balance(stock_engine, [sku])


async def test_a_cancelled_count_is_listed_with_its_status_and_no_expected_figures(
    writer, stock_runtime, site
):
    sku = await stocked(writer, stock_runtime, site, 10)
    opened = await writer.post("/api/v1/counts", json={"location": site.wh})
    count_id = opened.json()["count"]["count_id"]
    await writer.post(f"/api/v1/counts/{count_id}/lines", json={"sku": sku, "counted": "7"})
    await writer.post(f"/api/v1/counts/{count_id}/cancel")

    listed = await writer.get("/api/v1/counts", params={"location": site.wh, "status": "cancelled"})
    detail = await writer.get(f"/api/v1/counts/{count_id}")

    [row] = listed.json()["counts"]
    assert (row["count_id"], row["status"], row["accuracy"]) == (count_id, "cancelled", None)
    assert row["closed_at"] is not None
    [counted] = detail.json()["lines"]
    assert (q(counted["counted"]), counted["expected"], counted["variance"]) == (7, None, None)
