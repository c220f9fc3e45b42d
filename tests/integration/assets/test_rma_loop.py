"""The RMA loop over HTTP: a faulty device's RMA is opened, shipped and closed as
repaired (refurbished, then back in stock with stock's next movement), replaced (retired;
the replacement unit records which one it replaces, whether assets knew it already or
first hears of it later) or scrapped (retired). The state machine's refusals are 409s
that write nothing; the RMA list and report read what was done."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from assets_refs import (
    device,
    device_in,
    event_types,
    eventually,
    faulty,
    in_stock,
    installed,
    movement,
    outbox_events,
    publish,
    ref,
)

from stockwire.assets.tables import rmas
from stockwire.contracts.vocabulary import MovementKind


def rma_body(**changes: Any) -> dict[str, Any]:
    body = {"vendor": "Nokia", "rma_number": ref("RMA"), "reason": "no light", "opened_by": "ops"}
    return body | changes


async def open_rma(writer, serial: str, **changes: Any) -> dict[str, Any]:
    answer = await writer.post(f"/api/v1/devices/{serial}/rmas", json=rma_body(**changes))
    assert answer.status_code == 201, answer.text
    opened: dict[str, Any] = answer.json()
    return opened


def rma_path(rma: dict[str, Any], step: str) -> str:
    return f"/api/v1/rmas/{rma['vendor']}/{rma['rma_number']}/{step}"


async def state(reader, serial: str) -> str:
    found = await device(reader, serial)
    assert found is not None
    return str(found["device"]["state"])


async def test_a_repaired_unit_goes_round_the_loop_and_back_into_stock(
    producer, reader, writer, assets_runtime
):
    unit = await faulty(producer, reader, writer)

    rma = await open_rma(writer, unit.serial)
    opened_state = await state(reader, unit.serial)
    shipped = await writer.post(rma_path(rma, "ship"))
    shipped_state = await state(reader, unit.serial)
    closed = await writer.post(rma_path(rma, "close"), json={"outcome": "repaired"})

    assert (rma["serial"], rma["sku"], rma["closed_at"]) == (unit.serial, unit.sku, None)
    assert (opened_state, shipped_state) == ("rma_open", "in_repair")
    assert shipped.status_code == 200 and shipped.json()["shipped_at"] is not None
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome"] == "repaired"
    assert await state(reader, unit.serial) == "refurbished"
    published = await outbox_events(assets_runtime.engine, unit.serial)
    steps = [
        (e["event_type"], e["payload"].get("to_state"))
        for e in published
        if e["event_type"] != "assets.failure.recorded"
    ][-5:]
    assert steps == [
        ("assets.rma.opened", None),
        ("assets.device.state-changed", "rma_open"),
        ("assets.device.state-changed", "in_repair"),
        ("assets.rma.closed", None),
        ("assets.device.state-changed", "refurbished"),
    ]
    [rma_closed] = [e for e in published if e["event_type"] == "assets.rma.closed"]
    assert rma_closed["payload"]["opened_at"] == published[-5]["payload"]["opened_at"]

    back = movement(
        MovementKind.TRANSFER_RECEIVE,
        unit.serial,
        unit.sku,
        unit.sites.warehouse,
        to_location=unit.sites.warehouse,
    )
    await publish(producer, back)
    assert await device_in(reader, unit.serial, "in_stock") is not None
    found = await device(reader, unit.serial)
    assert found is not None
    kinds = [e["kind"] for e in found["timeline"]]
    assert [k for k in kinds if k.startswith("rma_")] == ["rma_opened", "rma_shipped", "rma_closed"]


async def test_a_replacement_assets_knows_is_linked_when_the_rma_closes(
    producer, reader, writer, assets_runtime
):
    unit = await faulty(producer, reader, writer)
    replacement = await in_stock(producer, reader)
    rma = await open_rma(writer, unit.serial, vendor="Adtran")

    closed = await writer.post(
        rma_path(rma, "close"),
        json={"outcome": "replaced", "replacement_serial": replacement.serial},
    )

    assert closed.status_code == 200, closed.text
    assert closed.json()["replacement_serial"] == replacement.serial
    assert await state(reader, unit.serial) == "retired"
    found = await device(reader, replacement.serial)
    assert found is not None
    assert found["device"]["replaces_serial"] == unit.serial
    [row] = [e for e in found["timeline"] if e["kind"] == "replacement"]
    assert row["detail"] == {
        "replaces_serial": unit.serial,
        "vendor": "Adtran",
        "rma_number": rma["rma_number"],
    }
    published = await outbox_events(assets_runtime.engine, unit.serial)
    [event] = [e for e in published if e["event_type"] == "assets.rma.closed"]
    assert event["payload"]["replacement_serial"] == replacement.serial


async def test_a_replacement_stock_receives_later_is_linked_when_it_first_appears(
    producer, reader, writer
):
    unit = await faulty(producer, reader, writer)
    newcomer = ref("SN")
    rma = await open_rma(writer, unit.serial)
    closed = await writer.post(
        rma_path(rma, "close"), json={"outcome": "replaced", "replacement_serial": newcomer}
    )
    assert closed.status_code == 200, closed.text
    assert await device(reader, newcomer) is None

    receipt = movement(
        MovementKind.RECEIPT,
        newcomer,
        unit.sku,
        unit.sites.warehouse,
        to_location=unit.sites.warehouse,
    )
    await publish(producer, receipt)

    found = await device_in(reader, newcomer, "in_stock")
    assert found is not None
    assert found["device"]["replaces_serial"] == unit.serial
    assert "replacement" in [e["kind"] for e in found["timeline"]]


async def test_a_scrapped_unit_is_retired(producer, reader, writer):
    unit = await faulty(producer, reader, writer)
    rma = await open_rma(writer, unit.serial)

    closed = await writer.post(rma_path(rma, "close"), json={"outcome": "scrapped"})

    assert closed.status_code == 200, closed.text
    assert await state(reader, unit.serial) == "retired"


async def test_an_rma_for_a_device_that_is_not_faulty_is_refused_and_writes_nothing(
    producer, reader, writer, assets_runtime
):
    unit = await installed(producer, reader)
    before = await outbox_events(assets_runtime.engine, unit.serial)
    body = rma_body()

    answer = await writer.post(f"/api/v1/devices/{unit.serial}/rmas", json=body)

    assert answer.status_code == 409
    assert answer.json()["problems"][0]["field"] == "illegal_transition"
    assert "installed" in answer.json()["detail"]
    assert await state(reader, unit.serial) == "installed"
    assert await outbox_events(assets_runtime.engine, unit.serial) == before
    listed = await reader.get("/api/v1/rmas", params={"serial": unit.serial})
    assert listed.json()["rmas"] == []


async def test_a_device_has_one_open_rma_and_a_vendors_number_is_used_once(
    producer, reader, writer
):
    unit = await faulty(producer, reader, writer)
    other = await faulty(producer, reader, writer)
    rma = await open_rma(writer, unit.serial)

    second = await writer.post(f"/api/v1/devices/{unit.serial}/rmas", json=rma_body())
    reused = await writer.post(
        f"/api/v1/devices/{other.serial}/rmas",
        json=rma_body(vendor=rma["vendor"], rma_number=rma["rma_number"]),
    )

    assert second.status_code == 409
    assert reused.status_code == 409
    assert reused.json()["problems"][0]["field"] == "rma_number"
    assert await state(reader, other.serial) == "faulty"


async def test_an_rma_is_shipped_once_and_closed_once(producer, reader, writer):
    unit = await faulty(producer, reader, writer)
    rma = await open_rma(writer, unit.serial)
    await writer.post(rma_path(rma, "ship"))

    shipped_again = await writer.post(rma_path(rma, "ship"))
    closed = await writer.post(rma_path(rma, "close"), json={"outcome": "scrapped"})
    closed_again = await writer.post(rma_path(rma, "close"), json={"outcome": "repaired"})

    assert shipped_again.status_code == 409
    assert shipped_again.json()["problems"][0]["field"] == "rma_shipped"
    assert closed.status_code == 200
    assert closed_again.status_code == 409
    assert closed_again.json()["problems"][0]["field"] == "rma_closed"
    assert await state(reader, unit.serial) == "retired"


async def test_a_replacement_named_by_another_rma_already_is_refused(producer, reader, writer):
    first, second = [await faulty(producer, reader, writer) for _ in range(2)]
    newcomer = ref("SN")
    one, two = await open_rma(writer, first.serial), await open_rma(writer, second.serial)
    replaced = {"outcome": "replaced", "replacement_serial": newcomer}
    assert (await writer.post(rma_path(one, "close"), json=replaced)).status_code == 200

    answer = await writer.post(rma_path(two, "close"), json=replaced)

    assert answer.status_code == 409
    assert answer.json()["problems"][0]["field"] == "replacement_serial"
    assert await state(reader, second.serial) == "rma_open"


async def test_retrying_an_rma_with_its_idempotency_key_opens_it_once(producer, reader, writer):
    unit = await faulty(producer, reader, writer)
    key = {"Idempotency-Key": ref("req")}
    body = rma_body()
    path = f"/api/v1/devices/{unit.serial}/rmas"

    first = await writer.post(path, json=body, headers=key)
    again = await writer.post(path, json=body, headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    listed = await reader.get("/api/v1/rmas", params={"serial": unit.serial})
    assert len(listed.json()["rmas"]) == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("rmas", rma_body(vendor="Nokia/Alcatel"), 422, "vendor"),
        ("rmas", rma_body(rma_number="R" * 65), 422, "rma_number"),
        ("rmas", rma_body(reason=""), 422, "reason"),
        ("rmas", rma_body(opened_by="\tops"), 422, "opened_by"),
        ("close", {"outcome": "replaced"}, 422, "replacement_serial"),
        ("close", {"outcome": "repaired", "replacement_serial": "SN-X"}, 422, "replacement_serial"),
        ("close", {"outcome": "fixed"}, 422, "outcome"),
    ],
    ids=[
        "vendor-with-slash",
        "oversized-number",
        "empty-reason",
        "actor-with-tab",
        "replaced-without-replacement",
        "replacement-when-repaired",
        "unknown-outcome",
    ],
)
async def test_malformed_rma_commands_are_refused_and_write_nothing(
    producer, reader, writer, path, body, status, field
):
    unit = await faulty(producer, reader, writer)
    rma = await open_rma(writer, unit.serial) if path == "close" else None
    url = rma_path(rma, "close") if rma else f"/api/v1/devices/{unit.serial}/rmas"

    answer = await writer.post(url, json=body)

    assert answer.status_code == status, answer.text
    assert field in [p["field"] for p in answer.json()["problems"]]
    assert await state(reader, unit.serial) == ("rma_open" if rma else "faulty")


async def test_unknown_rmas_and_serials_are_not_found_and_commands_need_write(
    writer, reader, anonymous
):
    missing = f"/api/v1/rmas/Nokia/{ref('RMA')}"

    assert (await writer.post(f"{missing}/ship")).status_code == 404
    assert (await writer.post(f"{missing}/close", json={"outcome": "scrapped"})).status_code == 404
    unknown = f"/api/v1/devices/{ref('SN')}/rmas"
    assert (await writer.post(unknown, json=rma_body())).status_code == 404
    assert (await reader.post(unknown, json=rma_body())).status_code == 403
    assert (await anonymous.post(f"{missing}/ship")).status_code == 401
    assert (await anonymous.get("/api/v1/rmas")).status_code == 401
    assert (await anonymous.get("/api/v1/reports/rmas")).status_code == 401


async def test_rmas_are_listed_open_or_closed_by_vendor_a_page_at_a_time(producer, reader, writer):
    vendor = ref("VENDOR")
    units = [await faulty(producer, reader, writer) for _ in range(3)]
    opened = [await open_rma(writer, u.serial, vendor=vendor) for u in units]
    await writer.post(rma_path(opened[0], "close"), json={"outcome": "scrapped"})

    open_now = await reader.get("/api/v1/rmas", params={"vendor": vendor, "open": "true"})
    first = await reader.get("/api/v1/rmas", params={"vendor": vendor, "limit": 2})
    rest = await reader.get(
        "/api/v1/rmas", params={"vendor": vendor, "limit": 2, "cursor": first.json()["next_cursor"]}
    )
    closed = await reader.get("/api/v1/rmas", params={"vendor": vendor, "open": "false"})

    numbers = [r["rma_number"] for r in opened]
    assert [r["rma_number"] for r in open_now.json()["rmas"]] == numbers[1:]
    paged = first.json()["rmas"] + rest.json()["rmas"]
    assert [r["rma_number"] for r in paged] == numbers
    assert rest.json()["next_cursor"] is None
    assert [r["rma_number"] for r in closed.json()["rmas"]] == numbers[:1]


async def test_the_report_gives_refurbish_yield_per_model_and_turnaround_per_vendor(
    reader, assets_runtime
):
    vendor, sku = ref("VENDOR"), ref("ONT")
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    closes = [(2, "repaired"), (4, "repaired"), (9, "scrapped"), (5, "repaired"), (None, None)]
    async with assets_runtime.engine.begin() as conn:
        await conn.execute(
            sa.insert(rmas),
            [
                {
                    "vendor": vendor,
                    "rma_number": str(uuid.uuid4()),
                    "serial": ref("SN"),
                    "sku": sku,
                    "reason": "dead",
                    "opened_by": "ops",
                    "opened_at": start,
                    "closed_at": start + timedelta(days=days) if days is not None else None,
                    "outcome": outcome,
                }
                for days, outcome in closes
            ],
        )

    answer = await reader.get("/api/v1/reports/rmas")

    assert answer.status_code == 200, answer.text
    [model] = [m for m in answer.json()["models"] if m["sku"] == sku]
    assert model == {
        "sku": sku,
        "open": 1,
        "closed": 4,
        "repaired": 3,
        "replaced": 0,
        "scrapped": 1,
        "refurbish_yield": "0.7500",
    }
    [figures] = [v for v in answer.json()["vendors"] if v["vendor"] == vendor]
    assert figures == {
        "vendor": vendor,
        "open": 1,
        "closed": 4,
        "mean_turnaround_days": "5.00",
        "median_turnaround_days": "4.50",
    }


async def test_the_refused_install_of_a_unit_in_an_rma_is_alerted(
    producer, reader, writer, assets_runtime
):
    unit = await faulty(producer, reader, writer)
    await open_rma(writer, unit.serial)
    install = movement(
        MovementKind.INSTALL,
        unit.serial,
        unit.sku,
        unit.sites.customer,
        to_location=unit.sites.customer,
        at=datetime.now(UTC),
    )

    await publish(producer, install)

    alerts = await eventually(
        lambda: outbox_events(assets_runtime.engine, f"rejected_transition:{unit.serial}"),
        lambda found: bool(found),
    )
    assert event_types(alerts) == ["assets.alert.raised"]
    assert await state(reader, unit.serial) == "rma_open"
