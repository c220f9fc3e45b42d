"""A device's maintenance log over HTTP: entries are appended (never changed), published
and put on the timeline; a firmware upgrade becomes the device's firmware unless a later
one is known; retries with an Idempotency-Key are applied once; malformed, unknown or
unauthorized requests write nothing."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from assets_refs import device, in_stock, installed, outbox_events, ref

NOW = datetime.now(UTC)


def entry(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "inspection",
        "performed_by": "tech-7",
        "performed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "outcome": "optical levels within range",
    }
    return body | changes


async def log(reader, serial: str, **params: Any) -> dict[str, Any]:
    answer = await reader.get(f"/api/v1/devices/{serial}/maintenance", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_an_entry_is_appended_published_and_on_the_timeline(
    producer, reader, writer, assets_runtime
):
    unit = await installed(producer, reader)

    answer = await writer.post(
        f"/api/v1/devices/{unit.serial}/maintenance",
        json=entry(kind="service_call", cost="85.5", currency="EUR", note="fan replaced"),
    )

    assert answer.status_code == 201, answer.text
    recorded = answer.json()
    assert (recorded["serial"], recorded["sku"], recorded["kind"]) == (
        unit.serial,
        unit.sku,
        "service_call",
    )
    assert (recorded["cost"], recorded["currency"]) == ("85.5000", "EUR")
    assert (await log(reader, unit.serial))["entries"] == [recorded]
    published = await outbox_events(assets_runtime.engine, unit.serial)
    [event] = [e for e in published if e["event_type"] == "assets.maintenance.recorded"]
    assert event["payload"]["maintenance_id"] == recorded["maintenance_id"]
    assert event["payload"]["cost"] == "85.5000"
    found = await device(reader, unit.serial)
    assert found is not None
    [row] = [e for e in found["timeline"] if e["kind"] == "maintenance"]
    assert row["detail"]["maintenance_id"] == recorded["maintenance_id"]
    assert found["device"]["state"] == "installed"


async def test_a_firmware_upgrade_is_the_devices_firmware_unless_a_later_one_is_known(
    producer, reader, writer
):
    unit = await installed(producer, reader)
    path = f"/api/v1/devices/{unit.serial}/maintenance"
    at = datetime.now(UTC)

    newer = await writer.post(
        path,
        json=entry(
            kind="firmware_upgrade",
            firmware_version="3.2.1",
            performed_at=(at - timedelta(minutes=10)).isoformat(),
        ),
    )
    older = await writer.post(
        path,
        json=entry(
            kind="firmware_upgrade",
            firmware_version="3.1.0",
            performed_at=(at - timedelta(hours=3)).isoformat(),
        ),
    )

    assert (newer.status_code, older.status_code) == (201, 201)
    found = await device(reader, unit.serial)
    assert found is not None
    assert found["device"]["firmware_version"] == "3.2.1"
    entries = (await log(reader, unit.serial))["entries"]
    assert [e["firmware_version"] for e in entries] == ["3.2.1", "3.1.0"]
    rows = [e for e in found["timeline"] if e["kind"] == "maintenance"]
    assert [r["detail"]["firmware_version"] for r in rows] == [None, "3.2.1"]


async def test_the_log_is_read_a_page_at_a_time_latest_first(producer, reader, writer):
    unit = await in_stock(producer, reader)
    at = datetime.now(UTC)
    for hours in (3, 1, 2):
        performed = (at - timedelta(hours=hours)).isoformat()
        answer = await writer.post(
            f"/api/v1/devices/{unit.serial}/maintenance",
            json=entry(performed_at=performed, outcome=f"{hours}h ago"),
        )
        assert answer.status_code == 201, answer.text

    first = await log(reader, unit.serial, limit=2)
    rest = await log(reader, unit.serial, limit=2, cursor=first["next_cursor"])

    outcomes = [e["outcome"] for e in first["entries"] + rest["entries"]]
    assert outcomes == ["1h ago", "2h ago", "3h ago"]
    assert rest["next_cursor"] is None


async def test_a_retry_with_the_same_idempotency_key_is_answered_once(producer, reader, writer):
    unit = await in_stock(producer, reader)
    path = f"/api/v1/devices/{unit.serial}/maintenance"
    key = {"Idempotency-Key": ref("req")}
    body = entry()

    first = await writer.post(path, json=body, headers=key)
    again = await writer.post(path, json=body, headers=key)
    other = await writer.post(path, json=entry(outcome="something else"), headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert other.status_code == 409
    assert other.json()["problems"][0]["field"] == "Idempotency-Key"
    assert len((await log(reader, unit.serial))["entries"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (entry(kind="polishing"), "kind"),
        (entry(performed_by="x" * 129), "performed_by"),
        (entry(performed_by=" tech-7"), "performed_by"),
        (entry(outcome="x" * 501), "outcome"),
        (entry(note="a\x00b"), "note"),
        (entry(cost="10"), "currency"),
        (entry(currency="USD"), "cost"),
        (entry(cost="10.12345", currency="USD"), "cost"),
        (entry(cost=-1, currency="USD"), "cost"),
        (entry(cost="1e3", currency="USD"), "cost"),
        (entry(cost="10", currency="usd"), "currency"),
        (entry(kind="firmware_upgrade"), "firmware_version"),
        (entry(performed_at="2026-01-01T10:00:00"), "performed_at"),
        (entry(performed_at=1767261600), "performed_at"),
        (entry(performed_at=(NOW + timedelta(days=1)).isoformat()), "performed_at"),
        (entry(extra="field"), "extra"),
        ({"kind": "inspection"}, "performed_by"),
    ],
    ids=[
        "unknown-kind",
        "oversized-actor",
        "actor-with-leading-space",
        "oversized-outcome",
        "nul",
        "cost-without-currency",
        "currency-without-cost",
        "cost-too-fine",
        "negative-cost",
        "cost-with-exponent",
        "currency-lower-case",
        "firmware-upgrade-without-version",
        "time-without-zone",
        "time-as-number",
        "time-in-the-future",
        "unknown-field",
        "missing-fields",
    ],
)
async def test_a_malformed_entry_is_refused_naming_the_field_and_writes_nothing(
    producer, reader, writer, body, field
):
    unit = await in_stock(producer, reader)

    answer = await writer.post(f"/api/v1/devices/{unit.serial}/maintenance", json=body)

    assert answer.status_code == 422, answer.text
    assert field in [p["field"] for p in answer.json()["problems"]]
    assert (await log(reader, unit.serial))["entries"] == []


async def test_a_lone_surrogate_is_refused_and_writes_nothing(producer, reader, writer):
    unit = await in_stock(producer, reader)
    raw = json.dumps(entry(outcome="PLACEHOLDER")).replace("PLACEHOLDER", "bad \\ud800 text")

    answer = await writer.post(
        f"/api/v1/devices/{unit.serial}/maintenance",
        content=raw,
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 422
    assert (await log(reader, unit.serial))["entries"] == []


@pytest.mark.parametrize(
    "serial",
    [ref("SN"), " SN-LEADING-SPACE", "SN%09TAB", "S" * 129],
    ids=["unknown", "leading-space", "control-character", "oversized"],
)
async def test_a_serial_no_device_has_is_not_found(writer, reader, serial):
    written = await writer.post(f"/api/v1/devices/{serial}/maintenance", json=entry())
    read = await reader.get(f"/api/v1/devices/{serial}/maintenance")

    assert (written.status_code, read.status_code) == (404, 404)


async def test_writing_needs_a_token_with_the_write_scope(producer, reader, anonymous):
    unit = await in_stock(producer, reader)
    path = f"/api/v1/devices/{unit.serial}/maintenance"

    unauthenticated = await anonymous.post(path, json=entry())
    read_only = await reader.post(path, json=entry())
    unread = await anonymous.get(path)

    assert (unauthenticated.status_code, read_only.status_code) == (401, 403)
    assert unread.status_code == 401
    assert (await log(reader, unit.serial))["entries"] == []


async def test_a_cursor_the_log_did_not_return_is_refused(producer, reader):
    unit = await in_stock(producer, reader)

    answer = await reader.get(
        f"/api/v1/devices/{unit.serial}/maintenance", params={"cursor": "bm90LWEtY3Vyc29y"}
    )

    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "cursor"
