"""A warranty set by hand, and failures people report, over HTTP: the override wins over
the model's warranty until it is cleared; a reported failure is recorded and published
and makes the device faulty, through the same state machine as stock's movements."""

from datetime import UTC, date, datetime, timedelta

import pytest
from assets_refs import (
    device,
    event_types,
    eventually,
    in_stock,
    installed,
    item,
    now_iso,
    outbox_events,
    publish,
    ref,
    retired,
)


async def test_a_warranty_set_by_hand_wins_until_it_is_cleared(producer, reader, writer):
    unit = await in_stock(producer, reader)
    await publish(producer, item(unit.sku, warranty_months=12), producer_name="catalog")
    known = await eventually(
        lambda: device(reader, unit.serial),
        lambda found: found is not None and found["device"]["warranty_ends"] is not None,
    )
    assert known is not None
    models = known["device"]["warranty_ends"]
    path = f"/api/v1/devices/{unit.serial}/warranty"

    extended = await writer.put(path, json={"ends_on": "2031-06-30"})
    cleared = await writer.put(path, json={"ends_on": None})

    assert extended.status_code == 200, extended.text
    assert extended.json()["warranty_ends"] == "2031-06-30"
    assert cleared.status_code == 200
    assert cleared.json()["warranty_ends"] == models
    received = datetime.fromisoformat(known["device"]["received_at"]).date()
    assert models == date(received.year + 1, received.month, received.day).isoformat()
    found = await device(reader, unit.serial)
    assert found is not None
    rows = [e for e in found["timeline"] if e["kind"] == "warranty"]
    assert [r["detail"]["ends_on"] for r in rows] == ["2031-06-30", None]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_on": "2031-02-30"}, "ends_on"),
        ({"ends_on": "2031-06-30T00:00:00Z"}, "ends_on"),
        ({"ends_on": 20310630}, "ends_on"),
        ({}, "ends_on"),
        ({"ends_on": None, "by": "me"}, "by"),
    ],
    ids=["no-such-day", "a-time", "a-number", "missing", "unknown-field"],
)
async def test_a_malformed_warranty_is_refused_and_changes_nothing(
    producer, reader, writer, body, field
):
    unit = await in_stock(producer, reader)

    answer = await writer.put(f"/api/v1/devices/{unit.serial}/warranty", json=body)

    assert answer.status_code == 422, answer.text
    assert field in [p["field"] for p in answer.json()["problems"]]
    found = await device(reader, unit.serial)
    assert found is not None
    assert [e for e in found["timeline"] if e["kind"] == "warranty"] == []


async def test_the_warranty_of_an_unknown_serial_is_not_found_and_needs_write(
    writer, reader, anonymous
):
    path = f"/api/v1/devices/{ref('SN')}/warranty"

    assert (await writer.put(path, json={"ends_on": None})).status_code == 404
    assert (await reader.put(path, json={"ends_on": None})).status_code == 403
    assert (await anonymous.put(path, json={"ends_on": None})).status_code == 401


async def test_a_reported_failure_of_an_installed_device_is_recorded_and_makes_it_faulty(
    producer, reader, writer, assets_runtime
):
    unit = await installed(producer, reader)
    failed_at = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()

    answer = await writer.post(
        f"/api/v1/devices/{unit.serial}/failures",
        json={"symptom": "LOS on the PON port", "failed_at": failed_at},
    )

    assert answer.status_code == 201, answer.text
    reported = answer.json()
    assert (reported["state"], reported["source"], reported["sku"]) == (
        "faulty",
        "operator",
        unit.sku,
    )
    found = await device(reader, unit.serial)
    assert found is not None
    assert found["device"]["state"] == "faulty"
    published = await outbox_events(assets_runtime.engine, unit.serial)
    [failure] = [e for e in published if e["event_type"] == "assets.failure.recorded"]
    assert failure["payload"]["failure_id"] == reported["failure_id"]
    assert failure["payload"]["location"] == unit.sites.customer
    assert event_types(published)[-2:] == [
        "assets.failure.recorded",
        "assets.device.state-changed",
    ]
    assert published[-1]["payload"]["from_state"] == "installed"


async def test_a_failure_found_by_maintenance_in_stock_makes_the_device_faulty(
    producer, reader, writer
):
    unit = await in_stock(producer, reader)

    answer = await writer.post(
        f"/api/v1/devices/{unit.serial}/failures",
        json={"symptom": "dead on arrival", "failed_at": now_iso(), "source": "maintenance"},
    )

    assert answer.status_code == 201, answer.text
    assert (answer.json()["state"], answer.json()["source"]) == ("faulty", "maintenance")


async def test_a_second_report_of_a_faulty_device_is_a_conflict_and_writes_nothing(
    producer, reader, writer, assets_runtime
):
    unit = await installed(producer, reader)
    path = f"/api/v1/devices/{unit.serial}/failures"
    first = await writer.post(path, json={"symptom": "no light", "failed_at": now_iso()})
    before = await outbox_events(assets_runtime.engine, unit.serial)

    again = await writer.post(path, json={"symptom": "still no light", "failed_at": now_iso()})

    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json()["problems"][0]["field"] == "state"
    assert await outbox_events(assets_runtime.engine, unit.serial) == before


async def test_a_failure_before_the_devices_last_fact_is_a_conflict_on_failed_at(
    producer, reader, writer, assets_runtime
):
    unit = await installed(producer, reader)
    before = await outbox_events(assets_runtime.engine, unit.serial)
    long_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()

    answer = await writer.post(
        f"/api/v1/devices/{unit.serial}/failures",
        json={"symptom": "no light", "failed_at": long_ago},
    )

    assert answer.status_code == 409
    assert answer.json()["problems"][0]["field"] == "failed_at"
    assert await outbox_events(assets_runtime.engine, unit.serial) == before


async def test_a_failure_of_a_retired_device_is_refused_by_the_state_machine(
    producer, reader, writer
):
    unit = await retired(producer, reader)

    answer = await writer.post(
        f"/api/v1/devices/{unit.serial}/failures",
        json={"symptom": "no light", "failed_at": now_iso()},
    )

    assert answer.status_code == 409
    assert answer.json()["problems"][0]["field"] == "illegal_transition"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"symptom": "x" * 501, "failed_at": "2026-01-01T00:00:00Z"}, "symptom"),
        ({"symptom": "no light", "failed_at": "2026-01-01T00:00:00"}, "failed_at"),
        ({"symptom": "no light", "failed_at": "2999-01-01T00:00:00Z"}, "failed_at"),
        ({"symptom": "no light", "failed_at": now_iso(), "source": "monitoring"}, "source"),
        ({"failed_at": "2026-01-01T00:00:00Z"}, "symptom"),
    ],
    ids=["oversized-symptom", "no-zone", "future", "monitoring-has-its-intake", "missing"],
)
async def test_a_malformed_failure_is_refused_and_writes_nothing(
    producer, reader, writer, body, field
):
    unit = await installed(producer, reader)

    answer = await writer.post(f"/api/v1/devices/{unit.serial}/failures", json=body)

    assert answer.status_code == 422, answer.text
    assert field in [p["field"] for p in answer.json()["problems"]]
    found = await device(reader, unit.serial)
    assert found is not None
    assert found["device"]["state"] == "installed"
