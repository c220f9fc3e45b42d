"""A device: one serial's state, where it is, and what has happened to it.

Facts (a stock movement of the serial, a failure monitoring reported) arrive from topics
whose partitions are not ordered with each other: a serial's install, keyed by the
customer site, may overtake its receipt, keyed by the warehouse. Two rules keep the state
and its history right whatever the order:

- a fact older than one the device was already given (:attr:`Device.facts_until`) is
  late: the device is rebuilt from all its facts in the order they happened
  (:func:`rebuild`);
- a fact about a serial nothing is known of, that is not where a life starts, is
  *parked*: when the serial's first fact arrives, the parked facts are applied after it
  in time order (:func:`replay_parked`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from stockwire.assets.domain.lifecycle import IN_SERVICE, refusal
from stockwire.contracts.vocabulary import (
    DeviceState,
    FailureSource,
    LocationKind,
    TransitionRejectionReason,
)

HOUR_S = Decimal(3600)


@dataclass(frozen=True, slots=True)
class Failure:
    """A failure a fact reports: who saw it and what they saw."""

    source: FailureSource
    symptom: str


@dataclass(frozen=True, slots=True)
class Fact:
    """Something that happened to a serial at ``at``, and the state it leaves the device
    in. None moves nothing, except that a failure of a device in service makes it
    faulty (a failure reported of a device in stock is only kept in its timeline)."""

    serial: str
    sku: str
    at: datetime
    to_state: DeviceState | None
    reason: str
    location: str | None = None
    location_kind: LocationKind | None = None
    region: str | None = None
    job_id: str | None = None
    failure: Failure | None = None
    source_event_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class StateChanged:
    serial: str
    sku: str
    from_state: DeviceState | None
    to_state: DeviceState
    location: str | None
    location_kind: LocationKind | None
    job_id: str | None
    reason: str
    at: datetime
    source_event_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class TransitionRefused:
    serial: str
    sku: str
    current: DeviceState | None
    attempted: DeviceState
    reason: TransitionRejectionReason
    message: str
    location: str | None
    at: datetime
    source_event_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class FailureNoted:
    failure_id: str
    serial: str
    sku: str
    location: str | None
    region: str | None
    source: FailureSource
    symptom: str
    at: datetime
    source_event_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Superseded:
    """A fact older than the device's last applied one: kept in the timeline only."""

    fact: Fact


DeviceEvent = StateChanged | TransitionRefused | FailureNoted | Superseded

FAILURE_IDS = uuid.UUID("6f1c3a52-61e4-4c0e-9d0b-5b1e1f7f2a10")


def failure_id(serial: str, source_event_id: uuid.UUID | None, at: datetime) -> str:
    """The id of the failure a fact reports: the same fact always gives the same id, so a
    redelivered event records its failure once."""
    return str(uuid.uuid5(FAILURE_IDS, f"{serial}|{source_event_id}|{at.isoformat()}"))


@dataclass
class Device:
    serial: str
    sku: str
    state: DeviceState
    as_of: datetime
    """When the last fact that changed the device happened."""
    received_at: datetime
    location: str | None = None
    location_kind: LocationKind | None = None
    region: str | None = None
    job_id: str | None = None
    installed_since: datetime | None = None
    """When the current installation began (None while not installed)."""
    operating_hours: Decimal = Decimal(0)
    """Operating time of installations that have ended."""
    events: list[DeviceEvent] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    """The facts given to the device since it was loaded, applied or not (kept, so that a
    late fact can rebuild it: :func:`rebuild`)."""
    facts_until: datetime | None = None
    """When the latest fact the device was given happened, applied or not (None: as of
    :attr:`as_of`). A report that changed nothing counts: a movement it overtook is late."""
    late: bool = False
    """A fact older than :attr:`facts_until` arrived: the device must be rebuilt."""

    @classmethod
    def first(cls, fact: Fact) -> "Device | None":
        """The device a serial's first fact starts; None for a fact that cannot start a
        life (the caller parks it until the serial's first fact arrives)."""
        if fact.to_state is None or refusal(None, fact.to_state) is not None:
            return None
        device = cls(fact.serial, fact.sku, fact.to_state, fact.at, fact.at, facts_until=fact.at)
        device.facts.append(fact)
        device._arrive(fact)
        device.events.append(_changed(None, fact))
        return device

    def apply(self, fact: Fact) -> None:
        """Apply one fact, recording what it did in :attr:`events`."""
        self.facts.append(fact)
        until = self.facts_until or self.as_of
        self.facts_until = max(until, fact.at)
        if fact.at < until:
            self.events.append(Superseded(fact))
            self.late = True
            return
        if fact.sku != self.sku:
            self._refuse(
                fact,
                fact.to_state or self.state,
                TransitionRejectionReason.SKU_MISMATCH,
                f"serial {self.serial} is recorded as {self.sku}, not {fact.sku}",
            )
            return
        attempted = fact.to_state or self.state
        if fact.failure is not None and fact.to_state is None and self.state in IN_SERVICE:
            attempted = DeviceState.FAULTY
        if fact.to_state is None and attempted is self.state:
            # A report that changes nothing (a failure of a device not in service) does not
            # make the device's state newer: a movement it overtook still applies.
            return
        reason = refusal(self.state, attempted)
        if reason is not None:
            self._refuse(fact, attempted, reason, _refusal_message(self, attempted, reason))
            return
        if fact.failure is not None and (fact.to_state is not None or self.state in IN_SERVICE):
            self.events.append(self._failure(fact, fact.failure))
        before = self.state
        moved = replace(fact, to_state=attempted)
        self._leave(fact.at, attempted)
        self.as_of = fact.at
        self._arrive(moved)
        if attempted is not before:
            self.events.append(_changed(before, moved))

    def operating_hours_at(self, now: datetime) -> Decimal:
        """Total operating time up to ``now``, the current installation included."""
        if self.installed_since is None:
            return self.operating_hours
        return self.operating_hours + _hours(now - self.installed_since)

    def _leave(self, at: datetime, to_state: DeviceState) -> None:
        if self.installed_since is not None and to_state not in IN_SERVICE:
            self.operating_hours += _hours(at - self.installed_since)
            self.installed_since = None

    def _arrive(self, fact: Fact) -> None:
        to_state = fact.to_state or self.state
        if to_state in IN_SERVICE and self.installed_since is None:
            self.installed_since = fact.at
        self.state = to_state
        if fact.location is not None:
            self.location = fact.location
            self.location_kind = fact.location_kind
            self.region = fact.region
            self.job_id = fact.job_id

    def _failure(self, fact: Fact, failure: Failure) -> FailureNoted:
        return FailureNoted(
            failure_id(self.serial, fact.source_event_id, fact.at),
            self.serial,
            self.sku,
            fact.location or self.location,
            fact.region or self.region,
            failure.source,
            failure.symptom,
            fact.at,
            fact.source_event_id,
        )

    def _refuse(
        self,
        fact: Fact,
        attempted: DeviceState,
        reason: TransitionRejectionReason,
        message: str,
    ) -> None:
        self.events.append(
            TransitionRefused(
                self.serial,
                fact.sku,
                self.state,
                attempted,
                reason,
                message,
                fact.location,
                fact.at,
                fact.source_event_id,
            )
        )


def unknown_serial(fact: Fact) -> TransitionRefused:
    """The refusal of a parked fact whose serial's first fact never came."""
    attempted = fact.to_state or DeviceState.FAULTY
    return TransitionRefused(
        fact.serial,
        fact.sku,
        None,
        attempted,
        TransitionRejectionReason.UNKNOWN_SERIAL,
        f"nothing is known of serial {fact.serial}: {fact.reason} has waited since "
        f"{fact.at.isoformat()} for its receipt or stock found",
        fact.location,
        fact.at,
        fact.source_event_id,
    )


def rebuild(device: Device, history: Sequence[Fact]) -> Device:
    """The device as every one of its facts (``history``: all it was ever given, this
    transaction's included), applied in the order they happened, makes it.

    A late fact changes the past: the device's state, place and operating time become
    what the facts in time order give. Nothing already told is told again: the new
    device's events are those ``device`` recorded, the failures the replay finds (a
    failure's id is its cause's, so one already recorded is not recorded twice), and one
    state change from where ``device`` stood to where the replay ends, if they differ.
    Facts before the serial's first one cannot start its life and are passed over."""
    rebuilt: Device | None = None
    for fact in sorted(history, key=lambda each: each.at):
        if rebuilt is None:
            rebuilt = Device.first(fact)
        else:
            rebuilt.apply(fact)
    if rebuilt is None:
        return device
    told = list(device.events)
    told += [e for e in rebuilt.events if isinstance(e, FailureNoted)]
    if rebuilt.state is not device.state:
        late = next(e.fact for e in reversed(device.events) if isinstance(e, Superseded))
        told.append(
            StateChanged(
                device.serial,
                device.sku,
                device.state,
                rebuilt.state,
                rebuilt.location,
                rebuilt.location_kind,
                rebuilt.job_id,
                f"history rebuilt in time order after a late fact ({late.reason})",
                rebuilt.as_of,
                late.source_event_id,
            )
        )
    rebuilt.events = told
    rebuilt.facts = list(device.facts)
    rebuilt.received_at = min(device.received_at, rebuilt.received_at)
    return rebuilt


def replay_parked(device: Device, parked: list[Fact]) -> None:
    """Apply a serial's parked facts to its new device in time order: those after its
    first fact move it on, those before are superseded."""
    for fact in sorted(parked, key=lambda each: each.at):
        device.apply(fact)


def _changed(before: DeviceState | None, fact: Fact) -> StateChanged:
    assert fact.to_state is not None
    return StateChanged(
        fact.serial,
        fact.sku,
        before,
        fact.to_state,
        fact.location,
        fact.location_kind,
        fact.job_id,
        fact.reason,
        fact.at,
        fact.source_event_id,
    )


def _refusal_message(
    device: Device, attempted: DeviceState, reason: TransitionRejectionReason
) -> str:
    if reason is TransitionRejectionReason.DISPOSED:
        return f"serial {device.serial} was disposed of and can never come back"
    return f"serial {device.serial} cannot go from {device.state.value} to {attempted.value}"


def _hours(span: timedelta) -> Decimal:
    return max(Decimal(0), Decimal(str(span.total_seconds())) / HOUR_S)
