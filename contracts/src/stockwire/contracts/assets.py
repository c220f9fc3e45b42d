"""Assets payloads: each serialized device's life, reliability per model, and asset alerts.

Three topics, all written by the assets service:

``assets.lifecycle.v1`` (key: serial)
    Everything that happens to one device, in order: its state changes
    (:class:`DeviceStateChanged`), transitions the state machine refused
    (:class:`TransitionRejected`: a rejection is an event, never an exception),
    maintenance records, failures, RMAs opened and closed, and its disposal with a
    certificate. A disposal or an RMA is told twice on purpose: the fact with its own
    details (:class:`DeviceDisposed`, :class:`RmaOpened`) and the state change it caused,
    so a reader that follows only states needs no other event type.

``assets.reliability.v1`` (compacted; key: model SKU, or ``sku@region``)
    The latest reliability figures per model (:class:`ReliabilityComputed` with no
    region) and per model and region (with a region). The region is part of the key
    because the topic is compacted: with the SKU alone, a model's regional records would
    compact each other away. Replenishment sizes spares from it.

``assets.alerts.v1`` (key: the alert's ``dedup_key``)
    :class:`AssetAlertRaised` and :class:`AssetAlertResolved`, in the common alert shape,
    so the notifier delivers them with no code for assets. They are keyed by ``dedup_key``
    because it is the one field both events of a condition always carry: a model-wide
    alert (a failure spike, end of life approaching) has no serial, and an unrecorded
    device the network sees may have no SKU, so a key made of serial or SKU would need a
    rule per kind. The same key keeps a condition's raised and resolved events in one
    partition, in order, as the notifier's acknowledgements are.

Ids assets mints (maintenance and failure records) are opaque strings; RMA numbers are
the vendor's.
"""

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from stockwire.contracts.alerts import AlertRaised, AlertResolved
from stockwire.contracts.base import CurrencyCode, Event, LocationCode, Serial, Sku
from stockwire.contracts.vocabulary import (
    AssetAlertKind,
    DeviceState,
    DisposalMethod,
    FailureSource,
    LocationKind,
    MaintenanceKind,
    RmaOutcome,
    TransitionRejectionReason,
)

__all__ = [
    "HOURS_PER_DEVICE_YEAR",
    "AssetAlertKind",
    "AssetAlertRaised",
    "AssetAlertResolved",
    "DeviceDisposed",
    "DeviceState",
    "DeviceStateChanged",
    "DisposalMethod",
    "FailureRecorded",
    "FailureSource",
    "MaintenanceKind",
    "MaintenanceRecorded",
    "ReliabilityComputed",
    "RmaClosed",
    "RmaOpened",
    "RmaOutcome",
    "TransitionRejected",
    "TransitionRejectionReason",
]

HOURS_PER_DEVICE_YEAR = Decimal(8766)
"""A device-year is 365.25 days of operating time."""

RecordId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""An opaque id assets gives a record (a maintenance entry, a failure)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Actor = Annotated[str, StringConstraints(min_length=1, max_length=128)]
JobId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FirmwareVersion = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Region = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Cost = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
Hours = Annotated[Decimal, Field(ge=0, le=1_000_000_000_000_000, decimal_places=3)]
"""Operating time or an MTBF figure, in hours."""
Rate = Annotated[Decimal, Field(ge=0, le=1_000_000_000, decimal_places=6)]
Confidence = Annotated[Decimal, Field(gt=0, lt=1, decimal_places=4)]


class DeviceStateChanged(Event):
    """A device moved from one lifecycle state to another; the state machine allowed it.

    ``from_state`` is None for the first state assets records of a serial. ``location``
    is where the device is after the change (None while it is nowhere Stockwire knows);
    ``location_kind`` tells an installation at a customer site from one in the network."""

    event_type = "assets.device.state-changed"

    serial: Serial
    sku: Sku
    from_state: DeviceState | None
    to_state: DeviceState
    location: LocationCode | None = None
    location_kind: LocationKind | None = None
    job_id: JobId | None = None
    reason: Text
    changed_at: AwareDatetime
    source_event_id: uuid.UUID | None = None
    """The event (a stock movement, a monitoring event) that caused the change, if any."""

    @model_validator(mode="after")
    def _changes_state(self) -> "DeviceStateChanged":
        if self.from_state == self.to_state:
            raise ValueError("a state change needs two different states")
        return self


class TransitionRejected(Event):
    """A transition the state machine refused; nothing of it was applied.

    ``current_state`` is None when nothing is known of the serial; ``sku`` is the one the
    refused request named, when it named one."""

    event_type = "assets.transition.rejected"

    serial: Serial
    sku: Sku | None = None
    current_state: DeviceState | None
    attempted_state: DeviceState
    reason: TransitionRejectionReason
    message: Text
    location: LocationCode | None = None
    rejected_at: AwareDatetime
    source_event_id: uuid.UUID | None = None


class MaintenanceRecorded(Event):
    """Work was done on a device: an entry in its append-only maintenance log.

    A firmware upgrade names the version the device runs afterwards, which firmware
    compliance reads. A cost comes with its currency."""

    event_type = "assets.maintenance.recorded"

    maintenance_id: RecordId
    serial: Serial
    sku: Sku
    kind: MaintenanceKind
    performed_by: Actor
    performed_at: AwareDatetime
    outcome: Text
    cost: Cost | None = None
    currency: CurrencyCode | None = None
    firmware_version: FirmwareVersion | None = None
    note: Text | None = None
    source_event_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _cost_and_firmware(self) -> "MaintenanceRecorded":
        if (self.cost is None) != (self.currency is None):
            raise ValueError("a cost and its currency come together")
        if self.kind is MaintenanceKind.FIRMWARE_UPGRADE and self.firmware_version is None:
            raise ValueError("a firmware upgrade names the firmware_version it left")
        return self


class FailureRecorded(Event):
    """A device failed; reliability figures count it. The device's state change to faulty
    follows as its own event when the state machine allows it."""

    event_type = "assets.failure.recorded"

    failure_id: RecordId
    serial: Serial
    sku: Sku
    location: LocationCode | None = None
    source: FailureSource
    symptom: Text
    failed_at: AwareDatetime
    source_event_id: uuid.UUID | None = None


class RmaOpened(Event):
    """A return-merchandise authorization was opened with the vendor for a device."""

    event_type = "assets.rma.opened"

    serial: Serial
    sku: Sku
    vendor: Name
    rma_number: RecordId
    reason: Text
    opened_by: Actor
    opened_at: AwareDatetime


class RmaClosed(Event):
    """An RMA ended: repaired, replaced by another unit, or scrapped by the vendor.

    ``opened_at`` is repeated so a reader measures a vendor's turnaround from this event
    alone. A replacement names its serial, which inherits the link to this RMA."""

    event_type = "assets.rma.closed"

    serial: Serial
    sku: Sku
    vendor: Name
    rma_number: RecordId
    outcome: RmaOutcome
    replacement_serial: Serial | None = None
    opened_at: AwareDatetime
    closed_at: AwareDatetime
    note: Text | None = None

    @model_validator(mode="after")
    def _replacement_only_when_replaced(self) -> "RmaClosed":
        replaced = self.outcome is RmaOutcome.REPLACED
        if replaced != (self.replacement_serial is not None):
            raise ValueError("a replacement_serial is given exactly when the outcome is replaced")
        if self.replacement_serial == self.serial:
            raise ValueError("a replacement has another serial")
        if self.closed_at < self.opened_at:
            raise ValueError("an RMA closes after it opened")
        return self


class DeviceDisposed(Event):
    """A device left the company for good, with the certificate or reference that proves
    how (environmental compliance). The serial can never come back."""

    event_type = "assets.device.disposed"

    serial: Serial
    sku: Sku
    method: DisposalMethod
    certificate_reference: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    handled_by: Name | None = None
    """The recycler or buyer, when not the company itself."""
    disposed_by: Actor
    disposed_at: AwareDatetime
    note: Text | None = None


class ReliabilityComputed(Event):
    """A model's reliability over its whole recorded history up to ``as_of``: the latest
    record per key is the current figure.

    ``operating_hours`` is the total operating time T of every device of the model
    (the region's, with a region), counting the devices that have not failed; ``failures``
    is r. The MTBF is T / r, with a two-sided chi-square interval at ``confidence``
    (time-terminated): 2T / chi2(1 - a/2, 2r + 2) <= MTBF <= 2T / chi2(a/2, 2r), where
    a = 1 - confidence. With no failure there is no MTBF and no upper bound, and the lower
    bound is T / ln(1 / a)."""

    event_type = "assets.reliability.computed"

    sku: Sku
    region: Region | None = None
    """None for the model everywhere; a region's figure is keyed ``sku@region``."""
    installed_base: int = Field(ge=0, le=1_000_000_000)
    operating_hours: Hours
    device_years: Hours
    """``operating_hours`` / :data:`HOURS_PER_DEVICE_YEAR`."""
    failures: int = Field(ge=0, le=1_000_000_000)
    failures_per_device_year: Rate | None
    """None while there is no operating time."""
    mtbf_hours: Hours | None
    mtbf_lower_hours: Hours
    mtbf_upper_hours: Hours | None
    confidence: Confidence
    as_of: AwareDatetime

    @model_validator(mode="after")
    def _figures_agree(self) -> "ReliabilityComputed":
        if self.failures == 0:
            if self.mtbf_hours is not None or self.mtbf_upper_hours is not None:
                raise ValueError("with no failure there is no MTBF and no upper bound")
        else:
            if self.mtbf_hours is None or self.mtbf_upper_hours is None:
                raise ValueError("with failures, the MTBF and both bounds are given")
            if not self.mtbf_lower_hours <= self.mtbf_hours <= self.mtbf_upper_hours:
                raise ValueError("the MTBF lies between its lower and upper bounds")
        if (self.failures_per_device_year is None) != (self.operating_hours == 0):
            raise ValueError("failures_per_device_year is given exactly when there is time")
        return self


class AssetAlertRaised(AlertRaised):
    """Something about devices a person should know: a warranty ending, a model nearing
    end of life or failing more than its baseline, a device installed past end of life
    or below the minimum firmware, records disagreeing with the network, a refused
    transition.

    ``kind`` stays the common string (one of :class:`AssetAlertKind` today) so a new
    kind is not a breaking change. ``serial`` is set for an alert about one device,
    ``sku`` (and ``region``) for one about a model."""

    event_type = "assets.alert.raised"

    serial: Serial | None = None
    source_event_id: uuid.UUID | None = None


class AssetAlertResolved(AlertResolved):
    """The condition of an earlier assets alert with this ``dedup_key`` has cleared: the
    warranty was extended or the device left service, the failure rate is back to its
    baseline, the firmware was upgraded, the records and the network agree again."""

    event_type = "assets.alert.resolved"

    serial: Serial | None = None
    source_event_id: uuid.UUID | None = None
