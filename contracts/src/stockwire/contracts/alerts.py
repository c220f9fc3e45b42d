"""The common alert shape: what every producer's alert events carry, so the notifier can
read any topic the registry marks ``carries_alerts`` with no code per producer.

A producer's raised event subclasses :class:`AlertRaised` and its resolution event
:class:`AlertResolved`, sets its ``event_type``, and may narrow a field (stock's ``kind`` is
its :class:`~stockwire.contracts.vocabulary.AlertKind`, its ``sku`` and ``location`` are
required) or add its own. ``dedup_key`` names the condition, not the occurrence: repeats of
one condition share it, and the resolution that clears the condition carries it too.
"""

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from stockwire.contracts.base import Event, LocationCode, Sku
from stockwire.contracts.vocabulary import AlertSeverity

__all__ = [
    "MAX_FIGURES",
    "MAX_LABELS",
    "AlertKindName",
    "AlertRaised",
    "AlertResolved",
    "AlertSeverity",
    "DedupKey",
    "Figure",
    "Link",
]

AlertKindName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""A producer's kind of alert, lower snake case (``stockout``, ``device_failed``)."""

DedupKey = Annotated[str, StringConstraints(min_length=1, max_length=256)]
"""The condition an alert is about; repeats and the resolution share it."""

LabelName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,63}$")]
LabelValue = Annotated[str, StringConstraints(max_length=256)]
Figure = Annotated[Decimal, Field(ge=-1_000_000_000_000, le=1_000_000_000_000, decimal_places=6)]
"""One number behind an alert: a quantity, a count, a ratio."""

Link = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2048)]
"""Where a person reads more: the producer's API for the thing alerted about."""

MAX_LABELS = 32
MAX_FIGURES = 16


class _AlertContext(Event):
    """Where and what an alert is about, each part where it applies."""

    location: LocationCode | None = None
    region: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    sku: Sku | None = None
    category: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict, max_length=MAX_LABELS)
    """Small facts to route and group on (``job_id``, ``serial``, ``vendor``)."""
    figures: dict[LabelName, Figure] = Field(default_factory=dict, max_length=MAX_FIGURES)
    """The numbers behind the alert (``available``, ``expected``, ``days_left``)."""
    link: Link | None = None


class AlertRaised(_AlertContext):
    """A condition a person should know about has arisen (or is still there)."""

    alert_id: uuid.UUID
    kind: AlertKindName
    severity: AlertSeverity
    dedup_key: DedupKey
    summary: str = Field(min_length=1, max_length=500)
    raised_at: AwareDatetime


class AlertResolved(_AlertContext):
    """The condition an earlier alert with this ``dedup_key`` named has cleared."""

    kind: AlertKindName
    dedup_key: DedupKey
    summary: str = Field(min_length=1, max_length=500)
    resolved_at: AwareDatetime
