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
from stockwire.assets.domain.reliability import (
    HOURS_PER_DEVICE_YEAR,
    MAX_RATE,
    RATE_PLACES,
    Fleet,
)
from stockwire.contracts.vocabulary import AlertSeverity, AssetAlertKind, LocationKind

FAILED = AssetAlertKind.DEVICE_FAILED
YEARS_PLACES = Decimal("0.000001")


def failure_alert(
    failure: FailureNoted, location_kind: LocationKind | None, model: Fleet | None
) -> Alert:
    """The alert of ``failure``, with the record of its model (``model``: its fleet
    everywhere, this failure counted)."""
    where = f" at {failure.location}" if failure.location else ""
    figures: dict[str, Decimal] = {}
    said = ""
    if model is not None and model.operating_hours > 0:
        years = model.operating_hours / HOURS_PER_DEVICE_YEAR
        rate = min(model.failures / years, MAX_RATE)
        figures = {
            "model_failures": Decimal(model.failures),
            "model_device_years": years.quantize(YEARS_PLACES),
            "failures_per_device_year": rate.quantize(RATE_PLACES),
        }
        said = (
            f"; {failure.sku} fails {_about(rate)} times per device-year "
            f"({model.failures} failure{'' if model.failures == 1 else 's'} in "
            f"{_about(years)} device-years)"
        )
    labels = {"serial": failure.serial, "source": failure.source.value}
    if location_kind is not None:
        labels["location_kind"] = location_kind.value
    severity = AlertSeverity.CRITICAL if location_kind in NETWORK_KINDS else AlertSeverity.WARNING
    return Alert(
        kind=FAILED,
        severity=severity,
        dedup_key=dedup_key(FAILED, failure.serial),
        summary=f"{failure.sku} {failure.serial}{where} is down: {failure.symptom}{said}",
        serial=failure.serial,
        sku=failure.sku,
        region=failure.region,
        location=failure.location,
        labels=labels,
        figures=figures,
        cause=failure.source_event_id,
    )


def _about(value: Decimal) -> str:
    """Three significant digits, for people: 0.0412, 3.14, 29200000."""
    return f"{float(value):.3g}" if value < 1000 else f"{float(value):,.0f}"


def back_up(serial: str, sku: str, why: str) -> Resolution:
    return Resolution(
        FAILED.value, dedup_key(FAILED, serial), f"{sku} {serial} {why}", serial=serial, sku=sku
    )
