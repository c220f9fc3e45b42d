"""The periodic sweep through the real wiring: devices arrive through stock's movements,
models through the catalog, sightings through monitoring events; the sweep raises each
condition once, resolves it when it clears, and a sweep that finds nothing new publishes
nothing."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from assets_refs import device_in, movement, publish, ref
from sweep_refs import (
    alerts,
    catalog_has,
    installed,
    places,
    runs_firmware,
    seen,
    swept,
    warranty_ends,
)

from stockwire.assets.domain.warranty import add_months
from stockwire.assets.sweeps import JOB, sweep
from stockwire.contracts.vocabulary import MovementKind, ReturnCondition
from stockwire.runtime.periodic import job_key
from stockwire.runtime.relay import ADVISORY_NAMESPACE

LONG_AGO = timedelta(days=30)


def kinds(events):
    return [(what, payload.get("labels", {}).get("mismatch")) for what, payload in events]


async def test_a_device_installed_long_ago_the_network_never_saw_is_a_ghost_until_seen(
    producer, reader, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    serial = await installed(producer, reader, s, ref("ONT"), datetime.now(UTC) - LONG_AGO)
    key = f"reconciliation_mismatch:{serial}"

    await swept(assets_runtime, assets_settings)

    [(what, ghost)] = await alerts(assets_runtime, key)
    assert what == "raised"
    assert ghost["labels"]["mismatch"] == "ghost"
    assert ghost["severity"] == "warning"
    assert ghost["figures"]["days_unseen"] == "29"
    assert (ghost["serial"], ghost["location"], ghost["region"]) == (serial, s.customer, s.region)
    assert ghost["link"].endswith(f"/api/v1/devices/{serial}")

    again = await swept(assets_runtime, assets_settings)

    assert key not in again.raised and key not in again.resolved
    assert len(await alerts(assets_runtime, key)) == 1

    await seen(producer, assets_runtime, serial, s.customer)
    await swept(assets_runtime, assets_settings)

    assert kinds(await alerts(assets_runtime, key)) == [("raised", "ghost"), ("resolved", None)]


async def test_a_device_seen_at_another_site_is_misplaced_until_seen_where_recorded(
    producer, reader, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    serial = await installed(producer, reader, s, ref("ONT"), datetime.now(UTC) - timedelta(days=1))
    key = f"reconciliation_mismatch:{serial}"
    await seen(producer, assets_runtime, serial, s.customer)
    await swept(assets_runtime, assets_settings)
    assert await alerts(assets_runtime, key) == []

    await seen(producer, assets_runtime, serial, s.pop)
    await swept(assets_runtime, assets_settings)

    [(_, misplaced)] = await alerts(assets_runtime, key)
    assert misplaced["labels"]["mismatch"] == "misplaced"
    assert misplaced["labels"]["recorded_location"] == s.customer
    assert misplaced["labels"]["seen_site"] == s.pop
    assert s.pop in misplaced["summary"] and s.customer in misplaced["summary"]

    await seen(producer, assets_runtime, serial, s.customer)
    await swept(assets_runtime, assets_settings)

    assert kinds(await alerts(assets_runtime, key)) == [("raised", "misplaced"), ("resolved", None)]


async def test_a_sighting_under_another_name_with_a_recorded_mac_places_that_device(
    producer, reader, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    serial = await installed(producer, reader, s, ref("ONT"), datetime.now(UTC) - timedelta(days=1))
    mac = "02:00:5e:" + ":".join(ref("M")[-6:][i : i + 2] for i in (0, 2, 4)).lower()
    await seen(producer, assets_runtime, serial, s.customer, mac=mac.upper())
    hostname = ref("olt-port")

    await seen(producer, assets_runtime, hostname, s.pop, mac=mac)
    await swept(assets_runtime, assets_settings)

    [(_, misplaced)] = await alerts(assets_runtime, f"reconciliation_mismatch:{serial}")
    assert misplaced["labels"]["mismatch"] == "misplaced"
    assert misplaced["labels"]["seen_as"] == hostname
    assert misplaced["labels"]["mac"] == mac
    assert await alerts(assets_runtime, f"reconciliation_mismatch:{hostname}") == []


async def test_a_serial_the_records_do_not_have_is_an_unrecorded_device(
    producer, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    stranger = ref("SN")

    await seen(producer, assets_runtime, stranger, s.pop)
    await swept(assets_runtime, assets_settings)

    [(what, unrecorded)] = await alerts(assets_runtime, f"reconciliation_mismatch:{stranger}")
    assert what == "raised"
    assert unrecorded["labels"]["mismatch"] == "unrecorded"
    assert unrecorded["labels"]["serial"] == stranger
    assert unrecorded["serial"] is None
    assert (unrecorded["location"], unrecorded["region"]) == (s.pop, s.region)


async def test_a_sighting_older_than_the_window_says_nothing(
    producer, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    stranger = ref("SN")
    await seen(producer, assets_runtime, stranger, s.pop)

    await swept(assets_runtime, assets_settings, now=datetime.now(UTC) + timedelta(days=8))

    assert await alerts(assets_runtime, f"reconciliation_mismatch:{stranger}") == []


async def test_a_warranty_ending_soon_raises_an_alert_until_the_catalog_extends_it(
    producer, reader, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku, warranty_months=24)
    received = datetime.now(UTC) - timedelta(days=720)
    serial = await installed(producer, reader, s, sku, received)
    ends = add_months(received.date(), 24)
    assert await warranty_ends(reader, serial, None) == ends.isoformat()
    key = f"warranty_expiring:{serial}:{ends.isoformat()}"

    await swept(assets_runtime, assets_settings)

    [(_, expiring)] = await alerts(assets_runtime, key)
    assert expiring["severity"] == "info"
    assert expiring["figures"]["days_left"] == str((ends - datetime.now(UTC).date()).days)
    assert expiring["labels"]["warranty_ends"] == ends.isoformat()

    await catalog_has(producer, assets_runtime, sku, version=2, warranty_months=36)
    await warranty_ends(reader, serial, ends.isoformat())
    await swept(assets_runtime, assets_settings)

    assert [what for what, _ in await alerts(assets_runtime, key)] == ["raised", "resolved"]
    [(_, resolved)] = [
        event for event in await alerts(assets_runtime, key) if event[0] == "resolved"
    ]
    assert resolved["serial"] == serial
    assert "extended" in resolved["summary"]


async def test_a_device_leaving_service_resolves_its_warranty_alert(
    producer, reader, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku, warranty_months=24)
    received = datetime.now(UTC) - timedelta(days=720)
    serial = await installed(producer, reader, s, sku, received)
    key = f"warranty_expiring:{serial}:{add_months(received.date(), 24).isoformat()}"
    await warranty_ends(reader, serial, None)
    await swept(assets_runtime, assets_settings)
    assert len(await alerts(assets_runtime, key)) == 1

    back = movement(
        MovementKind.RETURN,
        serial,
        sku,
        s.warehouse,
        to_location=s.warehouse,
        condition=ReturnCondition.GOOD,
    )
    await publish(producer, back)
    await device_in(reader, serial, "in_stock")
    await swept(assets_runtime, assets_settings)

    assert [what for what, _ in await alerts(assets_runtime, key)] == ["raised", "resolved"]


async def test_firmware_below_the_minimum_raises_until_the_minimum_is_lowered(
    producer, reader, writer, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku)
    serial = await installed(producer, reader, s, sku, datetime.now(UTC) - timedelta(days=1))
    upgraded = await installed(producer, reader, s, sku, datetime.now(UTC) - timedelta(days=1))
    await runs_firmware(writer, serial, "3.2.9")
    await runs_firmware(writer, upgraded, "3.2.10")
    answer = await writer.put(
        f"/api/v1/firmware-minimums/{sku}",
        json={"minimum_version": "3.2.10", "reason": "vendor advisory VSA-2026-01"},
    )
    assert answer.status_code == 200, answer.text
    key = f"firmware_below_minimum:{serial}"

    await swept(assets_runtime, assets_settings)

    [(_, below)] = await alerts(assets_runtime, key)
    assert below["severity"] == "critical"
    assert below["labels"]["firmware_version"] == "3.2.9"
    assert below["labels"]["minimum_version"] == "3.2.10"
    assert below["category"] == "ont"
    assert await alerts(assets_runtime, f"firmware_below_minimum:{upgraded}") == []

    lowered = await writer.put(
        f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "3.2.9"}
    )
    assert lowered.status_code == 200, lowered.text
    await swept(assets_runtime, assets_settings)

    assert [what for what, _ in await alerts(assets_runtime, key)] == ["raised", "resolved"]


async def test_an_upgrade_resolves_the_firmware_alert_and_removing_the_minimum_clears_all(
    producer, reader, writer, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku)
    first = await installed(producer, reader, s, sku, datetime.now(UTC) - timedelta(days=1))
    second = await installed(producer, reader, s, sku, datetime.now(UTC) - timedelta(days=1))
    for serial in (first, second):
        await runs_firmware(writer, serial, "R21.4b")
    await writer.put(f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "R21.10a"})
    await swept(assets_runtime, assets_settings)

    await runs_firmware(writer, first, "R21.10a")
    await swept(assets_runtime, assets_settings)
    assert [w for w, _ in await alerts(assets_runtime, f"firmware_below_minimum:{first}")] == [
        "raised",
        "resolved",
    ]
    assert [w for w, _ in await alerts(assets_runtime, f"firmware_below_minimum:{second}")] == [
        "raised"
    ]

    assert (await writer.delete(f"/api/v1/firmware-minimums/{sku}")).status_code == 204
    await swept(assets_runtime, assets_settings)

    assert [w for w, _ in await alerts(assets_runtime, f"firmware_below_minimum:{second}")] == [
        "raised",
        "resolved",
    ]


async def test_models_nearing_their_end_and_devices_past_it_are_alerted_with_the_base(
    producer, reader, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    nearing, ended = ref("ONT"), ref("RTR")
    today = datetime.now(UTC).date()
    eol = today + timedelta(days=60)
    await catalog_has(producer, assets_runtime, nearing, end_of_sale=today, end_of_life=eol)
    await catalog_has(producer, assets_runtime, ended, end_of_life=today - timedelta(days=10))
    since = datetime.now(UTC) - timedelta(days=1)
    for _ in range(2):
        await installed(producer, reader, s, nearing, since)
    old = await installed(producer, reader, s, ended, since)

    await swept(assets_runtime, assets_settings)

    [(_, life)] = await alerts(assets_runtime, f"end_of_life_approaching:{nearing}:{eol}")
    assert life["severity"] == "warning"
    assert life["figures"] == {"days_left": "60", "installed_base": "2", "owned": "2"}
    assert life["sku"] == nearing and life["serial"] is None
    [(_, sale)] = await alerts(assets_runtime, f"end_of_sale_approaching:{nearing}:{today}")
    assert sale["figures"]["days_left"] == "0"
    [(_, past)] = await alerts(assets_runtime, f"installed_past_end_of_life:{old}")
    assert past["severity"] == "warning"
    assert past["figures"] == {"days_past_end_of_life": "10"}

    later = date.fromordinal(today.toordinal() + 400)
    await catalog_has(
        producer, assets_runtime, nearing, version=2, end_of_sale=today, end_of_life=later
    )
    await catalog_has(producer, assets_runtime, ended, version=2, end_of_life=later)
    await swept(assets_runtime, assets_settings)

    for key in (f"end_of_life_approaching:{nearing}:{eol}", f"installed_past_end_of_life:{old}"):
        assert [what for what, _ in await alerts(assets_runtime, key)] == ["raised", "resolved"]
    assert [
        w for w, _ in await alerts(assets_runtime, f"end_of_sale_approaching:{nearing}:{today}")
    ] == ["raised"]


async def test_while_another_instance_sweeps_this_one_skips_and_publishes_nothing(
    producer, reader, assets_runtime, assets_settings
):
    s = await places(producer, assets_runtime)
    serial = await installed(producer, reader, s, ref("ONT"), datetime.now(UTC) - LONG_AGO)

    key = f"reconciliation_mismatch:{serial}"

    async with assets_runtime.engine.begin() as other:
        await other.execute(
            sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_NAMESPACE, job_key(JOB)))
        )
        before = await alerts(assets_runtime, key)
        skipped = await sweep(assets_runtime, assets_settings)
        after = await alerts(assets_runtime, key)

    assert skipped is None
    assert after == before
