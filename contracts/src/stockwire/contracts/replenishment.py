"""Replenishment payloads: suggestions, the commands and requests accepting them sends,
and replenishment alerts.

Four topics, all written by the replenishment service:

``replenishment.suggestions.v1`` (key: ``sku@location``, the location to replenish)
    The life of each suggestion: made (:class:`SuggestionMade`, with the numbers behind
    it), accepted, rejected, or withdrawn when its condition cleared before anyone acted.
    One SKU x location has at most one open suggestion of a kind at a time.

``replenishment.transfer-requests.v1`` (key: ``sku@from_location``)
    :class:`TransferRequested`: an accepted transfer suggestion asks stock to ship. It is a
    command on a topic: stock applies it once (its ``transfer_id`` is the suggestion's id)
    or publishes a rejected movement saying why not, as it does for every command. Keyed
    by the shipping balance, the one stock changes.

``replenishment.purchase-orders.v1`` (key: ``sku@location``)
    :class:`PurchaseOrderRequested`: an accepted purchase or last-time-buy suggestion asks
    the ERP for a purchase order. The goods come back as a goods receipt quoting the
    ``request_id`` as its PO number, or the ERP's own.

``replenishment.alerts.v1`` (key: the alert's ``dedup_key``)
    :class:`ReplenishmentAlertRaised` and :class:`ReplenishmentAlertResolved` in the common
    alert shape: a projected stockout, a regional imbalance, a suggestion not acted on in
    time, a last-time buy due.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from stockwire.contracts.alerts import AlertRaised, AlertResolved
from stockwire.contracts.base import CurrencyCode, Event, LocationCode, Quantity, Sku
from stockwire.contracts.vocabulary import (
    ReplenishmentAlertKind,
    SafetyStockTerm,
    SuggestionKind,
)

__all__ = [
    "PurchaseOrderRequested",
    "ReplenishmentAlertKind",
    "ReplenishmentAlertRaised",
    "ReplenishmentAlertResolved",
    "SafetyStockTerm",
    "SuggestionAccepted",
    "SuggestionKind",
    "SuggestionMade",
    "SuggestionRejected",
    "SuggestionWithdrawn",
    "TransferRequested",
]

Actor = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Units = Annotated[Decimal, Field(ge=-1_000_000, le=1_000_000, max_digits=12, decimal_places=3)]
"""A stock figure behind a suggestion; available stock may be negative."""
LevelOfService = Annotated[Decimal, Field(gt=0, lt=1, decimal_places=4)]
LeadTimeDays = Annotated[int, Field(ge=0, le=3650)]
UnitCost = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]


class SuggestionMade(Event):
    """Replenishment suggests moving or buying stock for ``location``.

    A transfer names ``from_location`` (a location of the same region holding more than
    its maximum); a purchase or a last-time buy names the supplier lead time and the
    expected arrival. ``available``, ``inbound``, ``reorder_point`` and ``order_up_to`` are
    the position and policy that triggered it; ``dominant_term`` says which safety-stock
    term set the reorder point. The service's API explains every other number."""

    event_type = "replenishment.suggestion.made"

    suggestion_id: uuid.UUID
    kind: SuggestionKind
    sku: Sku
    location: LocationCode
    from_location: LocationCode | None = None
    quantity: Quantity
    available: Units
    inbound: Units
    reorder_point: Units
    order_up_to: Units
    service_level: LevelOfService
    dominant_term: SafetyStockTerm
    lead_time_days: LeadTimeDays
    expected_arrival: dt.date | None = None
    reason: Text
    made_at: AwareDatetime

    @model_validator(mode="after")
    def _transfer_names_its_origin(self) -> "SuggestionMade":
        transfer = self.kind is SuggestionKind.TRANSFER
        if transfer != (self.from_location is not None):
            raise ValueError("a from_location is given exactly for a transfer")
        if self.from_location == self.location:
            raise ValueError("a transfer comes from another location")
        return self


class SuggestionAccepted(Event):
    """A person accepted a suggestion; the transfer request or purchase-order request it
    caused follows on its own topic, with ``suggestion_id`` in it."""

    event_type = "replenishment.suggestion.accepted"

    suggestion_id: uuid.UUID
    kind: SuggestionKind
    sku: Sku
    location: LocationCode
    quantity: Quantity
    accepted_by: Actor
    accepted_at: AwareDatetime


class SuggestionRejected(Event):
    """A person rejected a suggestion, saying why."""

    event_type = "replenishment.suggestion.rejected"

    suggestion_id: uuid.UUID
    kind: SuggestionKind
    sku: Sku
    location: LocationCode
    reason: Text
    rejected_by: Actor
    rejected_at: AwareDatetime


class SuggestionWithdrawn(Event):
    """A suggestion no one acted on is no longer needed (stock arrived, demand fell) or
    was replaced by a newer one; ``reason`` says which."""

    event_type = "replenishment.suggestion.withdrawn"

    suggestion_id: uuid.UUID
    kind: SuggestionKind
    sku: Sku
    location: LocationCode
    reason: Text
    withdrawn_at: AwareDatetime


class TransferRequested(Event):
    """Ship ``quantity`` of ``sku`` from ``from_location`` to ``to_location``: an accepted
    transfer suggestion. Stock ships it under ``transfer_id`` (the suggestion's id), so a
    redelivered request ships nothing twice. For a serial-tracked item stock chooses the
    serials on the shelf at the origin."""

    event_type = "replenishment.transfer.requested"

    transfer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    suggestion_id: uuid.UUID
    sku: Sku
    from_location: LocationCode
    to_location: LocationCode
    quantity: Quantity
    requested_by: Actor
    requested_at: AwareDatetime

    @model_validator(mode="after")
    def _two_places(self) -> "TransferRequested":
        if self.from_location == self.to_location:
            raise ValueError("a transfer goes to another location")
        return self


class PurchaseOrderRequested(Event):
    """Ask the ERP to order ``quantity`` of ``sku`` delivered to ``location``: an accepted
    purchase or last-time-buy suggestion. ``request_id`` is unique; the ERP answers with a
    goods receipt when the goods arrive."""

    event_type = "replenishment.purchase-order.requested"

    request_id: uuid.UUID
    suggestion_id: uuid.UUID
    kind: SuggestionKind
    sku: Sku
    location: LocationCode
    quantity: Quantity
    supplier: Name | None = None
    lead_time_days: LeadTimeDays
    expected_arrival: dt.date
    unit_cost: UnitCost | None = None
    currency: CurrencyCode | None = None
    requested_by: Actor
    requested_at: AwareDatetime

    @model_validator(mode="after")
    def _bought_not_moved(self) -> "PurchaseOrderRequested":
        if self.kind is SuggestionKind.TRANSFER:
            raise ValueError("a transfer is requested from stock, not from the ERP")
        if (self.unit_cost is None) != (self.currency is None):
            raise ValueError("a unit_cost comes with its currency")
        return self


class ReplenishmentAlertRaised(AlertRaised):
    """Stock will not last, or a plan is not being acted on: a projected stockout with its
    date and the suggestion that prevents it, a region holding stock in the wrong places,
    a suggestion open too long, or a last-time buy due before end of life.

    ``kind`` stays the common string (one of :class:`ReplenishmentAlertKind` today), so a
    new kind is not a breaking change."""

    event_type = "replenishment.alert.raised"

    suggestion_id: uuid.UUID | None = None


class ReplenishmentAlertResolved(AlertResolved):
    """The condition of an earlier replenishment alert with this ``dedup_key`` cleared:
    stock or inbound rose above the reorder point, the region is balanced again, the
    suggestion was acted on, the last-time buy was ordered."""

    event_type = "replenishment.alert.resolved"

    suggestion_id: uuid.UUID | None = None
