"""What each monitoring sender posts, as it posts it, becomes device events (or skips
with a reason), with ids that make repeats recognisable: the request models of
``monitoring_payloads`` and the pure translation of ``domain.monitoring``, no I/O."""

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stockwire.assets.domain.monitoring import (
    MAX_DETAIL,
    DeviceReport,
    LabelMapping,
    Read,
    ReportKind,
    Skipped,
    from_alertmanager,
    from_librenms,
    from_zabbix,
)
from stockwire.assets.monitoring_payloads import (
    AlertmanagerNotification,
    LibreNmsAlertIn,
    ZabbixEventIn,
)
from stockwire.assets.settings import AssetsSettings
from stockwire.contracts.vocabulary import MonitoringSource, Severity

SAMPLES = Path(__file__).parent / "monitoring"
MAPPING = LabelMapping()


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return loaded


def alertmanager(body: dict[str, Any], mapping: LabelMapping = MAPPING) -> list[Read]:
    notification = AlertmanagerNotification.model_validate_json(json.dumps(body))
    return from_alertmanager([alert.domain() for alert in notification.alerts], mapping)


def zabbix(body: dict[str, Any], mapping: LabelMapping = MAPPING) -> Read:
    return from_zabbix(ZabbixEventIn.model_validate_json(json.dumps(body)).domain(), mapping)


def librenms(body: dict[str, Any], mapping: LabelMapping = MAPPING) -> Read:
    return from_librenms(LibreNmsAlertIn.model_validate_json(json.dumps(body)).domain(), mapping)


def report(read: Read) -> DeviceReport:
    assert isinstance(read, DeviceReport), read
    return read


def skipped(read: Read) -> Skipped:
    assert isinstance(read, Skipped), read
    return read


# Alertmanager -------------------------------------------------------------------------------


def test_a_firing_group_reports_each_device_and_skips_the_alert_without_a_serial():
    down, rx_low, cpu = alertmanager(sample("alertmanager_firing"))

    assert report(down) == DeviceReport(
        ref="5b4b3c2e1f0a9d87",
        event_id=report(down).event_id,
        kind=ReportKind.FAILED,
        serial="ALCLB2C4D6E8",
        severity=Severity.CRITICAL,
        source=MonitoringSource.ALERTMANAGER,
        observed_at=datetime(2025, 6, 13, 2, 17, 44, 512946, tzinfo=UTC),
        mac="e0:1f:2b:3c:4d:5e",
        site="CUST-099317",
        detail="OntDown: ONT ALCLB2C4D6E8 is down (LOS)",
        firmware_version="3FE49568IJHK15",
    )
    assert (report(rx_low).kind, report(rx_low).serial, report(rx_low).severity) == (
        ReportKind.DEGRADED,
        "ALCLF1234567",
        Severity.WARNING,
    )
    assert skipped(cpu) == Skipped(
        "0e7d66f1a2b3c4d5", "no serial: none of the labels serial, serial_number, sn is set"
    )


def test_a_resolution_is_a_recovery_at_its_end_with_an_id_of_its_own():
    [firing] = alertmanager(sample("alertmanager_firing"))[:1]
    [resolved] = alertmanager(sample("alertmanager_resolved"))

    recovery = report(resolved)
    assert (recovery.kind, recovery.severity, recovery.serial) == (
        ReportKind.RECOVERED,
        Severity.INFO,
        "ALCLB2C4D6E8",
    )
    assert recovery.observed_at == datetime(2025, 6, 13, 4, 58, 10, 4271, tzinfo=UTC)
    assert recovery.detail == "OntDown resolved: ONT ALCLB2C4D6E8 is down (LOS)"
    assert recovery.event_id != report(firing).event_id


def test_a_repeated_notification_keeps_the_event_id_even_with_new_wording():
    first = sample("alertmanager_firing")
    repeat = copy.deepcopy(first)
    repeat["alerts"][0]["annotations"]["summary"] = "ONT ALCLB2C4D6E8 is down (LOS), 3h"

    assert report(alertmanager(repeat)[0]).event_id == report(alertmanager(first)[0]).event_id


def test_the_same_alert_firing_again_later_is_a_new_event():
    again = sample("alertmanager_firing")
    again["alerts"][0]["startsAt"] = "2025-06-14T08:00:00Z"

    first = report(alertmanager(sample("alertmanager_firing"))[0])
    assert report(alertmanager(again)[0]).event_id != first.event_id


def test_an_event_id_is_the_documented_uuid5_of_fingerprint_start_and_status():
    down = report(alertmanager(sample("alertmanager_firing"))[0])

    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://stockwire.dev/monitoring-intake")
    key = "alertmanager|5b4b3c2e1f0a9d87|2025-06-13T02:17:44.512946+00:00|firing"
    assert down.event_id == uuid.uuid5(namespace, key)


@pytest.mark.parametrize("version", ["3", "5", 4, None])
def test_a_payload_version_other_than_4_is_refused_naming_the_version(version):
    body = sample("alertmanager_firing") | {"version": version}

    with pytest.raises(ValidationError) as refused:
        AlertmanagerNotification.model_validate_json(json.dumps(body))

    [error] = refused.value.errors()
    assert error["loc"] == ("version",)
    assert 'payload version "4" only' in error["msg"]


def test_a_payload_without_truncated_alerts_is_read_as_complete():
    body = sample("alertmanager_firing")
    del body["truncatedAlerts"]

    assert AlertmanagerNotification.model_validate_json(json.dumps(body)).truncated_alerts == 0


@pytest.mark.parametrize(
    ("missing", "where"),
    [("fingerprint", ("alerts", 0, "fingerprint")), ("startsAt", ("alerts", 0, "startsAt"))],
)
def test_an_alert_missing_a_field_is_refused_naming_it(missing, where):
    body = sample("alertmanager_firing")
    del body["alerts"][0][missing]

    with pytest.raises(ValidationError) as refused:
        AlertmanagerNotification.model_validate_json(json.dumps(body))

    assert [error["loc"] for error in refused.value.errors()] == [where]


def test_the_alert_name_decides_the_kind_before_the_severity():
    mapping = LabelMapping(kind_by_alert={"OntRxPowerLow": ReportKind.SEEN})

    _, rx_low, _ = alertmanager(sample("alertmanager_firing"), mapping)

    assert report(rx_low).kind is ReportKind.SEEN


def test_the_end_of_a_sighting_says_nothing_and_is_skipped():
    mapping = LabelMapping(kind_by_alert={"OntDown": ReportKind.SEEN})

    [resolved] = alertmanager(sample("alertmanager_resolved"), mapping)

    assert "the end of a 'seen' alert" in skipped(resolved).reason


def test_labels_are_tried_in_the_configured_order_in_any_case():
    body = sample("alertmanager_firing")
    body["alerts"][0]["labels"] |= {"SN": "FROM-SN", "Serial": "FROM-SERIAL"}
    del body["alerts"][0]["labels"]["serial"]

    down = alertmanager(body, LabelMapping(serial=("sn", "serial")))[0]

    assert report(down).serial == "FROM-SN"


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("E0:1F:2B:3C:4D:5E", "e0:1f:2b:3c:4d:5e"),
        ("e0-1f-2b-3c-4d-5e", "e0:1f:2b:3c:4d:5e"),
        ("e01f.2b3c.4d5e", "e0:1f:2b:3c:4d:5e"),
        ("E01F2B3C4D5E", "e0:1f:2b:3c:4d:5e"),
    ],
)
def test_a_mac_in_any_common_form_is_kept_lower_case_with_colons(written, kept):
    body = sample("alertmanager_firing")
    body["alerts"][0]["labels"]["mac"] = written

    assert report(alertmanager(body)[0]).mac == kept


@pytest.mark.parametrize(
    ("label", "value", "field", "note"),
    [
        ("mac", "e0:1f:2b:3c:4d", "mac", "the MAC was left out: it is not a MAC address"),
        ("site", " CUST-1", "site", "the site was left out: it must not start or end"),
        ("firmware", "x" * 65, "firmware_version", "the firmware version was left out: it must"),
    ],
)
def test_a_label_that_does_not_fit_is_left_out_with_a_note_and_the_event_kept(
    label, value, field, note
):
    body = sample("alertmanager_firing")
    body["alerts"][0]["labels"][label] = value

    down = report(alertmanager(body)[0])

    assert getattr(down, field) is None
    assert any(n.startswith(note) for n in down.notes), down.notes


@pytest.mark.parametrize("serial", ["ALCL\x00B2C4", " ALCLB2C4D6E8", "S" * 129])
def test_a_serial_that_is_not_plain_text_skips_the_alert(serial):
    body = sample("alertmanager_firing")
    body["alerts"][0]["labels"]["serial"] = serial

    assert skipped(alertmanager(body)[0]).reason.startswith("the serial ")


def test_an_unknown_severity_is_taken_as_warning_and_said():
    body = sample("alertmanager_firing")
    body["alerts"][0]["labels"]["severity"] = "sev1"

    down = report(alertmanager(body)[0])

    assert (down.kind, down.severity) == (ReportKind.DEGRADED, Severity.WARNING)
    assert down.notes[0].startswith("the severity is none of ")


@pytest.mark.parametrize(
    ("word", "severity"), [("PAGE", Severity.CRITICAL), ("error", Severity.MAJOR)]
)
def test_common_severity_words_are_understood(word, severity):
    body = sample("alertmanager_firing")
    body["alerts"][0]["labels"]["severity"] = word

    assert report(alertmanager(body)[0]).severity is severity


def test_the_detail_loses_control_characters_and_fits_the_contract():
    body = sample("alertmanager_firing")
    body["alerts"][0]["annotations"]["summary"] = "down\x00\x07 now\n" + "x" * 3000

    detail = report(alertmanager(body)[0]).detail

    assert detail is not None
    assert detail.startswith("OntDown: down   now\nxxx")
    assert len(detail) == MAX_DETAIL
    assert detail.endswith("…")


def test_a_time_whose_utc_is_before_the_calendar_is_read_as_its_first_day():
    body = sample("alertmanager_firing")
    body["alerts"][0]["startsAt"] = "0001-01-01T00:30:00+02:00"

    assert report(alertmanager(body)[0]).observed_at == datetime.min.replace(tzinfo=UTC)


# Zabbix -------------------------------------------------------------------------------------


def test_a_zabbix_problem_reports_the_device_its_tags_name():
    problem = report(zabbix(sample("zabbix_problem")))

    assert problem == DeviceReport(
        ref="4711023",
        event_id=problem.event_id,
        kind=ReportKind.FAILED,
        serial="FOC2235X1AB",
        severity=Severity.MAJOR,
        source=MonitoringSource.ZABBIX,
        observed_at=datetime(2025, 6, 13, 2, 17, 44, tzinfo=UTC),
        mac="a0:f8:49:12:3c:01",
        site="POP-TX-AUS-02",
        detail="SW AUS-02 core: Interface Te1/1/1(uplink OLT-AUS-02): Link down "
        "(Interface Te1/1/1(uplink OLT-AUS-02): Operational status: down (2))",
        firmware_version="17.9.4a",
    )


def test_a_zabbix_recovery_is_a_recovery_with_an_id_of_its_own():
    problem = report(zabbix(sample("zabbix_problem")))
    recovery = report(zabbix(sample("zabbix_recovery")))

    assert (recovery.kind, recovery.severity) == (ReportKind.RECOVERED, Severity.INFO)
    assert recovery.observed_at == datetime(2025, 6, 13, 4, 58, 10, tzinfo=UTC)
    assert (
        recovery.detail
        == "SW AUS-02 core: resolved: Interface Te1/1/1(uplink OLT-AUS-02): Link down"
    )
    assert recovery.event_id != problem.event_id
    assert report(zabbix(sample("zabbix_recovery"))).event_id == recovery.event_id


def test_a_zabbix_problem_update_is_skipped():
    update = sample("zabbix_problem") | {"event_update_status": 1}

    assert "problem update" in skipped(zabbix(update)).reason


@pytest.mark.parametrize(
    ("nseverity", "kind"),
    [
        (0, ReportKind.SEEN),
        (2, ReportKind.DEGRADED),
        (3, ReportKind.DEGRADED),
        (5, ReportKind.FAILED),
    ],
)
def test_zabbix_severities_map_to_kinds(nseverity, kind):
    assert report(zabbix(sample("zabbix_problem") | {"event_nseverity": nseverity})).kind is kind


def test_two_zabbix_installations_with_the_same_event_id_make_two_events():
    one = report(zabbix(sample("zabbix_problem") | {"instance": "zabbix-east"}))
    other = report(zabbix(sample("zabbix_problem") | {"instance": "zabbix-west"}))

    assert one.event_id != other.event_id


@pytest.mark.parametrize(
    ("field", "value"),
    [("event_value", 2), ("event_nseverity", 6), ("event_id", "12ab"), ("event_value", "1")],
)
def test_a_zabbix_body_out_of_its_vocabulary_is_refused_naming_the_field(field, value):
    body = sample("zabbix_problem") | {field: value}

    with pytest.raises(ValidationError) as refused:
        ZabbixEventIn.model_validate_json(json.dumps(body), strict=True)

    assert {error["loc"][0] for error in refused.value.errors()} == {field}


# LibreNMS -----------------------------------------------------------------------------------


def test_an_active_librenms_alert_reports_the_device_from_its_device_fields():
    active = report(librenms(sample("librenms_active")))

    assert active == DeviceReport(
        ref="88412",
        event_id=active.event_id,
        kind=ReportKind.FAILED,
        serial="ALCLB2C4D6E8",
        severity=Severity.CRITICAL,
        source=MonitoringSource.LIBRENMS,
        observed_at=datetime(2025, 6, 13, 2, 17, 44, tzinfo=UTC),
        site="CUST-099317",
        detail="Alert for device ONT-CUST-099317 - Devices up/down",
        firmware_version="3FE49568IJHK15",
    )


def test_a_recovered_librenms_alert_is_a_recovery():
    recovered = report(librenms(sample("librenms_recovered")))

    assert (recovered.kind, recovered.serial) == (ReportKind.RECOVERED, "ALCLB2C4D6E8")
    assert recovered.event_id != report(librenms(sample("librenms_active"))).event_id


@pytest.mark.parametrize(
    ("state", "severity", "kind"),
    [
        (3, "critical", ReportKind.FAILED),
        (4, "critical", ReportKind.DEGRADED),
        (4, "warning", ReportKind.DEGRADED),
        (1, "warning", ReportKind.DEGRADED),
        (1, "ok", ReportKind.SEEN),
    ],
)
def test_librenms_states_and_severities_map_to_kinds(state, severity, kind):
    body = sample("librenms_active") | {"state": state, "severity": severity}

    assert report(librenms(body)).kind is kind


def test_an_acknowledged_librenms_alert_is_skipped():
    acknowledged = sample("librenms_active") | {"state": 2}

    assert skipped(librenms(acknowledged)).reason.startswith("acknowledged")


def test_a_serial_only_a_fault_names_is_found_there():
    body = sample("librenms_active")
    del body["device"]["serial"]
    body["faults"][0]["serial"] = "ALCLF7654321"

    assert report(librenms(body)).serial == "ALCLF7654321"


def test_a_librenms_alert_without_any_serial_is_skipped():
    body = sample("librenms_active")
    del body["device"]["serial"]

    assert skipped(librenms(body)).reason.startswith("no serial")


# Settings -----------------------------------------------------------------------------------


def test_the_mapping_comes_from_settings_and_keeps_unnamed_severities_defaults():
    settings = AssetsSettings(
        assets_monitoring_serial_labels=["asset_serial"],
        assets_monitoring_kind_by_alert={"OntDown": "degraded"},
        assets_monitoring_kind_by_severity={"info": "degraded"},
    )

    mapping = settings.monitoring_mapping()

    assert mapping.serial == ("asset_serial",)
    assert mapping.kind_of("OntDown", Severity.CRITICAL) is ReportKind.DEGRADED
    assert mapping.kind_of("Other", Severity.INFO) is ReportKind.DEGRADED
    assert mapping.kind_of("Other", Severity.CRITICAL) is ReportKind.FAILED
