"""What network monitoring tells us about devices, read from what each sender posts.

Prometheus Alertmanager, Zabbix and LibreNMS each report alerts in their own shape and
words; this module turns each alert into at most one :class:`DeviceReport` (a device
failed, is degraded, recovered, or was seen) or a :class:`Skipped` saying why not. Which
label or tag holds a device's serial, MAC, site and firmware, and which alert is a
failure rather than a degradation, is the operator's :class:`LabelMapping`.

Each report carries an id derived from the sender's own identity of the occurrence, so a
sender repeating itself (Alertmanager re-sends a firing alert every ``repeat_interval``,
every sender retries a failed call) produces the same id, and the event is written once:

- Alertmanager: fingerprint, startsAt and status (a resolution is not a repeat of its
  firing);
- Zabbix: the problem's event id and the event value (1 problem, 0 recovery);
- LibreNMS: the alert log row's uid and the alert state.

The id also names the sender kind and an optional ``instance`` the operator gives a
Zabbix or LibreNMS installation, whose ids are only unique within it.
"""

import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType

from stockwire.assets.domain.mac import mac_digits, normal_mac
from stockwire.contracts.vocabulary import MonitoringSource, Severity
from stockwire.runtime.plain_text import clip, text_problem

MAX_SERIAL = 128
MAX_SITE = 64
MAX_FIRMWARE = 64
MAX_DETAIL = 2000
"""The contract's bounds (``monitoring.device-events.v1``); a contracts test keeps them
equal."""

IDS = uuid.uuid5(uuid.NAMESPACE_URL, "https://stockwire.dev/monitoring-intake")
"""The namespace of the ids of monitoring events: fixed forever, or repeats would no
longer be recognised across an upgrade."""


class ReportKind(StrEnum):
    """What a monitoring alert says of a device (one event type of the topic each)."""

    FAILED = "failed"
    DEGRADED = "degraded"
    RECOVERED = "recovered"
    SEEN = "seen"


DEFAULT_KIND_BY_SEVERITY: Mapping[Severity, ReportKind] = MappingProxyType(
    {
        Severity.CRITICAL: ReportKind.FAILED,
        Severity.MAJOR: ReportKind.FAILED,
        Severity.MINOR: ReportKind.DEGRADED,
        Severity.WARNING: ReportKind.DEGRADED,
        Severity.INFO: ReportKind.SEEN,
    }
)

SEVERITY_WORDS: Mapping[str, Severity] = MappingProxyType(
    {
        **{severity.value: severity for severity in Severity},
        "page": Severity.CRITICAL,
        "disaster": Severity.CRITICAL,
        "emergency": Severity.CRITICAL,
        "error": Severity.MAJOR,
        "high": Severity.MAJOR,
        "average": Severity.MINOR,
        "low": Severity.MINOR,
        "information": Severity.INFO,
        "informational": Severity.INFO,
        "notice": Severity.INFO,
        "ok": Severity.INFO,
        "none": Severity.INFO,
    }
)
"""Severity label values as Prometheus rules and LibreNMS write them (any case)."""

ZABBIX_SEVERITIES = (
    Severity.INFO,  # 0 not classified
    Severity.INFO,  # 1 information
    Severity.WARNING,  # 2 warning
    Severity.MINOR,  # 3 average
    Severity.MAJOR,  # 4 high
    Severity.CRITICAL,  # 5 disaster
)
"""Zabbix's {EVENT.NSEVERITY}, 0 to 5, as a severity."""


@dataclass(frozen=True)
class LabelMapping:
    """Where a device's identity is in an alert's labels (Alertmanager), tags (Zabbix)
    or device fields and faults (LibreNMS), and which alerts are which kind. Names are
    tried in order and compared in any case; the first with a value wins."""

    serial: Sequence[str] = ("serial", "serial_number", "sn")
    mac: Sequence[str] = ("mac", "mac_address")
    site: Sequence[str] = ("site", "location")
    firmware: Sequence[str] = ("firmware", "firmware_version", "sw_version")
    kind_by_alert: Mapping[str, ReportKind] = field(default_factory=dict)
    """An alert's kind by its name (Alertmanager's ``alertname``, Zabbix's event name,
    LibreNMS's rule name), before its severity is considered."""
    kind_by_severity: Mapping[Severity, ReportKind] = field(
        default_factory=lambda: DEFAULT_KIND_BY_SEVERITY
    )
    """Every severity's kind; severities left out keep their default."""

    def kind_of(self, alert_name: str, severity: Severity) -> ReportKind:
        """The kind of a firing alert."""
        named = self.kind_by_alert.get(alert_name)
        if named is not None:
            return named
        return self.kind_by_severity.get(severity, DEFAULT_KIND_BY_SEVERITY[severity])


@dataclass(frozen=True)
class DeviceReport:
    """One device event to publish, and the sender's reference of the alert it reads."""

    ref: str
    event_id: uuid.UUID
    kind: ReportKind
    serial: str
    severity: Severity
    source: MonitoringSource
    observed_at: datetime
    mac: str | None = None
    site: str | None = None
    detail: str | None = None
    firmware_version: str | None = None
    notes: tuple[str, ...] = ()
    """What of the alert was left out, and why (a label that is not a MAC, ...)."""


@dataclass(frozen=True)
class Skipped:
    """An alert that says nothing Stockwire can record about a device, and why."""

    ref: str
    reason: str


Read = DeviceReport | Skipped


# The senders' alerts, as their payloads carry them ---------------------------------------


@dataclass(frozen=True)
class AlertmanagerAlert:
    """One alert of an Alertmanager notification (webhook version 4)."""

    fingerprint: str
    firing: bool
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class ZabbixEvent:
    """One notification of the Stockwire Zabbix media type."""

    event_id: str
    problem: bool
    """{EVENT.VALUE}: 1 a problem, 0 its recovery."""
    update: bool
    """{EVENT.UPDATE.STATUS}: an acknowledgement, comment or severity change."""
    nseverity: int
    name: str
    at: datetime
    tags: Sequence[tuple[str, str]]
    host: str
    """The host's visible name."""
    item_name: str = ""
    item_value: str = ""
    instance: str = ""


class LibreNmsState(IntEnum):
    """A LibreNMS alert's state, as its transports are told it."""

    RECOVERED = 0
    ACTIVE = 1
    ACKNOWLEDGED = 2
    WORSE = 3
    BETTER = 4


@dataclass(frozen=True)
class LibreNmsAlert:
    """One notification of the Stockwire LibreNMS alert template."""

    uid: int
    state: LibreNmsState
    severity: str
    at: datetime
    rule: str
    title: str
    device: Mapping[str, str]
    faults: Sequence[Mapping[str, str]]
    instance: str = ""


# Reading them -----------------------------------------------------------------------------


def from_alertmanager(alerts: Iterable[AlertmanagerAlert], mapping: LabelMapping) -> list[Read]:
    """Each alert of an Alertmanager group as a report or a skip, in order."""
    return [_alertmanager(alert, mapping) for alert in alerts]


def _alertmanager(alert: AlertmanagerAlert, mapping: LabelMapping) -> Read:
    status = "firing" if alert.firing else "resolved"
    starts_at = _utc(alert.starts_at)
    ref = alert.fingerprint
    name = alert.labels.get("alertname", "")
    severity, notes = _severity_word(_label(alert.labels, ("severity",)))
    text = _first(alert.annotations, ("summary", "description", "message")) or name
    if alert.firing:
        at, detail = starts_at, f"{name}: {text}" if text != name else name
    else:
        # A resolved alert's endsAt is when it resolved; an unset one reads 0001-01-01.
        ends_at = _utc(alert.ends_at)
        at, detail = (ends_at if ends_at > starts_at else starts_at), f"{name} resolved: {text}"
    return _report(
        ref=ref,
        key=("alertmanager", alert.fingerprint, starts_at.isoformat(), status),
        source=MonitoringSource.ALERTMANAGER,
        labels=alert.labels,
        firing=_Firing.of(mapping.kind_of(name, severity), ending=not alert.firing),
        severity=severity,
        at=at,
        detail=detail,
        mapping=mapping,
        notes=notes,
    )


def from_zabbix(event: ZabbixEvent, mapping: LabelMapping) -> Read:
    """A Zabbix problem or its recovery as a report; a problem update as a skip."""
    ref = event.event_id
    if event.update:
        return Skipped(
            ref,
            "a problem update (acknowledgement, comment or severity change) does not change "
            "the device's health",
        )
    severity = ZABBIX_SEVERITIES[event.nseverity]
    tags: dict[str, str] = {}
    for tag, value in event.tags:
        tags.setdefault(tag, value)
    item = f" ({event.item_name}: {event.item_value})" if event.item_name else ""
    what = f"{event.name}{item}" if event.problem else f"resolved: {event.name}"
    detail = f"{event.host}: {what}"
    return _report(
        ref=ref,
        key=("zabbix", event.instance, event.event_id, "1" if event.problem else "0"),
        source=MonitoringSource.ZABBIX,
        labels=tags,
        firing=_Firing.of(mapping.kind_of(event.name, severity), ending=not event.problem),
        severity=severity,
        at=_utc(event.at),
        detail=detail,
        mapping=mapping,
    )


def from_librenms(alert: LibreNmsAlert, mapping: LabelMapping) -> Read:
    """A LibreNMS alert as a report: recovered (0) is a recovery; active (1) and worse
    (3) are the rule's kind; better (4) is still alerting with fewer faults, so a failure
    or degradation is reported as degraded; acknowledged (2) is skipped."""
    ref = str(alert.uid)
    if alert.state is LibreNmsState.ACKNOWLEDGED:
        return Skipped(ref, "acknowledged: an operator took note; the device's health is unchanged")
    severity, notes = _severity_word(alert.severity)
    kind = mapping.kind_of(alert.rule, severity)
    if alert.state is LibreNmsState.BETTER and kind is ReportKind.FAILED:
        kind = ReportKind.DEGRADED
    labels = dict(alert.device)
    for fault in alert.faults:
        for name, value in fault.items():
            labels.setdefault(name, value)
    recovered = alert.state is LibreNmsState.RECOVERED
    return _report(
        ref=ref,
        key=("librenms", alert.instance, ref, str(int(alert.state))),
        source=MonitoringSource.LIBRENMS,
        labels=labels,
        firing=_Firing.of(kind, ending=recovered),
        severity=severity,
        at=_utc(alert.at),
        detail=alert.title or alert.rule,
        mapping=mapping,
        notes=notes,
    )


# Shared rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Firing:
    """The kind an alert reports, or why it reports none: the end of a failure or a
    degradation is a recovery; the end of a sighting or of a recovery says nothing."""

    kind: ReportKind | None
    reason: str = ""

    @classmethod
    def of(cls, kind: ReportKind, *, ending: bool) -> "_Firing":
        if not ending:
            return cls(kind)
        if kind in (ReportKind.FAILED, ReportKind.DEGRADED):
            return cls(ReportKind.RECOVERED)
        return cls(None, f"the end of a '{kind}' alert says nothing new about the device")


def _report(
    *,
    ref: str,
    key: tuple[str, ...],
    source: MonitoringSource,
    labels: Mapping[str, str],
    firing: _Firing,
    severity: Severity,
    at: datetime,
    detail: str,
    mapping: LabelMapping,
    notes: tuple[str, ...] = (),
) -> Read:
    if firing.kind is None:
        return Skipped(ref, firing.reason)
    serial = _label(labels, mapping.serial)
    if serial is None:
        return Skipped(ref, f"no serial: none of the labels {', '.join(mapping.serial)} is set")
    problem = text_problem(serial, MAX_SERIAL)
    if problem is not None:
        return Skipped(ref, f"the serial {problem}")
    mac, mac_note = _optional(labels, mapping.mac, "MAC", _mac_problem)
    site, site_note = _optional(labels, mapping.site, "site", lambda v: text_problem(v, MAX_SITE))
    firmware, firmware_note = _optional(
        labels, mapping.firmware, "firmware version", lambda v: text_problem(v, MAX_FIRMWARE)
    )
    return DeviceReport(
        ref=ref,
        event_id=uuid.uuid5(IDS, "|".join(key)),
        kind=firing.kind,
        serial=serial,
        severity=Severity.INFO if firing.kind is ReportKind.RECOVERED else severity,
        source=source,
        observed_at=at,
        mac=normal_mac(mac) if mac is not None else None,
        site=site,
        detail=_detail(detail),
        firmware_version=firmware,
        notes=tuple(n for n in (*notes, mac_note, site_note, firmware_note) if n),
    )


def _label(labels: Mapping[str, str], names: Sequence[str]) -> str | None:
    """The first of ``names`` (in any case) with a value that is not blank."""
    by_name = {name.casefold(): value for name, value in reversed(list(labels.items()))}
    for name in names:
        value = by_name.get(name.casefold())
        if value is not None and value.strip():
            return value
    return None


def _first(labels: Mapping[str, str], names: Sequence[str]) -> str | None:
    found = _label(labels, names)
    return found.strip() if found is not None else None


def _optional(
    labels: Mapping[str, str],
    names: Sequence[str],
    what: str,
    problem_of: Callable[[str], str | None],
) -> tuple[str | None, str]:
    """A label's value, or None and a note saying why it was left out."""
    value = _label(labels, names)
    if value is None:
        return None, ""
    problem = problem_of(value)
    if problem is None:
        return value, ""
    return None, f"the {what} was left out: it {problem}"


def _mac_problem(value: str) -> str | None:
    if mac_digits(value) is None:
        return "is not a MAC address (six hexadecimal pairs)"
    return None


def _severity_word(word: str | None) -> tuple[Severity, tuple[str, ...]]:
    if word is None:
        return Severity.WARNING, ("no severity: taken as warning",)
    severity = SEVERITY_WORDS.get(word.strip().casefold())
    if severity is None:
        known = ", ".join(sorted(SEVERITY_WORDS))
        return Severity.WARNING, (f"the severity is none of {known}: taken as warning",)
    return severity, ()


def _detail(text: str) -> str | None:
    """The text without control characters (lines and tabs kept), within the contract's
    length."""
    kept = "".join(
        char if char in "\n\t" or unicodedata.category(char) != "Cc" else " " for char in text
    ).strip()
    if not kept:
        return None
    return clip(kept, MAX_DETAIL)


def _utc(at: datetime) -> datetime:
    """A sender's time in UTC; one without an offset is taken as UTC, and one whose UTC
    falls outside the calendar (0001-01-01T00:00:00+02:00) as its first or last day."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    try:
        return at.astimezone(UTC)
    except OverflowError:
        return (datetime.min if at.year == datetime.min.year else datetime.max).replace(tzinfo=UTC)
