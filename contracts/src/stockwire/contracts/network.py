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
    event_type = "network.device.failed"


class DeviceDegraded(DeviceEvent):
    event_type = "network.device.degraded"


class DeviceRecovered(DeviceEvent):
    event_type = "network.device.recovered"


class DeviceSeen(DeviceEvent):
    """A periodic sighting: the device answered at this site."""

    event_type = "network.device.seen"
