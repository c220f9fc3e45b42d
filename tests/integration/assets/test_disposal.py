"""Disposal over HTTP: only a retired device is disposed of, with its certificate; the
disposal and the state change are published, and the serial never comes back: stock's
later movements of it are refused and alerted, and nothing more is recorded of it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from assets_refs import (
    device,
    event_types,
    eventually,
    installed,
    movement,
    now_iso,
    outbox_events,
    publish,
    ref,
    retired,
)

from stockwire.assets.tables import disposals
from stockwire.contracts.vocabulary import MovementKind


def disposal(**changes: Any) -> dict[str, Any]:
    body = {
        "method": "recycled",
        "certificate_reference": ref("WEEE"),
        "handled_by": "GreenCycle GmbH",
        "disposed_by": "ops",
        "disposed_at": now_iso(),
    }
    return body | changes


async def disposal_rows(engine, serial: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(disposals).where(disposals.c.serial == serial))
        return [dict(row._mapping) for row in rows]


async def test_a_retired_device_is_disposed_of_with_its_certificate(
    producer, reader, writer, assets_runtime
):
    unit = await retired(producer, reader)
    body = disposal(note="batch 14")

    answer = await writer.post(f"/api/v1/devices/{unit.serial}/disposal", json=body)

    assert answer.status_code == 201, answer.text
    assert answer.json()["certificate_reference"] == body["certificate_reference"]
    found = await device(reader, unit.serial)
    assert found is not None
    assert found["device"]["state"] == "disposed"
    [row] = [e for e in found["timeline"] if e["kind"] == "disposed"]
    assert row["detail"]["certificate_reference"] == body["certificate_reference"]
    [kept] = await disposal_rows(assets_runtime.engine, unit.serial)
    assert (kept["method"], kept["handled_by"], kept["sku"]) == (
        "recycled",
        "GreenCycle GmbH",
        unit.sku,
    )
    published = await outbox_events(assets_runtime.engine, unit.serial)
    assert event_types(published)[-2:] == ["assets.device.disposed", "assets.device.state-changed"]
    assert published[-2]["payload"]["certificate_reference"] == body["certificate_reference"]
    assert (published[-1]["payload"]["from_state"], published[-1]["payload"]["to_state"]) == (
        "retired",
        "disposed",
    )


async def test_a_device_that_is_not_retired_is_not_disposed_of(
    producer, reader, writer, assets_runtime
):
    unit = await installed(producer, reader)
    before = await outbox_events(assets_runtime.engine, unit.serial)

    answer = await writer.post(f"/api/v1/devices/{unit.serial}/disposal", json=disposal())

    assert answer.status_code == 409
    assert answer.json()["problems"][0]["field"] == "illegal_transition"
    assert await disposal_rows(assets_runtime.engine, unit.serial) == []
    assert await outbox_events(assets_runtime.engine, unit.serial) == before


async def test_a_disposed_serial_never_comes_back(producer, reader, writer, assets_runtime):
    unit = await retired(producer, reader)
    disposed = await writer.post(f"/api/v1/devices/{unit.serial}/disposal", json=disposal())
    assert disposed.status_code == 201, disposed.text

    receipt = movement(
        MovementKind.RECEIPT,
        unit.serial,
        unit.sku,
        unit.sites.warehouse,
        at=datetime.now(UTC) + timedelta(seconds=1),
        to_location=unit.sites.warehouse,
    )
    await publish(producer, receipt)

    alerts = await eventually(
        lambda: outbox_events(assets_runtime.engine, f"rejected_transition:{unit.serial}"),
        lambda found: bool(found),
    )
    [alert] = alerts
    assert alert["payload"]["severity"] == "critical"
    assert alert["payload"]["labels"]["reason"] == "disposed"
    published = await outbox_events(assets_runtime.engine, unit.serial)
    [rejected] = [e for e in published if e["event_type"] == "assets.transition.rejected"]
    assert (rejected["payload"]["reason"], rejected["payload"]["attempted_state"]) == (
        "disposed",
        "in_stock",
    )
    found = await device(reader, unit.serial)
    assert found is not None
    assert found["device"]["state"] == "disposed"
    assert "transition_rejected" in [e["kind"] for e in found["timeline"]]


async def test_nothing_more_is_recorded_of_a_disposed_device(
    producer, reader, writer, assets_runtime
):
    unit = await retired(producer, reader)
    path = f"/api/v1/devices/{unit.serial}"
    assert (await writer.post(f"{path}/disposal", json=disposal())).status_code == 201
    before = await outbox_events(assets_runtime.engine, unit.serial)

    answers = [
        await writer.post(f"{path}/disposal", json=disposal()),
        await writer.post(
            f"{path}/maintenance",
            json={
                "kind": "inspection",
                "performed_by": "tech",
                "performed_at": now_iso(),
                "outcome": "ok",
            },
        ),
        await writer.post(f"{path}/failures", json={"symptom": "dead", "failed_at": now_iso()}),
        await writer.put(f"{path}/warranty", json={"ends_on": "2030-01-01"}),
    ]

    assert [a.status_code for a in answers] == [409, 409, 409, 409]
    assert {a.json()["problems"][0]["field"] for a in answers} == {"disposed"}
    assert len(await disposal_rows(assets_runtime.engine, unit.serial)) == 1
    assert await outbox_events(assets_runtime.engine, unit.serial) == before


async def test_a_disposal_before_the_devices_last_fact_is_a_conflict(producer, reader, writer):
    unit = await retired(producer, reader)
    long_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()

    answer = await writer.post(
        f"/api/v1/devices/{unit.serial}/disposal", json=disposal(disposed_at=long_ago)
    )

    assert answer.status_code == 409
    assert answer.json()["problems"][0]["field"] == "disposed_at"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": "burned"}, "method"),
        ({"certificate_reference": "C" * 129}, "certificate_reference"),
        ({"certificate_reference": ""}, "certificate_reference"),
        ({"handled_by": "x" * 201}, "handled_by"),
        ({"disposed_at": "2026-01-01T00:00:00"}, "disposed_at"),
        ({"disposed_at": "2999-01-01T00:00:00Z"}, "disposed_at"),
        ({"note": "x" * 501}, "note"),
    ],
    ids=[
        "unknown-method",
        "oversized-certificate",
        "empty-certificate",
        "oversized-recycler",
        "no-zone",
        "future",
        "oversized-note",
    ],
)
async def test_a_malformed_disposal_is_refused_and_writes_nothing(
    producer, reader, writer, assets_runtime, changes, field
):
    unit = await retired(producer, reader)

    answer = await writer.post(f"/api/v1/devices/{unit.serial}/disposal", json=disposal(**changes))

    assert answer.status_code == 422, answer.text
    assert field in [p["field"] for p in answer.json()["problems"]]
    assert await disposal_rows(assets_runtime.engine, unit.serial) == []


async def test_disposal_needs_the_write_scope_and_a_known_serial(writer, reader, anonymous):
    path = f"/api/v1/devices/{ref('SN')}/disposal"

    assert (await anonymous.post(path, json=disposal())).status_code == 401
    assert (await reader.post(path, json=disposal())).status_code == 403
    assert (await writer.post(path, json=disposal())).status_code == 404


async def test_retrying_a_disposal_with_its_idempotency_key_gets_the_first_answer(
    producer, reader, writer, assets_runtime
):
    unit = await retired(producer, reader)
    key = {"Idempotency-Key": ref("req")}
    body = disposal()
    path = f"/api/v1/devices/{unit.serial}/disposal"

    first = await writer.post(path, json=body, headers=key)
    again = await writer.post(path, json=body, headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    published = await outbox_events(assets_runtime.engine, unit.serial)
    assert event_types(published).count("assets.device.disposed") == 1
