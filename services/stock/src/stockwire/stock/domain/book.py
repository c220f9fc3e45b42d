"""The stock book: applies commands to a working set, all or nothing each, in order.

Each command runs against a :class:`~stockwire.stock.domain.draft.Draft` laid over the
state. The draft gathers the command's legs, serial moves, custody changes and documents,
and the rules read through it, so a later line sees what an earlier line of the same
command did. If any rule refuses, the draft is dropped and the command becomes a
:class:`Rejection` with a ``rejected_movement`` alert: nothing of it is applied. Otherwise
the draft is merged into the state, and the movements and alerts it recorded join the
book's events.

The book itself only dispatches and keeps the outcome: it merges a draft (raising and
resolving stockout alerts, resolving the conflict of a serial that moves) or turns a
refusal into a rejection (remembering on a serial's record where its conflict was
alerted). Each command's rules live in a module named for what they do (see
:data:`RULES` and the package docstring); the negative-stock rule, checked once per
command after all its legs, in :mod:`~stockwire.stock.domain.negative_stock`.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from stockwire.contracts.ids import new_id
from stockwire.contracts.vocabulary import AlertKind, AlertSeverity, MovementKind
from stockwire.stock.domain import well_formed
from stockwire.stock.domain.adjustments import adjust
from stockwire.stock.domain.commands import (
    Adjust,
    CancelCount,
    CancelTransfer,
    CloseCount,
    Command,
    CompleteJob,
    InstallPart,
    IssueParts,
    OpenCount,
    Origin,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    ReleaseReservation,
    Reserve,
    ReturnPart,
    ShipTransfer,
    SwapDevice,
)
from stockwire.stock.domain.cycle_counts import (
    cancel_count,
    close_count,
    open_count,
    record_count,
)
from stockwire.stock.domain.draft import Draft, Refused
from stockwire.stock.domain.events import Alert, Movement, Outcome, Rejection, Resolution
from stockwire.stock.domain.job_parts import install_part, issue_parts, return_part, swap_device
from stockwire.stock.domain.limits import check_limits, within_level
from stockwire.stock.domain.model import (
    ONE,
    ZERO,
    CountLineKey,
    JobPartKey,
    Pair,
    Policy,
    SerialRecord,
    StockState,
)
from stockwire.stock.domain.negative_stock import check_negative
from stockwire.stock.domain.receiving import receive_goods
from stockwire.stock.domain.reservations import complete_job, release_reservation, reserve
from stockwire.stock.domain.transfers import cancel_transfer, receive_transfer, ship_transfer
from stockwire.stock.domain.well_formed import Malformed

Rule = Callable[[Draft, Any], None]
"""Applies one command to its draft, or raises ``Refused`` (or NotFound, Conflict,
Invalid)."""

RULES: dict[type, tuple[MovementKind, Rule]] = {
    ReceiveGoods: (MovementKind.RECEIPT, receive_goods),
    IssueParts: (MovementKind.ISSUE, issue_parts),
    InstallPart: (MovementKind.INSTALL, install_part),
    ReturnPart: (MovementKind.RETURN, return_part),
    SwapDevice: (MovementKind.INSTALL, swap_device),
    ShipTransfer: (MovementKind.TRANSFER_SHIP, ship_transfer),
    ReceiveTransfer: (MovementKind.TRANSFER_RECEIVE, receive_transfer),
    CancelTransfer: (MovementKind.TRANSFER_CANCEL, cancel_transfer),
    Adjust: (MovementKind.ADJUSTMENT, adjust),
    OpenCount: (MovementKind.COUNT_ADJUSTMENT, open_count),
    RecordCount: (MovementKind.COUNT_ADJUSTMENT, record_count),
    CloseCount: (MovementKind.COUNT_ADJUSTMENT, close_count),
    CancelCount: (MovementKind.COUNT_ADJUSTMENT, cancel_count),
    Reserve: (MovementKind.RESERVE, reserve),
    ReleaseReservation: (MovementKind.RELEASE, release_reservation),
    CompleteJob: (MovementKind.RELEASE, complete_job),
}
"""Each command's rule, and the kind of movement a rejection of it names until the rule
focuses on something more precise."""

DETAIL_LABELS = ("job_id", "serial", "transfer_id", "count_id")
"""An alert's details that are also its labels, where it names them."""


class StockBook:
    """Applies commands to ``state`` in order; :attr:`events` holds what happened."""

    def __init__(
        self,
        state: StockState,
        policy: Policy,
        now: datetime,
        new_id: Callable[[], uuid.UUID] = new_id,
    ) -> None:
        self.state = state
        self.policy = policy
        self.now = now
        self.new_id = new_id
        self.events: list[Movement | Rejection | Alert | Resolution] = []
        self.touched: dict[Pair, uuid.UUID | None] = {}
        """Pairs whose level changed, with the last movement that changed each."""
        self.dirty_serials: set[str] = set()
        self.custody_deltas: dict[JobPartKey, Decimal] = {}
        self.dirty_reservations: set[str] = set()
        self.dirty_transfers: set[str] = set()
        self.dirty_counts: set[str] = set()
        self.dirty_lines: set[CountLineKey] = set()

    @property
    def movements(self) -> list[Movement]:
        return [event for event in self.events if isinstance(event, Movement)]

    def execute(self, cmd: Command) -> Outcome:
        """Apply ``cmd`` whole, or record why not. Raises NotFound, Conflict or Invalid for
        a command that names a missing or clashing document, or is malformed, changing
        nothing; a malformed command that came from an event is rejected instead, since
        nobody is there to be told."""
        kind, rule = RULES[type(cmd)]
        draft = Draft(self, cmd.origin, kind)
        try:
            well_formed.check(cmd)
            rule(draft, cmd)
            check_negative(draft)
            check_limits(draft)
        except Malformed as malformed:
            if cmd.origin.source_event_id is None:
                raise
            return self._reject(draft, Refused(malformed.rejection, str(malformed)))
        except Refused as refused:
            return self._reject(draft, refused)
        return self._commit(draft)

    def execute_all(self, cmds: Iterable[Command]) -> list[Outcome]:
        return [self.execute(cmd) for cmd in cmds]

    def make_alert(
        self,
        kind: AlertKind,
        severity: AlertSeverity,
        dedup_key: str,
        summary: str,
        sku: str,
        location: str,
        origin: Origin,
        *,
        figures: Mapping[str, Decimal | None] | None = None,
        labels: Mapping[str, str | None] | None = None,
        **details: Any,
    ) -> Alert:
        """An alert; a quantity or figure it could not publish (beyond the level limit) is
        left out, and only its summary states it. Its labels are the job, serial, transfer
        and count it names, and ``labels``."""
        for figure in ("expected_quantity", "actual_quantity"):
            value = details.get(figure)
            if value is not None and not within_level(value):
                details[figure] = None
        named = {name: details.get(name) for name in DETAIL_LABELS}
        return Alert(
            alert_id=self.new_id(),
            kind=kind,
            severity=severity,
            dedup_key=dedup_key,
            summary=summary[:500],
            sku=sku,
            location=location,
            raised_at=self.now,
            source_event_id=origin.source_event_id,
            **self._context(sku, location, figures, {**named, **(labels or {})}),
            **details,
        )

    def make_resolution(
        self,
        kind: AlertKind,
        dedup_key: str,
        summary: str,
        sku: str,
        location: str,
        origin: Origin,
        *,
        figures: Mapping[str, Decimal | None] | None = None,
        labels: Mapping[str, str | None] | None = None,
    ) -> Resolution:
        """The resolution of the alerts raised with ``dedup_key`` about ``sku`` at
        ``location`` (the same key on the topic, so it follows them)."""
        return Resolution(
            kind=kind,
            dedup_key=dedup_key,
            summary=summary[:500],
            sku=sku,
            location=location,
            resolved_at=self.now,
            source_event_id=origin.source_event_id,
            **self._context(sku, location, figures, labels or {}),
        )

    def _context(
        self,
        sku: str,
        location: str,
        figures: Mapping[str, Decimal | None] | None,
        labels: Mapping[str, str | None],
    ) -> dict[str, Any]:
        """Region and category from the catalog copy, the figures that fit the limits, the
        labels that have a value."""
        place = self.state.locations.get(location)
        item = self.state.items.get(sku)
        return {
            "region": place.region if place is not None else None,
            "category": item.category if item is not None else None,
            "figures": {
                name: value
                for name, value in (figures or {}).items()
                if value is not None and within_level(value)
            },
            "labels": {name: value for name, value in labels.items() if value},
        }

    # ------------------------------------------------------------------ outcome handling

    def rejection_of(self, draft: Draft, refused: Refused) -> tuple[Rejection, list[Alert]]:
        focus = draft.focus_on
        job_id = draft.job_id
        rejection = Rejection(
            kind=focus.kind,
            reason=refused.reason,
            message=refused.message[:1000],
            sku=focus.sku,
            location=focus.location,
            quantity=abs(focus.quantity) or ONE,
            actor=draft.origin.actor,
            serial=focus.serial,
            lot=focus.lot,
            job_id=job_id,
            source_event_id=draft.origin.source_event_id,
        )
        alerts = [
            self.make_alert(
                AlertKind.REJECTED_MOVEMENT,
                AlertSeverity.WARNING,
                f"rejected_movement:{focus.sku}@{focus.location}:{refused.reason.value}",
                f"{focus.kind.value} of {focus.sku} at {focus.location} rejected: "
                f"{refused.message}",
                focus.sku,
                focus.location,
                draft.origin,
                figures={"quantity": rejection.quantity},
                labels={
                    "reason": refused.reason.value,
                    "movement_kind": focus.kind.value,
                    "lot": focus.lot,
                },
                serial=focus.serial,
                job_id=job_id,
            )
        ]
        if refused.conflict and focus.serial:
            alerts.append(
                self.make_alert(
                    AlertKind.SERIAL_CONFLICT,
                    AlertSeverity.CRITICAL,
                    serial_conflict_key(focus.serial),
                    f"serial {focus.serial} seen in two places: {refused.message}",
                    focus.sku,
                    focus.location,
                    draft.origin,
                    labels={"reason": refused.reason.value},
                    serial=focus.serial,
                    job_id=job_id,
                )
            )
        return rejection, alerts

    def _reject(self, draft: Draft, refused: Refused) -> Outcome:
        rejection, alerts = self.rejection_of(draft, refused)
        serial = draft.focus_on.serial
        record = self.state.serials.get(serial) if serial else None
        if refused.conflict and record is not None:
            self.state.serials[record.serial] = replace(
                record, conflict=Pair(rejection.sku, rejection.location)
            )
            self.dirty_serials.add(record.serial)
        self.events.append(rejection)
        self.events.extend(alerts)
        return Outcome(alerts=alerts, rejection=rejection)

    def _commit(self, draft: Draft) -> Outcome:
        state = self.state
        pairs = {key.pair for key in draft.deltas}
        before = {pair: state.level(pair) for pair in pairs}
        for key, delta in draft.deltas.items():
            state.add_balance(key, delta)
        for movement in draft.movements:
            for leg in movement.legs:
                self.touched[leg.key.pair] = movement.movement_id
        resolutions = list(draft.resolutions)
        for serial, record in draft.serials.items():
            held = state.serials.get(serial)
            if held is not None and held.conflict is not None and record.conflict is None:
                resolutions.append(self._serial_resolved(held.conflict, record, draft.origin))
            state.serials[serial] = record
            self.dirty_serials.add(serial)
        for part_key, part in draft.custody.items():
            state.put_job_part(part_key, part)
        for part_key, change in draft.custody_deltas.items():
            self.custody_deltas[part_key] = self.custody_deltas.get(part_key, ZERO) + change
        for reservation_id, reservation in draft.reservations.items():
            state.put_reservation(reservation)
            self.dirty_reservations.add(reservation_id)
        for transfer_id, transfer in draft.transfers.items():
            state.transfers[transfer_id] = transfer
            self.dirty_transfers.add(transfer_id)
        for count_id, count in draft.counts.items():
            state.counts[count_id] = count
            self.dirty_counts.add(count_id)
        for line_key, line in draft.lines.items():
            state.put_line(line_key, line)
            self.dirty_lines.add(line_key)
        alerts = list(draft.alerts)
        for pair in sorted(pairs):
            was, now = before[pair].available, state.level(pair).available
            figures = {"available": now, "was_available": was}
            if was > 0 >= now:
                alerts.append(
                    self.make_alert(
                        AlertKind.STOCKOUT,
                        AlertSeverity.WARNING,
                        stockout_key(pair),
                        f"{pair.sku} is out of stock at {pair.location} (available {now})",
                        pair.sku,
                        pair.location,
                        draft.origin,
                        figures=figures,
                        expected_quantity=was,
                        actual_quantity=now,
                        job_id=draft.job_id,
                    )
                )
            elif was <= 0 < now and pair in state.moved:
                resolutions.append(
                    self.make_resolution(
                        AlertKind.STOCKOUT,
                        stockout_key(pair),
                        f"{pair.sku} is available again at {pair.location} (available {now})",
                        pair.sku,
                        pair.location,
                        draft.origin,
                        figures=figures,
                        labels={"job_id": draft.job_id},
                    )
                )
        state.moved |= pairs
        self.events.extend(draft.movements)
        self.events.extend(draft.skipped)
        self.events.extend(alerts)
        self.events.extend(resolutions)
        return Outcome(
            movements=draft.movements,
            alerts=alerts,
            resolutions=resolutions,
            count=draft.count,
            levels={pair: state.level(pair) for pair in pairs},
            skipped=draft.skipped,
            repeat_of=draft.repeat_of,
        )

    def _serial_resolved(self, raised: Pair, record: SerialRecord, origin: Origin) -> Resolution:
        """A movement of a serial the books had in conflict was applied: the books and the
        field agree on where it is again. Resolved where the alert was raised."""
        return self.make_resolution(
            AlertKind.SERIAL_CONFLICT,
            serial_conflict_key(record.serial),
            f"serial {record.serial} is in one place again: {record.describe()}",
            raised.sku,
            raised.location,
            origin,
            labels={"serial": record.serial, "state": record.state.value},
        )


def stockout_key(pair: Pair) -> str:
    return f"stockout:{pair.sku}@{pair.location}"


def serial_conflict_key(serial: str) -> str:
    return f"serial_conflict:{serial}"
