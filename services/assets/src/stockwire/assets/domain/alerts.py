"""Assets alerts as the domain decides them: what is wrong, how bad, and the numbers
behind it. A condition is named by its ``dedup_key``; it is raised once and resolved once
when it clears (:func:`changes`)."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from stockwire.contracts.vocabulary import AlertSeverity, AssetAlertKind


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AssetAlertKind
    severity: AlertSeverity
    dedup_key: str
    summary: str
    serial: str | None = None
    sku: str | None = None
    region: str | None = None
    location: str | None = None
    category: str | None = None
    """The model's catalog category (ont, router, ...), for routing."""
    labels: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, Decimal] = field(default_factory=dict)
    cause: uuid.UUID | None = None
    """The event that raised it, if one did: its flow and trace carry the alert."""


@dataclass(frozen=True, slots=True)
class Resolution:
    kind: str
    dedup_key: str
    summary: str
    serial: str | None = None
    sku: str | None = None
    region: str | None = None
    location: str | None = None


def dedup_key(kind: AssetAlertKind, *parts: str) -> str:
    """``kind:part:part``: the name of one condition (a serial's, a model's, a region's)."""
    return ":".join((kind.value, *parts))


def changes(
    wanted: Iterable[Alert], active: Mapping[str, str], kinds: Iterable[AssetAlertKind]
) -> tuple[list[Alert], list[str]]:
    """What to raise and what to resolve when a sweep of ``kinds`` finds ``wanted``:
    conditions found and not yet active are raised; active ones of those kinds (``active``
    maps dedup_key to kind) no longer found are resolved."""
    swept = {kind.value for kind in kinds}
    found = {alert.dedup_key: alert for alert in wanted}
    raised = [alert for key, alert in found.items() if key not in active]
    resolved = [key for key, kind in active.items() if kind in swept and key not in found]
    return raised, sorted(resolved)
