"""Reconciliation: where the records and the network disagree about a device.

A *sighting* is the network's latest report of a serial (any monitoring report, *seen*
included): the site it answered at, its MAC, when. It names a device by its serial, or,
when the records have no such serial, by its MAC if the records have that MAC on a
device (a monitoring system that knows the device by another name). Only sightings within
the *window* (``STOCKWIRE_ASSETS_GHOST_AFTER_DAYS``) count; an older one says nothing of
where the device is now.

- **misplaced**: a device (in any state) whose latest recent sighting is at a site other
  than where the records place it;
- **unrecorded**: a recent sighting whose serial and MAC the records do not have;
- **ghost**: a device the records have *installed* for longer than the window that the
  network has not seen within it.

A device seen at its recorded site is *confirmed*; one seen with no site named is
neither confirmed nor a mismatch. Each mismatch is one alert per serial
(``reconciliation_mismatch:<serial>``), resolved when the records and the network agree
again; a device going from one mismatch to another keeps its alert.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from stockwire.assets.domain.alerts import Alert, dedup_key
from stockwire.contracts.vocabulary import AlertSeverity, AssetAlertKind, DeviceState

KIND = AssetAlertKind.RECONCILIATION_MISMATCH
DAY_S = Decimal(86400)


class Mismatch(StrEnum):
    MISPLACED = "misplaced"
    UNRECORDED = "unrecorded"
    GHOST = "ghost"


@dataclass(frozen=True, slots=True)
class Recorded:
    """A device as the records have it."""

    serial: str
    sku: str
    state: DeviceState
    location: str | None
    region: str | None
    installed_since: datetime | None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Sighting:
    """The network's latest report of a serial."""

    serial: str
    mac: str | None
    site: str | None
    source: str
    seen_at: datetime
    region: str | None = None
    """The region of ``site``, as the catalog has it."""


def mismatch(
    recorded: Recorded | None, seen: Sighting | None, now: datetime, window: timedelta
) -> Mismatch | None:
    """How the records (``recorded``: the device, None if they have none) and the
    network (``seen``: the latest sighting naming it, None if there is none) disagree at
    ``now``; None when they agree or nothing can be said."""
    since = now - window
    recent = seen if seen is not None and seen.seen_at >= since else None
    if recorded is None:
        return Mismatch.UNRECORDED if recent is not None else None
    if recent is not None:
        moved = recent.site is not None and recent.site != recorded.location
        return Mismatch.MISPLACED if moved else None
    installed_long = (
        recorded.state is DeviceState.INSTALLED
        and recorded.installed_since is not None
        and recorded.installed_since <= since
    )
    return Mismatch.GHOST if installed_long else None


def mismatch_alert(
    recorded: Recorded | None, seen: Sighting | None, now: datetime, window: timedelta
) -> Alert | None:
    """The alert for what :func:`mismatch` finds; None when there is nothing to say."""
    found = mismatch(recorded, seen, now, window)
    if found is None:
        return None
    if recorded is None:
        assert seen is not None
        return _alert(
            seen.serial,
            f"the network sees serial {seen.serial} at {seen.site or 'an unnamed site'} "
            f"({seen.source}), which the records do not have",
            found,
            recorded=False,
            location=seen.site,
            region=seen.region,
            labels={"serial": seen.serial, **_seen_labels(seen)},
        )
    labels = {"serial": recorded.serial, "recorded_state": recorded.state.value}
    if recorded.location is not None:
        labels["recorded_location"] = recorded.location
    if found is Mismatch.MISPLACED:
        assert seen is not None
        summary = (
            f"{recorded.serial} ({recorded.sku}) is recorded at "
            f"{recorded.location or 'no location'} but {seen.source} sees it at {seen.site}"
        )
        figures = {}
        labels |= _seen_labels(seen)
    else:
        assert recorded.installed_since is not None
        unseen_since = seen.seen_at if seen is not None else recorded.installed_since
        days = _days(now - unseen_since)
        summary = (
            f"{recorded.serial} ({recorded.sku}) is recorded installed at "
            f"{recorded.location or 'no location'} but the network has not seen it "
            f"for {days} days"
        )
        figures = {"days_unseen": Decimal(days)}
    return _alert(
        recorded.serial,
        summary,
        found,
        sku=recorded.sku,
        location=recorded.location,
        region=recorded.region,
        category=recorded.category,
        labels=labels,
        figures=figures,
    )


def _alert(
    serial: str,
    summary: str,
    found: Mismatch,
    *,
    labels: dict[str, str],
    recorded: bool = True,
    sku: str | None = None,
    location: str | None = None,
    region: str | None = None,
    category: str | None = None,
    figures: dict[str, Decimal] | None = None,
) -> Alert:
    return Alert(
        kind=KIND,
        severity=AlertSeverity.WARNING,
        dedup_key=dedup_key(KIND, serial),
        summary=summary,
        serial=serial if recorded else None,
        sku=sku,
        region=region,
        location=location,
        category=category,
        labels={"mismatch": found.value, **labels},
        figures=figures or {},
    )


def _seen_labels(seen: Sighting) -> dict[str, str]:
    labels = {"seen_as": seen.serial, "source": seen.source, "seen_at": seen.seen_at.isoformat()}
    if seen.site is not None:
        labels["seen_site"] = seen.site
    if seen.mac is not None:
        labels["mac"] = seen.mac
    return labels


def _days(span: timedelta) -> int:
    return max(0, int(Decimal(str(span.total_seconds())) // DAY_S))
