"""What network monitoring reports of a device: a failure of an installed device makes it
faulty and records a failure, degraded and recovered set its health, and every report is a
sighting, also for serials the records do not have."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from assets_refs import device, device_in, eventually, life, outbox_events, publish, ref, sites

from stockwire.assets.tables import sightings
from stockwire.contracts import network


def report(kind: type[network.DeviceEvent], serial: str, **extra) -> network.DeviceEvent:
    return kind(
        serial=serial,
        severity=extra.pop("severity", network.Severity.CRITICAL),
        source=network.MonitoringSource.ALERTMANAGER,
        **extra,
    )


async def installed(producer, reader) -> tuple[str, str, object]:
    s = await sites(producer)
    serial, sku = ref("SN"), ref("ONT")
    for step in life(serial, sku, s, datetime.now(UTC) - timedelta(days=3)):
        await publish(producer, step)
    await device_in(reader, serial, "installed")
    return serial, sku, s


async def test_a_failure_of_an_installed_device_makes_it_faulty_and_is_recorded_once(
    producer, reader, assets_runtime
):
    serial, _, s = await installed(producer, reader)
    down = report(network.DeviceFailed, serial, site=s.customer, detail="ONT LOS")
    await publish(producer, down, producer_name="alertmanager")
    await publish(producer, down, producer_name="alertmanager")

    found = await device_in(reader, serial, "faulty")

    assert found is not None
    published = await outbox_events(assets_runtime.engine, serial)
    failures = [e for e in published if e["event_type"] == "assets.failure.recorded"]
    assert [(f["payload"]["source"], f["payload"]["symptom"]) for f in failures] == [
        ("monitoring", "ONT LOS")
    ]
    assert found["device"]["location"] == s.customer


async def test_a_device_reported_down_is_alerted_with_its_models_failure_rate_until_it_recovers(
    producer, reader, assets_runtime
):
    serial, sku, s = await installed(producer, reader)
    await publish(
        producer,
        report(network.DeviceFailed, serial, site=s.customer, detail="ONT LOS"),
        producer_name="alertmanager",
    )
    key = f"device_failed:{serial}"
    [raised] = await eventually(lambda: outbox_events(assets_runtime.engine, key), bool)

    alert = raised["payload"]
    assert raised["event_type"] == "assets.alert.raised"
    assert (alert["kind"], alert["serial"], alert["sku"], alert["location"]) == (
        "device_failed",
        serial,
        sku,
        s.customer,
    )
    assert alert["labels"]["location_kind"] == "customer_site"
    assert alert["figures"]["model_failures"] == "1"
    assert float(alert["figures"]["failures_per_device_year"]) > 0
    assert "times per device-year" in alert["summary"]

    await publish(
        producer,
        report(network.DeviceRecovered, serial, severity=network.Severity.INFO),
        producer_name="alertmanager",
    )
    events = await eventually(
        lambda: outbox_events(assets_runtime.engine, key), lambda found: len(found) == 2
    )
    assert [e["event_type"] for e in events] == ["assets.alert.raised", "assets.alert.resolved"]


async def test_degraded_then_recovered_sets_and_clears_the_health_and_a_new_firmware_is_logged(
    producer, reader
):
    serial, _, _ = await installed(producer, reader)
    await publish(
        producer,
        report(
            network.DeviceDegraded,
            serial,
            severity=network.Severity.WARNING,
            firmware_version="3FE49568IJHK15",
        ),
        producer_name="alertmanager",
    )
    degraded = await eventually(
        lambda: device(reader, serial),
        lambda found: found is not None and found["device"]["health"] == "degraded",
    )
    assert degraded is not None and degraded["device"]["health"] == "degraded"
    assert degraded["device"]["firmware_version"] == "3FE49568IJHK15"
    log = (await reader.get(f"/api/v1/devices/{serial}/maintenance")).json()
    [upgrade] = log["entries"]
    assert (upgrade["kind"], upgrade["performed_by"], upgrade["firmware_version"]) == (
        "firmware_upgrade",
        "alertmanager",
        "3FE49568IJHK15",
    )

    await publish(
        producer,
        report(network.DeviceRecovered, serial, severity=network.Severity.INFO),
        producer_name="alertmanager",
    )

    recovered = await eventually(
        lambda: device(reader, serial),
        lambda found: found is not None and found["device"]["health"] == "ok",
    )
    assert recovered is not None
    assert recovered["device"]["state"] == "installed"


async def test_a_sighting_of_a_serial_nobody_recorded_is_kept_for_reconciliation(
    producer, assets_runtime
):
    serial = ref("SN")
    await publish(
        producer,
        report(
            network.DeviceSeen,
            serial,
            severity=network.Severity.INFO,
            site="POP-X",
            mac="AA-BB-CC-00-11-22",
        ),
        producer_name="librenms",
    )

    async def seen():
        async with assets_runtime.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(sightings.c.site, sightings.c.mac).where(sightings.c.serial == serial)
                )
            ).all()

    rows = await eventually(seen, bool)
    assert [tuple(row) for row in rows] == [("POP-X", "aa:bb:cc:00:11:22")]
