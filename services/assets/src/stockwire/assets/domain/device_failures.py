"""The alert a device failure raises: which device, where, and how often its model fails.

Monitoring reporting an installed device down is something a person acts on (a truck roll,
a swap, an RMA), so it raises ``device_failed`` (critical for a device in the network: a
PoP, fiber hut or rooftop serves many customers). The message carries the model's failure
rate, so whoever reads it sees at once whether this model is failing more than it should.
The alert resolves when monitoring reports the device recovered or it leaves the faulty
state (swapped, sent for repair, back in stock).
"""

from decimal import Decimal

from stockwire.assets.domain.alerts import Alert, Resolution, dedup_key
from stockwire.assets.domain.devices import FailureNoted
from stockwire.assets.domain.lifecycle import NETWORK_KINDS
from stockwire.assets.domain.reliability import Reliability
from stockwire.contracts.vocabulary import AlertSeverity, AssetAlertKind, LocationKind

FAILED = AssetAlertKind.DEVICE_FAILED


def failure_alert(
    failure: FailureNoted, location_kind: LocationKind | None, rate: Reliability | None
) -> Alert:
    where = f" at {failure.location}" if failure.location else ""
    figures: dict[str, Decimal] = {}
    said = ""
    if rate is not None:
        figures = {
            "model_failures": Decimal(rate.failures),
            "model_device_years": rate.device_years,
            "model_installed_base": Decimal(rate.installed_base),
        }
        if rate.failures_per_device_year is not None:
            figures["failures_per_device_year"] = rate.failures_per_device_year
            said = (
                f"; {failure.sku} fails {rate.failures_per_device_year.normalize():f} times per "
                f"device-year ({rate.failures} failures in "
                f"{rate.device_years.normalize():f} device-years)"
            )
    labels = {"serial": failure.serial, "source": failure.source.value}
    if location_kind is not None:
        labels["location_kind"] = location_kind.value
    return Alert(
        kind=FAILED,
        severity=AlertSeverity.CRITICAL
        if location_kind in NETWORK_KINDS
        else AlertSeverity.WARNING,
        dedup_key=dedup_key(FAILED, failure.serial),
        summary=f"{failure.sku} {failure.serial}{where} is down: {failure.symptom}{said}",
        serial=failure.serial,
        sku=failure.sku,
        region=failure.region,
        location=failure.location,
        labels=labels,
        figures=figures,
    )


def back_up(serial: str, sku: str, why: str) -> Resolution:
    return Resolution(
        FAILED.value, dedup_key(FAILED, serial), f"{sku} {serial} {why}", serial=serial, sku=sku
    )
