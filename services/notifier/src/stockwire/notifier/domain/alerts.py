"""What producers tell the notifier: an alert that fires, and the resolution that clears it.

Both are read through the common alert shape of the contracts, so the notifier needs no code
per producer. Matchers, inhibitions and grouping all look at an alert through
:meth:`Alert.attribute`, one vocabulary of attribute names for every feature.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from stockwire.contracts.vocabulary import AlertSeverity
from stockwire.runtime.domain_errors import Invalid

PLAIN_ATTRIBUTES = frozenset(
    {"kind", "severity", "region", "location", "location_kind", "category", "sku", "producer"}
)
LABEL_PREFIX = "label:"
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


def attribute_problem(name: str) -> str | None:
    """Why ``name`` is not an attribute a matcher, an inhibition or a group can use, if not."""
    if name in PLAIN_ATTRIBUTES:
        return None
    if name.startswith(LABEL_PREFIX):
        if _LABEL_NAME.match(name.removeprefix(LABEL_PREFIX)):
            return None
        return f"label name in {name!r} must be 1-64 letters, digits, '_', '.' or '-'"
    known = ", ".join(sorted(PLAIN_ATTRIBUTES))
    return f"unknown attribute {name!r}: use one of {known} or label:<name>"


def require_aware(field_name: str, value: datetime) -> None:
    """Refuse a naive datetime: every instant in the domain is compared across time zones."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(field_name, "must carry a time zone")


@dataclass(frozen=True)
class Alert:
    """One firing condition, identified for de-duplication by ``dedup_key``."""

    dedup_key: str
    alert_id: UUID
    kind: str
    severity: AlertSeverity
    summary: str
    raised_at: datetime
    producer: str | None = None
    location: str | None = None
    region: str | None = None
    location_kind: str | None = None
    sku: str | None = None
    category: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, Decimal] = field(default_factory=dict)
    link: str | None = None

    def __post_init__(self) -> None:
        if not self.dedup_key:
            raise Invalid("dedup_key", "must not be empty")
        require_aware("raised_at", self.raised_at)

    @property
    def critical(self) -> bool:
        return self.severity is AlertSeverity.CRITICAL

    def attribute(self, name: str) -> str | None:
        """The value a matcher of ``name`` compares; None where the alert does not say."""
        if name.startswith(LABEL_PREFIX):
            return self.labels.get(name.removeprefix(LABEL_PREFIX))
        if name == "severity":
            return self.severity.value
        if name in PLAIN_ATTRIBUTES:
            value: str | None = getattr(self, name)
            return value
        raise Invalid("attribute", attribute_problem(name) or f"unknown attribute {name!r}")


@dataclass(frozen=True)
class Resolution:
    """The producer's word that the condition behind ``dedup_key`` has cleared."""

    dedup_key: str
    kind: str
    summary: str
    resolved_at: datetime
    producer: str | None = None
    location: str | None = None
    region: str | None = None
    location_kind: str | None = None
    sku: str | None = None
    category: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, Decimal] = field(default_factory=dict)
    link: str | None = None

    def __post_init__(self) -> None:
        if not self.dedup_key:
            raise Invalid("dedup_key", "must not be empty")
        require_aware("resolved_at", self.resolved_at)
