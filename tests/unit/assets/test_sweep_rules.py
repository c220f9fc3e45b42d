"""The conditions a sweep raises alerts for, decided without a database: warranties
ending, models nearing end of sale or life, devices past end of life or below their
minimum firmware, and records disagreeing with the network."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from stockwire.assets.domain.alerts import changes
from stockwire.assets.domain.reconciliation import (
    Mismatch,
    Recorded,
    Sighting,
    mismatch,
    mismatch_alert,
)
from stockwire.assets.domain.sweeps import (
    SWEPT,
    Installed,
    ModelDates,
    WarrantyTerms,
    firmware_alerts,
    model_date_alerts,
    past_end_of_life_alerts,
    resolution,
    warranty_alerts,
)
from stockwire.contracts.assets import AssetAlertRaised, AssetAlertResolved
from stockwire.contracts.ids import new_id
from stockwire.contracts.vocabulary import AlertSeverity, AssetAlertKind, DeviceState

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
WINDOW = timedelta(days=7)
ONT = Installed("SN-1", "ONT-X", "CUST-1", "NORTH", "ont")


def terms(received: date, months: int | None = 24, override: date | None = None):
    return WarrantyTerms(
        datetime(received.year, received.month, received.day, tzinfo=UTC), months, override
    )


# ---------------------------------------------------------------------------- warranty


@pytest.mark.parametrize(
    ("ends", "raised"),
    [
        (TODAY, True),
        (TODAY + timedelta(days=30), True),
        (TODAY + timedelta(days=31), False),
        (TODAY - timedelta(days=1), False),
    ],
)
def test_a_warranty_ending_within_the_window_and_not_yet_ended_raises_an_alert(ends, raised):
    found = warranty_alerts([(ONT, terms(date(2020, 1, 1), None, ends))], TODAY, 30)
    assert bool(found) is raised


def test_the_warranty_alert_names_the_device_its_end_and_the_days_left():
    received = date(2024, 7, 1)  # 24 months: ends 2026-07-01, in 16 days

    [alert] = warranty_alerts([(ONT, terms(received))], TODAY, 30)

    assert alert.kind is AssetAlertKind.WARRANTY_EXPIRING
    assert alert.severity is AlertSeverity.INFO
    assert alert.dedup_key == "warranty_expiring:SN-1:2026-07-01"
    assert (alert.serial, alert.sku, alert.location, alert.region, alert.category) == (
        "SN-1",
        "ONT-X",
        "CUST-1",
        "NORTH",
        "ont",
    )
    assert alert.figures == {"days_left": Decimal(16)}
    assert alert.labels["warranty_ends"] == "2026-07-01"


def test_a_device_with_no_known_warranty_raises_nothing():
    assert warranty_alerts([(ONT, terms(date(2024, 7, 1), None))], TODAY, 30) == []


def test_extending_a_warranty_within_the_window_resolves_the_old_date_and_raises_the_new():
    before = warranty_alerts([(ONT, terms(date(2024, 7, 1)))], TODAY, 30)
    active = {a.dedup_key: a.kind.value for a in before}

    after = warranty_alerts([(ONT, terms(date(2024, 7, 1), override=date(2026, 7, 10)))], TODAY, 30)
    raised, resolved = changes(after, active, SWEPT)

    assert [a.dedup_key for a in raised] == ["warranty_expiring:SN-1:2026-07-10"]
    assert resolved == ["warranty_expiring:SN-1:2026-07-01"]


# ------------------------------------------------------------------------ model dates


def model(**overrides):
    fields = {
        "sku": "ONT-X",
        "category": "ont",
        "end_of_sale": None,
        "end_of_life": None,
        "installed": 40,
        "owned": 55,
    }
    return ModelDates(**(fields | overrides))


def test_end_of_sale_and_end_of_life_within_the_window_raise_one_alert_each_with_the_base():
    eos, eol = TODAY + timedelta(days=10), TODAY + timedelta(days=180)

    found = model_date_alerts([model(end_of_sale=eos, end_of_life=eol)], TODAY, 180)

    by_kind = {a.kind: a for a in found}
    assert set(by_kind) == {
        AssetAlertKind.END_OF_SALE_APPROACHING,
        AssetAlertKind.END_OF_LIFE_APPROACHING,
    }
    sale = by_kind[AssetAlertKind.END_OF_SALE_APPROACHING]
    life = by_kind[AssetAlertKind.END_OF_LIFE_APPROACHING]
    assert sale.dedup_key == f"end_of_sale_approaching:ONT-X:{eos.isoformat()}"
    assert sale.severity is AlertSeverity.INFO
    assert life.severity is AlertSeverity.WARNING
    assert life.figures == {
        "days_left": Decimal(180),
        "installed_base": Decimal(40),
        "owned": Decimal(55),
    }
    assert life.labels == {"end_of_life": eol.isoformat()}
    assert life.serial is None and life.sku == "ONT-X"


@pytest.mark.parametrize(
    "dates",
    [
        {"end_of_life": TODAY + timedelta(days=181)},
        {"end_of_life": TODAY - timedelta(days=1)},
        {"end_of_life": TODAY + timedelta(days=5), "installed": 0},
        {},
    ],
)
def test_no_model_alert_outside_the_window_or_without_an_installed_base(dates):
    assert model_date_alerts([model(**dates)], TODAY, 180) == []


def test_a_moved_end_of_life_resolves_the_old_date_and_raises_the_new():
    first = model_date_alerts([model(end_of_life=TODAY + timedelta(days=30))], TODAY, 180)
    moved = model_date_alerts([model(end_of_life=TODAY + timedelta(days=90))], TODAY, 180)

    raised, resolved = changes(moved, {a.dedup_key: a.kind.value for a in first}, SWEPT)

    assert [a.dedup_key for a in raised] == [moved[0].dedup_key]
    assert resolved == [first[0].dedup_key]


# ---------------------------------------------------------------- past end of life


def test_an_installed_device_is_past_end_of_life_from_the_day_after():
    assert past_end_of_life_alerts([(ONT, TODAY)], TODAY) == []

    [alert] = past_end_of_life_alerts([(ONT, TODAY - timedelta(days=3))], TODAY)

    assert alert.kind is AssetAlertKind.INSTALLED_PAST_END_OF_LIFE
    assert alert.severity is AlertSeverity.WARNING
    assert alert.dedup_key == "installed_past_end_of_life:SN-1"
    assert alert.figures == {"days_past_end_of_life": Decimal(3)}


# ----------------------------------------------------------------------- firmware


def test_a_device_below_its_models_minimum_raises_a_critical_alert():
    devices = [
        (ONT, "3.2.9"),
        (Installed("SN-2", "ONT-X", "CUST-2", "NORTH"), "3.2.10"),
        (Installed("SN-3", "RTR-Y", "CUST-3", "NORTH"), "0.1"),
    ]

    [alert] = firmware_alerts(devices, {"ONT-X": "3.2.10"})

    assert alert.kind is AssetAlertKind.FIRMWARE_BELOW_MINIMUM
    assert alert.severity is AlertSeverity.CRITICAL
    assert alert.dedup_key == "firmware_below_minimum:SN-1"
    assert alert.labels["firmware_version"] == "3.2.9"
    assert alert.labels["minimum_version"] == "3.2.10"
    assert alert.labels["comparable"] == "yes"


def test_firmware_that_cannot_be_compared_with_the_minimum_is_alerted_as_such():
    [alert] = firmware_alerts([(ONT, "custom-build")], {"ONT-X": "3.2.10"})

    assert alert.labels["comparable"] == "no"
    assert "not comparable with the minimum 3.2.10" in alert.summary


def test_lowering_the_minimum_resolves_the_alert():
    before = firmware_alerts([(ONT, "3.2.9")], {"ONT-X": "3.2.10"})
    after = firmware_alerts([(ONT, "3.2.9")], {"ONT-X": "3.2.9"})

    raised, resolved = changes(after, {a.dedup_key: a.kind.value for a in before}, SWEPT)

    assert (raised, resolved) == ([], ["firmware_below_minimum:SN-1"])


# -------------------------------------------------------------------- reconciliation


def recorded(**overrides):
    fields = {
        "serial": "SN-1",
        "sku": "ONT-X",
        "state": DeviceState.INSTALLED,
        "location": "CUST-1",
        "region": "NORTH",
        "installed_since": NOW - timedelta(days=30),
    }
    return Recorded(**(fields | overrides))


def seen(site: str | None = "CUST-1", ago: timedelta = timedelta(hours=1), **overrides):
    fields = {"serial": "SN-1", "mac": None, "site": site, "source": "librenms"}
    return Sighting(**(fields | overrides), seen_at=NOW - ago)


@pytest.mark.parametrize(
    ("device", "sighting", "expected"),
    [
        (recorded(), seen(), None),
        (recorded(), seen("POP-9"), Mismatch.MISPLACED),
        (recorded(state=DeviceState.IN_STOCK, location="WH-1"), seen("POP-9"), Mismatch.MISPLACED),
        (recorded(), seen(None), None),
        (None, seen("POP-9"), Mismatch.UNRECORDED),
        (None, seen("POP-9", ago=timedelta(days=8)), None),
        (recorded(), None, Mismatch.GHOST),
        (recorded(), seen(ago=timedelta(days=8)), Mismatch.GHOST),
        (recorded(), seen("POP-9", ago=timedelta(days=8)), Mismatch.GHOST),
        (recorded(installed_since=NOW - timedelta(days=6)), None, None),
        (recorded(state=DeviceState.IN_STOCK, installed_since=None), None, None),
    ],
    ids=[
        "confirmed",
        "misplaced",
        "in-stock-seen-elsewhere",
        "seen-without-site",
        "unrecorded",
        "unrecorded-but-old",
        "never-seen",
        "not-seen-lately",
        "seen-elsewhere-long-ago",
        "installed-too-recently",
        "not-installed",
    ],
)
def test_records_and_network_are_compared_within_the_window(device, sighting, expected):
    assert mismatch(device, sighting, NOW, WINDOW) is expected


def test_a_misplaced_device_alert_says_where_it_is_recorded_and_where_it_is_seen():
    alert = mismatch_alert(
        recorded(category="ont"), seen("POP-9", mac="aa:bb:cc:00:11:22"), NOW, WINDOW
    )

    assert alert is not None
    assert alert.dedup_key == "reconciliation_mismatch:SN-1"
    assert alert.severity is AlertSeverity.WARNING
    assert (alert.serial, alert.sku, alert.location, alert.category) == (
        "SN-1",
        "ONT-X",
        "CUST-1",
        "ont",
    )
    assert alert.labels["mismatch"] == "misplaced"
    assert alert.labels["recorded_location"] == "CUST-1"
    assert alert.labels["seen_site"] == "POP-9"
    assert alert.labels["mac"] == "aa:bb:cc:00:11:22"


def test_a_ghost_alert_counts_the_days_unseen():
    alert = mismatch_alert(recorded(), seen(ago=timedelta(days=9, hours=2)), NOW, WINDOW)

    assert alert is not None
    assert alert.labels["mismatch"] == "ghost"
    assert alert.figures == {"days_unseen": Decimal(9)}


def test_an_unrecorded_device_alert_names_the_serial_seen_but_no_device():
    alert = mismatch_alert(None, seen("POP-9", serial="SN-NEW", region="SOUTH"), NOW, WINDOW)

    assert alert is not None
    assert alert.dedup_key == "reconciliation_mismatch:SN-NEW"
    assert alert.serial is None
    assert (alert.location, alert.region) == ("POP-9", "SOUTH")
    assert alert.labels["serial"] == "SN-NEW"
    assert alert.labels["mismatch"] == "unrecorded"


# ------------------------------------------------------------ what gets published


def test_every_swept_alert_and_resolution_fits_the_contract():
    alerts = [
        *warranty_alerts([(ONT, terms(date(2024, 7, 1)))], TODAY, 30),
        *model_date_alerts([model(end_of_life=TODAY)], TODAY, 180),
        *past_end_of_life_alerts([(ONT, TODAY - timedelta(days=1))], TODAY),
        *firmware_alerts([(ONT, "x" * 64)], {"ONT-X": "9"}),
        mismatch_alert(recorded(serial="S" * 128), seen("P" * 64, serial="S" * 128), NOW, WINDOW),
        mismatch_alert(None, seen("P" * 64, serial="U" * 128), NOW, WINDOW),
    ]
    assert {a.kind for a in alerts if a is not None} == set(SWEPT) - {
        AssetAlertKind.END_OF_SALE_APPROACHING
    }
    for alert in alerts:
        assert alert is not None
        AssetAlertRaised(
            alert_id=new_id(),
            kind=alert.kind.value,
            severity=alert.severity,
            dedup_key=alert.dedup_key,
            summary=alert.summary[:500],
            raised_at=NOW,
            serial=alert.serial,
            sku=alert.sku,
            region=alert.region,
            location=alert.location,
            category=alert.category,
            labels=dict(alert.labels),
            figures=dict(alert.figures),
        )
        done = resolution(
            alert.kind.value,
            alert.dedup_key,
            serial=alert.serial,
            sku=alert.sku,
            region=alert.region,
            location=alert.location,
        )
        AssetAlertResolved(
            kind=done.kind,
            dedup_key=done.dedup_key,
            summary=done.summary,
            resolved_at=NOW,
            serial=done.serial,
            sku=done.sku,
        )


def test_a_resolution_says_why_the_condition_of_its_kind_cleared():
    done = resolution(
        "firmware_below_minimum", "firmware_below_minimum:SN-1", serial="SN-1", sku="ONT-X"
    )

    assert done.summary.startswith("SN-1 (ONT-X) no longer runs firmware below")
    unrecorded = resolution("reconciliation_mismatch", "reconciliation_mismatch:SN:9")
    assert unrecorded.summary == "the records and the network agree again on SN:9"
