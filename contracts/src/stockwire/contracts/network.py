"""Inbound device events from network-monitoring systems, keyed by serial."""

from pydantic import AwareDatetime, Field

from stockwire.contracts.base import Event, LocationCode, Serial
from stockwire.contracts.vocabulary import MonitoringSource, Severity

__all__ = [
    "DeviceDegraded",
    "DeviceEvent",
    "DeviceFailed",
    "DeviceRecovered",
    "DeviceSeen",
    "MonitoringSource",
    "Severity",
]


class DeviceEvent(Event):
    """Fields every network device event carries."""

    serial: Serial
    mac: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")
    site: LocationCode | None = None
    severity: Severity
    source: MonitoringSource = MonitoringSource.OTHER
    detail: str | None = Field(default=None, max_length=2000)
    firmware_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The firmware (software) version the monitoring system reports the "
        "device running, as it reports it; None when it reports none.",
    )
    observed_at: AwareDatetime | None = Field(
        default=None,
        description="When the monitoring system saw it (Alertmanager's startsAt, or endsAt "
        "for a resolution; Zabbix's event or recovery time; LibreNMS's alert time); None: "
        "the envelope's occurred_at is the best time known.",
    )


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
