"""Stock payloads: the movement ledger, current levels (compacted) and stock alerts.

Every change to a balance is a movement; a movement the rules refuse is a rejection event
(and an alert), never an exception. Keys are ``sku@location`` so one balance's events
stay in order.
"""

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field

from stockwire.contracts.alerts import AlertRaised, AlertResolved
from stockwire.contracts.base import Event, LocationCode, Quantity, Serial, Sku
from stockwire.contracts.vocabulary import (
    AlertKind,
    AlertSeverity,
    MovementKind,
    RejectionReason,
    ReturnCondition,
)

__all__ = [
    "AlertKind",
    "AlertSeverity",
    "MovementKind",
    "RejectionReason",
    "ReturnCondition",
    "SignedQuantity",
    "StockAlertRaised",
    "StockAlertResolved",
    "StockLevelChanged",
    "StockMovementRecorded",
    "StockMovementRejected",
]

SignedQuantity = Annotated[Decimal, Field(ge=-1_000_000_000, le=1_000_000_000, decimal_places=3)]
"""A balance figure; negative only where a location kind allows negative stock."""


class StockMovementRecorded(Event):
    """One ledger entry. ``location`` is the balance it changes first (its key)."""

    event_type = "stock.movement.recorded"

    movement_id: uuid.UUID
    kind: MovementKind
    reason_code: str = Field(min_length=1, max_length=64)
    sku: Sku
    location: LocationCode
    from_location: LocationCode | None = None
    to_location: LocationCode | None = None
    quantity: Quantity
    lot: str | None = Field(default=None, max_length=64)
    serial: Serial | None = None
    condition: ReturnCondition | None = None
    job_id: str | None = Field(default=None, max_length=64)
    po_number: str | None = Field(default=None, max_length=64)
    transfer_id: str | None = Field(default=None, max_length=64)
    count_id: str | None = Field(default=None, max_length=64)
    actor: str = Field(min_length=1, max_length=128, description="Who or what caused it.")
    source_event_id: uuid.UUID | None = None
    recorded_at: AwareDatetime
    note: str | None = Field(
        default=None, max_length=500, description="Free text an operator gave (adjustments)."
    )


class StockMovementRejected(Event):
    """A movement the rules refused; nothing of it was applied."""

    event_type = "stock.movement.rejected"

    kind: MovementKind
    reason: RejectionReason
    message: str = Field(min_length=1, max_length=1000)
    sku: Sku
    location: LocationCode
    quantity: Quantity
    serial: Serial | None = None
    lot: str | None = Field(default=None, max_length=64)
    job_id: str | None = Field(default=None, max_length=64)
    actor: str = Field(min_length=1, max_length=128)
    source_event_id: uuid.UUID | None = None


class StockLevelChanged(Event):
    """The current balance of one SKU at one location, summed over lots and serials."""

    event_type = "stock.level.changed"

    sku: Sku
    location: LocationCode
    on_hand: SignedQuantity
    reserved: SignedQuantity
    in_transit_in: SignedQuantity
    in_transit_out: SignedQuantity
    available: SignedQuantity
    as_of: AwareDatetime
    last_movement_id: uuid.UUID | None = None


class StockAlertRaised(AlertRaised):
    """Something about stock that a person should know; ``dedup_key`` groups repeats.

    The common alert fields (``region``, ``category``, ``labels``, ``figures``, ``link``)
    were added within v1, so they are optional here."""

    event_type = "stock.alert.raised"

    kind: AlertKind
    sku: Sku
    location: LocationCode
    serial: Serial | None = None
    expected_quantity: SignedQuantity | None = None
    actual_quantity: SignedQuantity | None = None
    transfer_id: str | None = Field(default=None, max_length=64)
    count_id: str | None = Field(default=None, max_length=64)
    job_id: str | None = Field(default=None, max_length=64)
    source_event_id: uuid.UUID | None = None


class StockAlertResolved(AlertResolved):
    """The condition of an earlier stock alert with this ``dedup_key`` has cleared: the
    balance is available again, a count's variance was adjusted, a serial is in one place
    again."""

    event_type = "stock.alert.resolved"

    kind: AlertKind
    sku: Sku
    location: LocationCode
    source_event_id: uuid.UUID | None = None
