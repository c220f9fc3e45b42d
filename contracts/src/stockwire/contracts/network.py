"""Inbound device events from network-monitoring systems, keyed by serial."""

from enum import StrEnum

from pydantic import Field

from stockwire.contracts.base import Event, LocationCode, Serial


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class MonitoringSource(StrEnum):
    ALERTMANAGER = "alertmanager"
    ZABBIX = "zabbix"
    LIBRENMS = "librenms"
    OTHER = "other"


class DeviceEvent(Event):
    """Fields every network device event carries."""

    serial: Serial
    mac: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")
    site: LocationCode | None = None
    severity: Severity
    source: MonitoringSource = MonitoringSource.OTHER
    detail: str | None = Field(default=None, max_length=2000)


class DeviceFailed(DeviceEvent):
    """The device stopped working: a candidate for a swap and an RMA."""

    event_type = "monitoring.device.failed"


class DeviceDegraded(DeviceEvent):
    """The device works but below par (errors, optical power, temperature)."""

    event_type = "monitoring.device.degraded"


class DeviceRecovered(DeviceEvent):
    """A device reported failed or degraded is healthy again."""

    event_type = "monitoring.device.recovered"


class DeviceSeen(DeviceEvent):
    """A periodic sighting: the device answered at this site."""

    event_type = "monitoring.device.seen"
