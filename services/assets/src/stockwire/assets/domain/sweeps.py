"""The conditions a periodic sweep looks for, each an alert with its ``dedup_key``, and
what their resolutions say. The sweep (:mod:`stockwire.assets.sweeps`) reads candidates
from the database; the rules here decide. Days are UTC calendar days.

- **warranty_expiring** (info), per *installed* device: its warranty (the model's months
  from receipt, or the device's own end date) ends within ``warranty_days`` and has not
  ended (the last day counts). Keyed by serial and end date, so an extension that still
  ends within the window resolves the old alert and raises one with the new date; it is
  resolved when the warranty is extended past the window, ends, or the device leaves
  service. Devices in stock are left out: nobody can act on the warranty of a spare.
- **end_of_sale_approaching** (info) and **end_of_life_approaching** (warning), per
  model: its catalog date is within ``end_of_life_days`` (today counts) while devices of
  it are installed; figures carry the installed base and the devices owned. Keyed by SKU
  and date: resolved when the date moves or passes, or nothing of it is installed.
- **installed_past_end_of_life** (warning), per installed device, once its model's end
  of life has passed (from the day after). Warning, not critical: the vendor no longer
  fixes it, which is a refresh to plan, not an outage; the per-model alert came first.
  Resolved when it leaves service or the date moves to the future.
- **firmware_below_minimum** (critical), per installed device whose known firmware is
  below its model's minimum (:mod:`.firmware`: incomparable counts as below). Critical:
  a minimum is set after a vendor advisory, so the device is exposed now. Resolved when
  it is upgraded, the minimum is lowered or removed, or it leaves service.
- **reconciliation_mismatch**: :mod:`.reconciliation`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from stockwire.assets.domain.alerts import Alert, Resolution, dedup_key
from stockwire.assets.domain.firmware import compare, meets_minimum
from stockwire.assets.domain.warranty import warranty_end
from stockwire.contracts.vocabulary import AlertSeverity, AssetAlertKind

K = AssetAlertKind

SWEPT = (
    K.WARRANTY_EXPIRING,
    K.END_OF_SALE_APPROACHING,
    K.END_OF_LIFE_APPROACHING,
    K.INSTALLED_PAST_END_OF_LIFE,
    K.FIRMWARE_BELOW_MINIMUM,
    K.RECONCILIATION_MISMATCH,
)
"""The kinds a sweep owns: it raises them and resolves the active ones it no longer finds."""


@dataclass(frozen=True, slots=True)
class Windows:
    """How far ahead (and back) the sweep looks, in days."""

    warranty_days: int = 30
    end_of_life_days: int = 180
    ghost_days: int = 7

    @property
    def ghost_window(self) -> timedelta:
        return timedelta(days=self.ghost_days)


@dataclass(frozen=True, slots=True)
class Installed:
    """An installed device, as an alert about it names it."""

    serial: str
    sku: str
    location: str | None
    region: str | None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class WarrantyTerms:
    """What a device's warranty end follows from."""

    received_at: datetime
    warranty_months: int | None
    override: date | None


@dataclass(frozen=True, slots=True)
class ModelDates:
    """A model's catalog dates and how many of it are installed and owned."""

    sku: str
    category: str | None
    end_of_sale: date | None
    end_of_life: date | None
    installed: int
    owned: int


def warranty_alerts(
    devices: Iterable[tuple[Installed, WarrantyTerms]], today: date, within_days: int
) -> list[Alert]:
    alerts = []
    for device, terms in devices:
        ends = warranty_end(terms.received_at, terms.warranty_months, terms.override)
        if ends is None:
            continue
        days_left = (ends - today).days
        if not 0 <= days_left <= within_days:
            continue
        kind = K.WARRANTY_EXPIRING
        alerts.append(
            _about(
                device,
                kind,
                AlertSeverity.INFO,
                dedup_key(kind, device.serial, ends.isoformat()),
                f"warranty of {device.serial} ({device.sku}) at "
                f"{device.location or 'no location'} ends on {ends.isoformat()}, "
                f"in {days_left} days",
                labels={"warranty_ends": ends.isoformat()},
                figures={"days_left": Decimal(days_left)},
            )
        )
    return alerts


def model_date_alerts(models: Iterable[ModelDates], today: date, within_days: int) -> list[Alert]:
    """End of sale and end of life approaching, for models with an installed base."""
    alerts = []
    for model in models:
        if model.installed <= 0:
            continue
        for kind, severity, what, day in (
            (K.END_OF_SALE_APPROACHING, AlertSeverity.INFO, "end of sale", model.end_of_sale),
            (K.END_OF_LIFE_APPROACHING, AlertSeverity.WARNING, "end of life", model.end_of_life),
        ):
            if day is None or not 0 <= (day - today).days <= within_days:
                continue
            days_left = (day - today).days
            alerts.append(
                Alert(
                    kind=kind,
                    severity=severity,
                    dedup_key=dedup_key(kind, model.sku, day.isoformat()),
                    summary=f"{what} of {model.sku} is on {day.isoformat()}, in {days_left} "
                    f"days, with {model.installed} installed and {model.owned} owned",
                    sku=model.sku,
                    category=model.category,
                    labels={kind.value.removesuffix("_approaching"): day.isoformat()},
                    figures={
                        "days_left": Decimal(days_left),
                        "installed_base": Decimal(model.installed),
                        "owned": Decimal(model.owned),
                    },
                )
            )
    return alerts


def past_end_of_life_alerts(devices: Iterable[tuple[Installed, date]], today: date) -> list[Alert]:
    alerts = []
    kind = K.INSTALLED_PAST_END_OF_LIFE
    for device, end_of_life in devices:
        days_past = (today - end_of_life).days
        if days_past <= 0:
            continue
        alerts.append(
            _about(
                device,
                kind,
                AlertSeverity.WARNING,
                dedup_key(kind, device.serial),
                f"{device.serial} ({device.sku}) is installed at "
                f"{device.location or 'no location'}, {days_past} days past its model's end "
                f"of life ({end_of_life.isoformat()})",
                labels={"end_of_life": end_of_life.isoformat()},
                figures={"days_past_end_of_life": Decimal(days_past)},
            )
        )
    return alerts


def firmware_alerts(
    devices: Iterable[tuple[Installed, str]], minimums: Mapping[str, str]
) -> list[Alert]:
    """Installed devices (with the firmware they run) below their model's minimum."""
    alerts = []
    kind = K.FIRMWARE_BELOW_MINIMUM
    for device, version in devices:
        minimum = minimums.get(device.sku)
        if minimum is None or meets_minimum(version, minimum):
            continue
        how = "below" if compare(version, minimum) is not None else "not comparable with"
        alerts.append(
            _about(
                device,
                kind,
                AlertSeverity.CRITICAL,
                dedup_key(kind, device.serial),
                f"{device.serial} ({device.sku}) at {device.location or 'no location'} runs "
                f"firmware {version}, {how} the minimum {minimum}",
                labels={
                    "firmware_version": version,
                    "minimum_version": minimum,
                    "comparable": "no" if how != "below" else "yes",
                },
            )
        )
    return alerts


def _about(
    device: Installed,
    kind: AssetAlertKind,
    severity: AlertSeverity,
    key: str,
    summary: str,
    *,
    labels: dict[str, str],
    figures: dict[str, Decimal] | None = None,
) -> Alert:
    return Alert(
        kind=kind,
        severity=severity,
        dedup_key=key,
        summary=summary,
        serial=device.serial,
        sku=device.sku,
        region=device.region,
        location=device.location,
        category=device.category,
        labels={"serial": device.serial, **labels},
        figures=figures or {},
    )


_CLEARED: dict[str, str] = {
    K.WARRANTY_EXPIRING: "the warranty of {what} no longer ends soon: it was extended, "
    "it ended, or the device left service",
    K.END_OF_SALE_APPROACHING: "end of sale of {what} is no longer approaching on that "
    "date: the date moved or passed, or none is installed",
    K.END_OF_LIFE_APPROACHING: "end of life of {what} is no longer approaching on that "
    "date: the date moved or passed, or none is installed",
    K.INSTALLED_PAST_END_OF_LIFE: "{what} is no longer installed past its model's end of "
    "life: it left service or the date moved",
    K.FIRMWARE_BELOW_MINIMUM: "{what} no longer runs firmware below its model's minimum: "
    "it was upgraded, the minimum was lowered or removed, or it left service",
    K.RECONCILIATION_MISMATCH: "the records and the network agree again on {what}",
}


def resolution(
    kind: str,
    key: str,
    *,
    serial: str | None = None,
    sku: str | None = None,
    region: str | None = None,
    location: str | None = None,
) -> Resolution:
    """The resolution of an active alert a sweep no longer finds."""
    what = f"{serial} ({sku})" if serial and sku else serial or sku or key.split(":", 1)[-1]
    template = _CLEARED.get(kind, "the condition of {what} cleared")
    return Resolution(
        kind,
        key,
        template.format(what=what),
        serial=serial,
        sku=sku,
        region=region,
        location=location,
    )
