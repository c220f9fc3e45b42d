"""A command's changes before they are applied: the rules read through a draft as if
they were, and the book merges it into the state only if no rule refused."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stockwire.contracts.vocabulary import AlertKind, AlertSeverity, MovementKind, RejectionReason
from stockwire.stock.domain.commands import Origin
from stockwire.stock.domain.events import Alert, Leg, Movement, Rejection, Resolution
from stockwire.stock.domain.model import (
    ONE,
    ZERO,
    Amounts,
    BalanceKey,
    Count,
    CountLine,
    CountLineKey,
    JobPart,
    JobPartKey,
    Pair,
    Reservation,
    ReservationStatus,
    SerialRecord,
    Transfer,
)

if TYPE_CHECKING:
    from stockwire.stock.domain.book import StockBook

UNKNOWN_SKU = "?"
"""The SKU a rejection names when the command named none and its serial is unknown."""


class Refused(Exception):
    """A stock rule refuses the command; ``conflict`` marks a serial seen in two places."""

    def __init__(self, reason: RejectionReason, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.conflict = conflict


@dataclass
class Focus:
    """What the command is working on, for the rejection if a rule refuses."""

    kind: MovementKind
    sku: str
    location: str
    quantity: Decimal
    lot: str | None = None
    serial: str | None = None


def lot_label(lot: str) -> str:
    return f" lot {lot!r}" if lot else ""


class Draft:
    """One command's changes, readable through as if applied."""

    def __init__(self, book: "StockBook", origin: Origin, kind: MovementKind) -> None:
        self.book = book
        self.state = book.state
        self.origin = origin
        self.focus_on = Focus(kind, UNKNOWN_SKU, "?", ONE)
        self.deltas: dict[BalanceKey, Amounts] = {}
        self.serials: dict[str, SerialRecord] = {}
        self.custody: dict[JobPartKey, JobPart] = {}
        self.custody_deltas: dict[JobPartKey, Decimal] = {}
        self.reservations: dict[str, Reservation] = {}
        self.transfers: dict[str, Transfer] = {}
        self.counts: dict[str, Count] = {}
        self.lines: dict[CountLineKey, CountLine] = {}
        self.movements: list[Movement] = []
        self.alerts: list[Alert] = []
        self.resolutions: list[Resolution] = []
        self.skipped: list[Rejection] = []
        self.count: Count | None = None
        self.job_id: str | None = None
        self.repeat_of: str | None = None
        """Set when the command repeats one already applied, so it changes nothing: why."""

    def focus(
        self,
        kind: MovementKind,
        sku: str | None,
        location: str,
        quantity: Decimal,
        lot: str | None = None,
        serial: str | None = None,
    ) -> None:
        self.focus_on = Focus(kind, sku or UNKNOWN_SKU, location, quantity, lot, serial)

    # reading through the draft

    def amounts(self, key: BalanceKey) -> Amounts:
        base = self.state.balance(key)
        delta = self.deltas.get(key)
        return base if delta is None else base.plus(delta)

    def keys_at(self, pair: Pair) -> list[BalanceKey]:
        keys = set(self.state.keys_at(pair))
        keys.update(key for key in self.deltas if key.pair == pair)
        return sorted(keys)

    def serial(self, serial: str) -> SerialRecord | None:
        found = self.serials.get(serial)
        return found if found is not None else self.state.serials.get(serial)

    def held(self, key: JobPartKey) -> Decimal:
        part = self.custody.get(key) or self.state.job_parts.get(key)
        return part.quantity if part is not None else ZERO

    def custody_keys(self, job_id: str, sku: str) -> list[JobPartKey]:
        keys = {key for key in self.state.custody_of(job_id) if key.sku == sku}
        keys.update(key for key in self.custody if key.job_id == job_id and key.sku == sku)
        return sorted(keys)

    def reservation(self, reservation_id: str) -> Reservation | None:
        return self.reservations.get(reservation_id) or self.state.reservations.get(reservation_id)

    def open_reservations(self, job_id: str, pair: Pair | None = None) -> list[Reservation]:
        ids = set(self.state.reservations_of(job_id))
        ids.update(r.reservation_id for r in self.reservations.values() if r.job_id == job_id)
        found = []
        for reservation_id in ids:
            reservation = self.reservation(reservation_id)
            if (
                reservation is not None
                and reservation.status == ReservationStatus.OPEN
                and (pair is None or reservation.pair == pair)
            ):
                found.append(reservation)
        return sorted(found, key=lambda r: (r.created_at, r.reservation_id))

    def transfer(self, transfer_id: str) -> Transfer | None:
        return self.transfers.get(transfer_id) or self.state.transfers.get(transfer_id)

    def count_of(self, count_id: str) -> Count | None:
        return self.counts.get(count_id) or self.state.counts.get(count_id)

    def line(self, key: CountLineKey) -> CountLine | None:
        return self.lines.get(key) or self.state.count_line(key)

    # recording

    def record(
        self,
        kind: MovementKind,
        reason_code: str,
        sku: str,
        location: str,
        quantity: Decimal,
        legs: Iterable[tuple[BalanceKey, Amounts]],
        **details: Any,
    ) -> Movement:
        merged: dict[BalanceKey, Amounts] = {}
        for key, delta in legs:
            before = merged.get(key)
            merged[key] = delta if before is None else before.plus(delta)
        for key, delta in merged.items():
            before = self.deltas.get(key)
            self.deltas[key] = delta if before is None else before.plus(delta)
        movement = Movement(
            movement_id=self.book.new_id(),
            kind=kind,
            reason_code=reason_code,
            sku=sku,
            location=location,
            quantity=quantity,
            legs=tuple(Leg(key, delta) for key, delta in merged.items()),
            actor=self.origin.actor,
            recorded_at=self.book.now,
            source_event_id=self.origin.source_event_id,
            **details,
        )
        self.movements.append(movement)
        return movement

    def move_serial(self, record: SerialRecord) -> None:
        """The serial's record after a movement of it: any conflict about it is over."""
        self.serials[record.serial] = replace(record, conflict=None)

    def mark_conflict(self, record: SerialRecord, raised: Pair) -> None:
        """The serial is in conflict, alerted about ``raised``; it does not move."""
        self.serials[record.serial] = replace(record, conflict=raised)

    def change_custody(
        self, job_id: str, sku: str, lot: str, serial: str, delta: Decimal, from_location: str
    ) -> None:
        key = JobPartKey(job_id, sku, lot, serial)
        before = self.custody.get(key) or self.state.job_parts.get(key)
        where = from_location if delta > 0 or before is None else before.from_location
        self.custody[key] = JobPart(self.held(key) + delta, where)
        self.custody_deltas[key] = self.custody_deltas.get(key, ZERO) + delta

    def alert(
        self,
        kind: AlertKind,
        severity: AlertSeverity,
        dedup_key: str,
        summary: str,
        sku: str,
        location: str,
        **details: Any,
    ) -> None:
        self.alerts.append(
            self.book.make_alert(
                kind, severity, dedup_key, summary, sku, location, self.origin, **details
            )
        )

    def resolve(
        self,
        kind: AlertKind,
        dedup_key: str,
        summary: str,
        sku: str,
        location: str,
        *,
        figures: Mapping[str, Decimal | None] | None = None,
        labels: Mapping[str, str | None] | None = None,
    ) -> None:
        self.resolutions.append(
            self.book.make_resolution(
                kind,
                dedup_key,
                summary,
                sku,
                location,
                self.origin,
                figures=figures,
                labels=labels,
            )
        )
