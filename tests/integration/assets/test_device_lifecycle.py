"""Stock's movements of serials move devices through their lifecycle: each device's
state, place and timeline follow, refusals are published with an alert, and duplicates
and out-of-order deliveries leave the state right, applied once."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from assets_refs import (
    device,
    device_in,
    eventually,
    item,
    life,
    location,
    movement,
    outbox_events,
    publish,
    ref,
    send_envelope,
    sites,
)

from stockwire.assets.sweeps import sweep
from stockwire.assets.tables import parked_facts
from stockwire.contracts.vocabulary import LocationKind, MovementKind, ReturnCondition


async def test_a_device_follows_its_movements_from_receipt_to_installation(
    producer, reader, assets_runtime
):
    s = await sites(producer)
    serial, sku = ref("SN"), ref("ONT")
    await publish(producer, item(sku, warranty_months=24), producer_name="catalog")
    start = datetime.now(UTC) - timedelta(days=10)
    for step, state in zip(
        life(serial, sku, s, start), ("in_stock", "allocated", "installed"), strict=True
    ):
        # One at a time: stock keys movements by sku@location, so a serial's install (keyed
        # by the customer site) may otherwise overtake its issue (see the next test).
        await publish(producer, step)
        found = await device_in(reader, serial, state)

    assert found is not None
    now = found["device"]
    assert (now["state"], now["location"], now["location_kind"], now["region"]) == (
        "installed",
        s.customer,
        "customer_site",
        s.region,
    )
    assert now["warranty_ends"] == (start.date().replace(year=start.year + 2)).isoformat()
    kinds = [entry["kind"] for entry in found["timeline"]]
    assert kinds.count("movement") == 3
    assert kinds.count("state_changed") == 3
    published = await outbox_events(assets_runtime.engine, serial)
    states = [
        (e["payload"]["from_state"], e["payload"]["to_state"])
        for e in published
        if e["event_type"] == "assets.device.state-changed"
    ]
    assert states == [(None, "in_stock"), ("in_stock", "allocated"), ("allocated", "installed")]


async def test_an_install_that_overtakes_its_receipt_is_applied_once_the_receipt_arrives(
    producer, reader
):
    s = await sites(producer)
    serial, sku = ref("SN"), ref("ONT")
    receipt, issue, install = life(serial, sku, s, datetime.now(UTC) - timedelta(hours=5))
    for step in (install, issue):
        await publish(producer, step)
    parked = await eventually(
        lambda: reader.get("/api/v1/devices", params={"serial": serial}),
        lambda answer: answer.status_code == 200,
    )
    assert parked.json()["devices"] == []

    await publish(producer, receipt)

    found = await device_in(reader, serial, "installed")
    assert found is not None
    assert found["device"]["location"] == s.customer


async def test_a_redelivered_movement_is_applied_once(producer, reader, assets_runtime):
    s = await sites(producer)
    serial, sku = ref("SN"), ref("ONT")
    receipt, issue, _ = life(serial, sku, s, datetime.now(UTC) - timedelta(hours=5))
    await publish(producer, receipt)
    sent = await publish(producer, issue)
    await send_envelope(producer, issue, sent)
    await device_in(reader, serial, "allocated")
    await asyncio.sleep(1.0)

    found = await device(reader, serial)

    assert found is not None
    assert [e["kind"] for e in found["timeline"]].count("movement") == 2
    published = await outbox_events(assets_runtime.engine, serial)
    assert len([e for e in published if e["event_type"] == "assets.device.state-changed"]) == 2


async def test_an_illegal_transition_is_refused_published_and_alerted(
    producer, reader, assets_runtime
):
    s = await sites(producer)
    serial, sku = ref("SN"), ref("ONT")
    now = datetime.now(UTC)
    await publish(
        producer,
        movement(MovementKind.RECEIPT, serial, sku, s.warehouse, at=now - timedelta(hours=3)),
    )
    await device_in(reader, serial, "in_stock")
    await publish(
        producer,
        movement(
            MovementKind.RETURN,
            serial,
            sku,
            s.warehouse,
            at=now - timedelta(hours=2),
            condition=ReturnCondition.FAULTY,
        ),
    )
    await device_in(reader, serial, "faulty")
    await publish(
        producer,
        movement(
            MovementKind.INSTALL,
            serial,
            sku,
            s.customer,
            at=now - timedelta(hours=1),
            to_location=s.customer,
        ),
    )

    alert_key = f"rejected_transition:{serial}"
    alerts = await eventually(
        lambda: outbox_events(assets_runtime.engine, alert_key), lambda found: bool(found)
    )
    [raised] = alerts
    assert raised["event_type"] == "assets.alert.raised"
    assert raised["payload"]["serial"] == serial
    assert raised["payload"]["labels"]["reason"] == "illegal_transition"
    assert raised["payload"]["link"] == f"https://assets.example.net/api/v1/devices/{serial}"
    found = await device(reader, serial)
    assert found is not None
    assert found["device"]["state"] == "faulty"
    published = await outbox_events(assets_runtime.engine, serial)
    [rejected] = [e for e in published if e["event_type"] == "assets.transition.rejected"]
    assert rejected["payload"]["current_state"] == "faulty"
    assert rejected["payload"]["attempted_state"] == "installed"
    failures = [e for e in published if e["event_type"] == "assets.failure.recorded"]
    assert [f["payload"]["source"] for f in failures] == ["faulty_return"]


async def test_a_device_nobody_has_is_a_404_and_search_needs_a_token(reader, anonymous):
    assert (await reader.get(f"/api/v1/devices/{ref('SN')}")).status_code == 404
    assert (await anonymous.get("/api/v1/devices")).status_code == 401


async def test_search_by_a_malformed_mac_is_a_422_naming_the_field(reader):
    answer = await reader.get("/api/v1/devices", params={"mac": "not-a-mac"})
    assert answer.status_code == 422
    assert "mac" in answer.text


async def test_a_device_at_a_location_the_catalog_copy_learns_of_later_gets_its_region(
    producer, reader
):
    serial, sku, warehouse, region = ref("SN"), ref("ONT"), ref("WH"), ref("REG")
    await publish(producer, movement(MovementKind.RECEIPT, serial, sku, warehouse))
    before = await device_in(reader, serial, "in_stock")
    assert before is not None
    assert before["device"]["region"] is None

    await publish(
        producer, location(warehouse, LocationKind.WAREHOUSE, region), producer_name="catalog"
    )

    after = await eventually(
        lambda: device(reader, serial),
        lambda found: found is not None and found["device"]["region"] == region,
    )
    assert after is not None
    assert (after["device"]["region"], after["device"]["location_kind"]) == (region, "warehouse")


async def test_a_fact_whose_serial_never_arrives_is_refused_once_then_applied_when_it_does(
    producer, reader, assets_runtime, assets_settings
):
    s = await sites(producer)
    serial, sku = ref("SN"), ref("ONT")
    receipt, _, install = life(serial, sku, s, datetime.now(UTC) - timedelta(hours=5))
    await publish(producer, install)
    await eventually(lambda: parked(assets_runtime, serial), bool)
    key = f"rejected_transition:{serial}"
    later = datetime.now(UTC) + timedelta(hours=1)
    for _ in range(2):
        await eventually(
            lambda: sweep(assets_runtime, assets_settings, now=later), lambda s: s is not None
        )
    [alert] = await outbox_events(assets_runtime.engine, key)
    assert alert["payload"]["labels"]["reason"] == "unknown_serial"
    refused = [
        e
        for e in await outbox_events(assets_runtime.engine, serial)
        if e["event_type"] == "assets.transition.rejected"
    ]
    assert [(e["payload"]["reason"], e["payload"]["attempted_state"]) for e in refused] == [
        ("unknown_serial", "installed")
    ]

    await publish(producer, receipt)

    found = await device_in(reader, serial, "installed")
    assert found is not None
    events = await eventually(
        lambda: outbox_events(assets_runtime.engine, key), lambda found: len(found) == 2
    )
    assert [e["event_type"] for e in events] == ["assets.alert.raised", "assets.alert.resolved"]


async def parked(runtime, serial: str) -> int:
    async with runtime.engine.connect() as conn:
        return int(
            await conn.scalar(sa.select(sa.func.count()).where(parked_facts.c.serial == serial))
            or 0
        )


async def test_a_late_install_rebuilds_the_device_so_its_operating_time_counts(
    producer, reader, assets_runtime
):
    s = await sites(producer)
    serial, sku = ref("SN"), ref("ONT")
    start = datetime.now(UTC) - timedelta(hours=10)
    receipt, issue, install = life(serial, sku, s, start)
    returned = movement(
        MovementKind.RETURN,
        serial,
        sku,
        s.warehouse,
        at=start + timedelta(hours=5),
        condition=ReturnCondition.FAULTY,
    )
    for step, state in ((receipt, "in_stock"), (issue, "allocated"), (returned, "faulty")):
        await publish(producer, step)
        await device_in(reader, serial, state)
    late = install.model_copy(update={"recorded_at": start + timedelta(hours=3)})

    await publish(producer, late)

    found = await eventually(
        lambda: device(reader, serial),
        lambda found: (
            found is not None and any(e["kind"] == "superseded" for e in found["timeline"])
        ),
    )
    assert found is not None
    assert found["device"]["state"] == "faulty"
    assert Decimal(found["device"]["operating_hours"]) == Decimal("2.000")
    published = await outbox_events(assets_runtime.engine, serial)
    changes = [
        (e["payload"]["from_state"], e["payload"]["to_state"])
        for e in published
        if e["event_type"] == "assets.device.state-changed"
    ]
    assert changes == [(None, "in_stock"), ("in_stock", "allocated"), ("allocated", "faulty")]
