"""What the book records: movements with their legs, rejections, alerts and their
resolutions.

The unit of work turns them into ledger rows, balance changes and outgoing events.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from stockwire.contracts.vocabulary import (
    AlertKind,
    AlertSeverity,
    MovementKind,
    RejectionReason,
    ReturnCondition,
)
from stockwire.stock.domain.model import Amounts, BalanceKey, Count, Pair


@dataclass(frozen=True, slots=True)
class Leg:
    """The change one movement makes to one balance."""

    key: BalanceKey
    delta: Amounts


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger entry: a ledger row per leg. A movement with no leg (a part installed
    out of a job's custody changes no balance) is still written, as one row of zeros."""

    movement_id: uuid.UUID
    kind: MovementKind
    reason_code: str
    sku: str
    location: str
    """The balance it changes first (the key of its event); the customer site for an
    install out of job custody."""
    quantity: Decimal
    legs: tuple[Leg, ...]
    actor: str
    recorded_at: datetime
    lot: str = ""
    serial: str = ""
    from_location: str | None = None
    to_location: str | None = None
    condition: ReturnCondition | None = None
    job_id: str | None = None
    po_number: str | None = None
    transfer_id: str | None = None
    count_id: str | None = None
    source_event_id: uuid.UUID | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A command the rules refused; nothing of it was applied."""

    kind: MovementKind
    reason: RejectionReason
    message: str
    sku: str
    location: str
    quantity: Decimal
    actor: str
    serial: str | None = None
    lot: str | None = None
    job_id: str | None = None
    source_event_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """A condition a person should know about. ``region`` and ``category`` are what the
    catalog copy says of its location and SKU (None where it does not know them);
    ``figures`` are the numbers behind it and ``labels`` the facts to route on, named as
    docs/stock.md lists them."""

    alert_id: uuid.UUID
    kind: AlertKind
    severity: AlertSeverity
    dedup_key: str
    summary: str
    sku: str
    location: str
    raised_at: datetime
    region: str | None = None
    category: str | None = None
    figures: dict[str, Decimal] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    serial: str | None = None
    expected_quantity: Decimal | None = None
    actual_quantity: Decimal | None = None
    transfer_id: str | None = None
    count_id: str | None = None
    job_id: str | None = None
    source_event_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The condition of an alert with this ``dedup_key`` (and the same SKU and location, so
    the same key on the topic) has cleared. Stock keeps no list of open alerts, so a
    resolution may clear a condition no alert was raised for; readers ignore those."""

    kind: AlertKind
    dedup_key: str
    summary: str
    sku: str
    location: str
    resolved_at: datetime
    region: str | None = None
    category: str | None = None
    figures: dict[str, Decimal] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    source_event_id: uuid.UUID | None = None


@dataclass
class Outcome:
    """What one command did: its movements, alerts and resolutions, or the rejection (with
    alerts)."""

    movements: list[Movement] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    rejection: Rejection | None = None
    count: Count | None = None
    """The count a count command opened, recorded into or closed."""
    levels: dict[Pair, Amounts] = field(default_factory=dict)
    """The levels of the pairs this command changed, after it."""
    skipped: list[Rejection] = field(default_factory=list)
    """Parts of an applied command the rules refused (a counted serial the books hold
    elsewhere): recorded as rejections while the rest of the command applied."""
    repeat_of: str | None = None
    """Why an applied command changed nothing: it repeats one applied before (a transfer
    request sent again). Nothing is published for it."""

    @property
    def applied(self) -> bool:
        return self.rejection is None
