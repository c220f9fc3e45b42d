"""The records people keep of a device: its maintenance log, a warranty set by hand, the
failures they report, RMAs with the vendor, and its disposal.

Each is a command checked here (:func:`check`: malformed is :class:`Invalid`, whatever
the state) and then against the device (:class:`Conflict`). A command that moves the
device is a :class:`~.devices.Fact` applied by :meth:`Device.apply`, the same state
machine stock's movements go through; but where a movement the machine refuses is
recorded as a rejection (stock already did it), a person's command it refuses is simply
not done: :func:`applied` turns the refusal into a :class:`Conflict` naming the rule, and
nothing is written.

Times people give (performed, failed, disposed) may not lie in the future, beyond
:data:`CLOCK_SKEW`; times assets takes itself (an RMA opened, shipped, closed) are now,
or the device's last fact if that is later, so they never go back before it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from stockwire.assets.domain.devices import Device, DeviceEvent, Fact, Failure, Superseded
from stockwire.assets.domain.devices import TransitionRefused as Refused
from stockwire.contracts.vocabulary import (
    DeviceState,
    DisposalMethod,
    FailureSource,
    MaintenanceKind,
    RmaOutcome,
    TransitionRejectionReason,
)
from stockwire.runtime.domain_errors import Conflict, Invalid, Problem
from stockwire.runtime.plain_text import text_problem

SERIAL_MAX = 128
ACTOR_MAX = 128
"""Who did something (performed_by, opened_by, disposed_by)."""
NAME_MAX = 200
"""A vendor, a recycler."""
RECORD_ID_MAX = 64
"""An RMA number, a maintenance id."""
FIRMWARE_MAX = 64
CERTIFICATE_MAX = 128
TEXT_MAX = 500
"""Free text: an outcome, a symptom, a reason, a note."""
COST_MAX = Decimal(1_000_000_000)
COST_PLACES = 4
CURRENCY_LENGTH = 3
CLOCK_SKEW = timedelta(minutes=5)
"""How far past now a time a person gives may lie (their clock may run ahead)."""

VENDOR_FORBIDDEN = "/"
"""A vendor names an RMA in a path (``/rmas/{vendor}/{rma_number}``)."""

REPORTED_BY = frozenset({FailureSource.OPERATOR, FailureSource.MAINTENANCE})
"""Who reports a failure by hand; monitoring and faulty returns have their own intake."""

AFTER_CLOSE = {
    RmaOutcome.REPAIRED: DeviceState.REFURBISHED,
    RmaOutcome.REPLACED: DeviceState.RETIRED,
    RmaOutcome.SCRAPPED: DeviceState.RETIRED,
}
"""Where a device stands once its RMA is closed: a repaired unit is refurbished (stock
takes it back with its next movement); a replaced or scrapped one is retired."""


@dataclass(frozen=True, slots=True)
class RecordMaintenance:
    serial: str
    kind: MaintenanceKind
    performed_by: str
    performed_at: datetime
    outcome: str
    cost: Decimal | None = None
    currency: str | None = None
    firmware_version: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SetWarranty:
    serial: str
    ends_on: date | None
    """None: the model's warranty from receipt applies again."""


@dataclass(frozen=True, slots=True)
class ReportFailure:
    serial: str
    symptom: str
    failed_at: datetime
    source: FailureSource = FailureSource.OPERATOR


@dataclass(frozen=True, slots=True)
class OpenRma:
    serial: str
    vendor: str
    rma_number: str
    reason: str
    opened_by: str


@dataclass(frozen=True, slots=True)
class ShipRma:
    vendor: str
    rma_number: str


@dataclass(frozen=True, slots=True)
class CloseRma:
    vendor: str
    rma_number: str
    outcome: RmaOutcome
    replacement_serial: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DisposeDevice:
    serial: str
    method: DisposalMethod
    certificate_reference: str
    disposed_by: str
    disposed_at: datetime
    handled_by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Maintenance:
    """An entry of a device's maintenance log (append-only)."""

    maintenance_id: str
    serial: str
    sku: str
    kind: MaintenanceKind
    performed_by: str
    performed_at: datetime
    outcome: str
    cost: Decimal | None
    currency: str | None
    firmware_version: str | None
    note: str | None

    @classmethod
    def of(cls, cmd: RecordMaintenance, sku: str, maintenance_id: str) -> "Maintenance":
        """The entry ``cmd`` makes, its cost in the places it is kept in."""
        return cls(
            maintenance_id,
            cmd.serial,
            sku,
            cmd.kind,
            cmd.performed_by,
            cmd.performed_at,
            cmd.outcome,
            None if cmd.cost is None else cmd.cost.quantize(Decimal(1).scaleb(-COST_PLACES)),
            cmd.currency,
            cmd.firmware_version,
            cmd.note,
        )


RecordCommand = (
    RecordMaintenance | SetWarranty | ReportFailure | OpenRma | ShipRma | CloseRma | DisposeDevice
)


@dataclass
class Rma:
    """A return-merchandise authorization: opened, shipped to the vendor, closed once."""

    vendor: str
    rma_number: str
    serial: str
    sku: str
    reason: str
    opened_by: str
    opened_at: datetime
    shipped_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: RmaOutcome | None = None
    replacement_serial: str | None = None
    note: str | None = None

    @property
    def name(self) -> str:
        return f"RMA {self.rma_number} of {self.vendor}"

    def ship(self, at: datetime) -> None:
        self._still_open()
        if self.shipped_at is not None:
            raise Conflict("rma_shipped", f"{self.name} was shipped at {self.shipped_at}")
        self.shipped_at = at

    def close(self, cmd: CloseRma, at: datetime) -> DeviceState:
        """Close it as ``cmd`` says; the state its device goes to."""
        self._still_open()
        if cmd.replacement_serial == self.serial:
            raise Invalid("replacement_serial", f"is the serial {self.name} is for")
        self.closed_at = max(at, self.opened_at)
        self.outcome = cmd.outcome
        self.replacement_serial = cmd.replacement_serial
        self.note = cmd.note
        return AFTER_CLOSE[cmd.outcome]

    def _still_open(self) -> None:
        if self.closed_at is not None:
            outcome = self.outcome.value if self.outcome else "closed"
            raise Conflict("rma_closed", f"{self.name} was closed ({outcome}) at {self.closed_at}")


# ---------------------------------------------------------------------------- well formed


def check(cmd: RecordCommand, now: datetime) -> None:
    """Refuse a malformed command, naming every field at fault (``now``: the server's
    time, against which no time given may lie in the future). The serial or RMA a
    command is about is not checked here: it names a record that must exist, and one no
    record has is not found."""
    problems = [p for p in _problems(cmd, now) if p is not None]
    if problems:
        raise Invalid.of(problems)


def _problems(cmd: RecordCommand, now: datetime) -> list[Problem | None]:
    match cmd:
        case RecordMaintenance():
            return [
                _code("performed_by", cmd.performed_by, ACTOR_MAX),
                _past("performed_at", cmd.performed_at, now),
                _text("outcome", cmd.outcome),
                _optional_code("firmware_version", cmd.firmware_version, FIRMWARE_MAX),
                _optional_text("note", cmd.note),
                *_cost(cmd),
                _firmware(cmd),
            ]
        case SetWarranty() | ShipRma():
            return []
        case ReportFailure():
            source = None
            if cmd.source not in REPORTED_BY:
                source = Problem("source", "is operator or maintenance; others have their intake")
            return [
                _text("symptom", cmd.symptom),
                _past("failed_at", cmd.failed_at, now),
                source,
            ]
        case OpenRma():
            return [
                _code("vendor", cmd.vendor, NAME_MAX, VENDOR_FORBIDDEN),
                _code("rma_number", cmd.rma_number, RECORD_ID_MAX),
                _text("reason", cmd.reason),
                _code("opened_by", cmd.opened_by, ACTOR_MAX),
            ]
        case CloseRma():
            replaced = cmd.outcome is RmaOutcome.REPLACED
            replacement = None
            if replaced and cmd.replacement_serial is None:
                replacement = Problem("replacement_serial", "is required when replaced")
            elif not replaced and cmd.replacement_serial is not None:
                replacement = Problem("replacement_serial", "is given only when replaced")
            return [
                replacement,
                _optional_code("replacement_serial", cmd.replacement_serial, SERIAL_MAX),
                _optional_text("note", cmd.note),
            ]
        case DisposeDevice():
            return [
                _code("certificate_reference", cmd.certificate_reference, CERTIFICATE_MAX),
                _code("disposed_by", cmd.disposed_by, ACTOR_MAX),
                _past("disposed_at", cmd.disposed_at, now),
                _optional_code("handled_by", cmd.handled_by, NAME_MAX),
                _optional_text("note", cmd.note),
            ]


def _code(name: str, value: str, max_length: int, forbidden: str = "") -> Problem | None:
    reason = text_problem(value, max_length, forbidden)
    return Problem(name, reason) if reason else None


def _optional_code(name: str, value: str | None, max_length: int) -> Problem | None:
    return None if value is None else _code(name, value, max_length)


def _text(name: str, value: str) -> Problem | None:
    """Free text: a line or a paragraph, at most :data:`TEXT_MAX`."""
    if not value:
        return Problem(name, "is required")
    if len(value) > TEXT_MAX:
        return Problem(name, f"must be at most {TEXT_MAX} characters, not {len(value)}")
    if "\x00" in value:
        return Problem(name, "must not contain NUL characters")
    return None


def _optional_text(name: str, value: str | None) -> Problem | None:
    return None if value is None else _text(name, value)


def _past(name: str, at: datetime, now: datetime) -> Problem | None:
    if at.tzinfo is None or at.utcoffset() is None:
        return Problem(name, "must carry a time zone")
    if at > now + CLOCK_SKEW:
        return Problem(name, f"must not lie in the future (now is {now.isoformat()})")
    return None


def _cost(cmd: RecordMaintenance) -> list[Problem | None]:
    if (cmd.cost is None) != (cmd.currency is None):
        missing = "currency" if cmd.currency is None else "cost"
        return [Problem(missing, "a cost and its currency come together")]
    if cmd.cost is None or cmd.currency is None:
        return []
    cost = None
    places = -int(cmd.cost.as_tuple().exponent) if cmd.cost.is_finite() else COST_PLACES + 1
    if not (0 <= cmd.cost <= COST_MAX) or places > COST_PLACES:
        cost = Problem("cost", f"must be 0 to {COST_MAX} with at most {COST_PLACES} decimal places")
    currency = None
    if len(cmd.currency) != CURRENCY_LENGTH or not all("A" <= c <= "Z" for c in cmd.currency):
        currency = Problem("currency", "must be an ISO 4217 code, three capital letters")
    return [cost, currency]


def _firmware(cmd: RecordMaintenance) -> Problem | None:
    if cmd.kind is MaintenanceKind.FIRMWARE_UPGRADE and cmd.firmware_version is None:
        return Problem("firmware_version", "is required for a firmware_upgrade")
    return None


# ----------------------------------------------------------------------- against the device


def writable(device: Device) -> None:
    """Anything may be recorded of a device but a disposed one."""
    if device.state is DeviceState.DISPOSED:
        raise Conflict(
            TransitionRejectionReason.DISPOSED.value,
            f"serial {device.serial} was disposed of: nothing more is recorded of it",
        )


def assets_time(device: Device, now: datetime) -> datetime:
    """The time of something assets records now: never before the device's last fact."""
    return max(now, device.as_of)


def failure_fact(device: Device, cmd: ReportFailure) -> Fact:
    """A failure someone reports: the device is faulty from ``failed_at``, where the state
    machine allows it (installed, in stock, on its way), and the failure counts."""
    return Fact(
        serial=device.serial,
        sku=device.sku,
        at=cmd.failed_at,
        to_state=DeviceState.FAULTY,
        reason=f"failure reported ({cmd.source.value}): {cmd.symptom}",
        failure=Failure(cmd.source, cmd.symptom),
    )


def rma_fact(device: Device, to_state: DeviceState, rma: Rma, what: str, at: datetime) -> Fact:
    """The state an RMA's step puts its device in (``what``: opened, shipped, closed)."""
    return Fact(
        serial=device.serial,
        sku=device.sku,
        at=at,
        to_state=to_state,
        reason=f"{rma.name} {what}",
    )


def disposal_fact(device: Device, cmd: DisposeDevice) -> Fact:
    return Fact(
        serial=device.serial,
        sku=device.sku,
        at=cmd.disposed_at,
        to_state=DeviceState.DISPOSED,
        reason=f"disposed of ({cmd.method.value}, certificate {cmd.certificate_reference})",
    )


def applied(
    device: Device, fact: Fact, *, at_field: str, must_move: bool = True
) -> list[DeviceEvent]:
    """What ``fact`` did to ``device``; a :class:`Conflict` instead when the state machine
    refuses it (naming its rule), when ``fact`` is older than the device's last fact
    (``at_field`` names the time given), or, with ``must_move``, when the device is in
    that state already. Nothing moves a disposed device."""
    writable(device)
    if must_move and fact.to_state is device.state:
        raise Conflict("state", f"serial {device.serial} is {device.state.value} already")
    before = len(device.events)
    device.apply(fact)
    events = device.events[before:]
    for event in events:
        if isinstance(event, Refused):
            raise Conflict(event.reason.value, event.message)
        if isinstance(event, Superseded):
            raise Conflict(
                at_field,
                f"is before the last fact of serial {device.serial} "
                f"({device.as_of.isoformat()}), so it would change nothing",
            )
    return events


# ----------------------------------------------------------------------------- figures

YIELD_PLACES = Decimal("0.0001")


def refurbish_yield(repaired: int, closed: int) -> Decimal | None:
    """The share of a model's closed RMAs that came back repaired; None before any is
    closed."""
    if closed == 0:
        return None
    return (Decimal(repaired) / Decimal(closed)).quantize(YIELD_PLACES)
