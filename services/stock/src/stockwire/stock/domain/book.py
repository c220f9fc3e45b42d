"""The stock book: applies commands to a working set, all or nothing each, in order.

Each command runs against a :class:`~stockwire.stock.domain.draft.Draft` laid over the
state. The draft gathers the command's legs, serial moves, custody changes and documents,
and the rules read through it, so a later line sees what an earlier line of the same
command did. If any rule
refuses, the draft is dropped and the command becomes a :class:`Rejection` with a
``rejected_movement`` alert: nothing of it is applied. Otherwise the draft is merged into
the state, and the movements and alerts it recorded join the book's events.

Negative stock is checked once per command, after all its legs: a balance whose on hand
fell below zero (or a level whose available fell below zero by a reservation) refuses the
command unless the location's kind allows negative stock, in which case an alert says so.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from stockwire.contracts.vocabulary import (
    AlertKind,
    AlertSeverity,
    MovementKind,
    RejectionReason,
    ReturnCondition,
)
from stockwire.stock.domain.commands import (
    Adjust,
    CloseCount,
    Command,
    CompleteJob,
    InstallPart,
    IssueParts,
    Line,
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
from stockwire.stock.domain.counting import CountClosing
from stockwire.stock.domain.draft import Draft, Refused, lot_label
from stockwire.stock.domain.errors import Conflict, Invalid, NotFound
from stockwire.stock.domain.events import Alert, Movement, Outcome, Rejection
from stockwire.stock.domain.model import (
    NOT_TRACKED,
    ONE,
    SERIAL_HELD,
    ZERO,
    Amounts,
    BalanceKey,
    Count,
    CountLine,
    CountLineKey,
    CountStatus,
    ItemInfo,
    JobPartKey,
    LocationInfo,
    Pair,
    Policy,
    Reservation,
    ReservationStatus,
    SerialRecord,
    SerialState,
    StockState,
    Transfer,
    TransferStatus,
    quarantine_for,
)

ACCURACY_PLACES = Decimal("0.00001")

KIND_OF: dict[type, MovementKind] = {
    ReceiveGoods: MovementKind.RECEIPT,
    IssueParts: MovementKind.ISSUE,
    InstallPart: MovementKind.INSTALL,
    ReturnPart: MovementKind.RETURN,
    SwapDevice: MovementKind.INSTALL,
    ShipTransfer: MovementKind.TRANSFER_SHIP,
    ReceiveTransfer: MovementKind.TRANSFER_RECEIVE,
    Adjust: MovementKind.ADJUSTMENT,
    OpenCount: MovementKind.COUNT_ADJUSTMENT,
    RecordCount: MovementKind.COUNT_ADJUSTMENT,
    CloseCount: MovementKind.COUNT_ADJUSTMENT,
    Reserve: MovementKind.RESERVE,
    ReleaseReservation: MovementKind.RELEASE,
    CompleteJob: MovementKind.RELEASE,
}


class StockBook:
    """Applies commands to ``state`` in order; :attr:`events` holds what happened."""

    def __init__(
        self,
        state: StockState,
        policy: Policy,
        now: datetime,
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> None:
        self.state = state
        self.policy = policy
        self.now = now
        self.new_id = new_id
        self.events: list[Movement | Rejection | Alert] = []
        self.touched: dict[Pair, uuid.UUID | None] = {}
        """Pairs whose level changed, with the last movement that changed each."""
        self.dirty_serials: set[str] = set()
        self.custody_deltas: dict[JobPartKey, Decimal] = {}
        self.dirty_reservations: set[str] = set()
        self.dirty_transfers: set[str] = set()
        self.dirty_counts: set[str] = set()
        self.dirty_lines: set[CountLineKey] = set()
        self._apply: dict[type, Callable[[Draft, Any], None]] = {
            ReceiveGoods: self._receive_goods,
            IssueParts: self._issue_parts,
            InstallPart: self._install_part,
            ReturnPart: self._return_part,
            SwapDevice: self._swap_device,
            ShipTransfer: self._ship_transfer,
            ReceiveTransfer: self._receive_transfer,
            Adjust: self._adjust,
            OpenCount: self._open_count,
            RecordCount: self._record_count,
            CloseCount: self._close_count,
            Reserve: self._reserve,
            ReleaseReservation: self._release,
            CompleteJob: self._complete_job,
        }

    @property
    def movements(self) -> list[Movement]:
        return [event for event in self.events if isinstance(event, Movement)]

    def execute(self, cmd: Command) -> Outcome:
        """Apply ``cmd`` whole, or record why not. Raises NotFound, Conflict or Invalid for
        a command that names a missing or clashing document, changing nothing."""
        draft = Draft(self, cmd.origin, KIND_OF[type(cmd)])
        try:
            self._apply[type(cmd)](draft, cmd)
            self._check_negative(draft)
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
        **details: Any,
    ) -> Alert:
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
            **details,
        )

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
                serial=focus.serial,
                job_id=job_id,
            )
        ]
        if refused.conflict and focus.serial:
            alerts.append(
                self.make_alert(
                    AlertKind.SERIAL_CONFLICT,
                    AlertSeverity.CRITICAL,
                    f"serial_conflict:{focus.serial}",
                    f"serial {focus.serial} seen in two places: {refused.message}",
                    focus.sku,
                    focus.location,
                    draft.origin,
                    serial=focus.serial,
                    job_id=job_id,
                )
            )
        return rejection, alerts

    def _reject(self, draft: Draft, refused: Refused) -> Outcome:
        rejection, alerts = self.rejection_of(draft, refused)
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
        for serial, record in draft.serials.items():
            state.serials[serial] = record
            self.dirty_serials.add(serial)
        for key, part in draft.custody.items():
            state.put_job_part(key, part)
        for key, delta in draft.custody_deltas.items():
            self.custody_deltas[key] = self.custody_deltas.get(key, ZERO) + delta
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
            if was > 0 >= now:
                alerts.append(
                    self.make_alert(
                        AlertKind.STOCKOUT,
                        AlertSeverity.WARNING,
                        f"stockout:{pair.sku}@{pair.location}",
                        f"{pair.sku} is out of stock at {pair.location} (available {now})",
                        pair.sku,
                        pair.location,
                        draft.origin,
                        expected_quantity=was,
                        actual_quantity=now,
                    )
                )
        self.events.extend(draft.movements)
        self.events.extend(draft.skipped)
        self.events.extend(alerts)
        return Outcome(
            movements=draft.movements,
            alerts=alerts,
            count=draft.count,
            levels={pair: state.level(pair) for pair in pairs},
            skipped=draft.skipped,
        )

    def _check_negative(self, draft: Draft) -> None:
        reserving: set[Pair] = set()
        for key, delta in draft.deltas.items():
            if delta.reserved > 0:
                reserving.add(key.pair)
            if delta.on_hand >= 0:
                continue
            after = draft.amounts(key).on_hand
            if after >= 0:
                continue
            where = f"{key.sku}{lot_label(key.lot)} at {key.location}"
            self._negative(
                draft,
                key.pair,
                f"not enough stock: {where} has {after - delta.on_hand} on hand, "
                f"{-delta.on_hand} needed",
                after,
            )
        for pair in sorted(reserving):
            after = self.state.level(pair)
            for key, delta in draft.deltas.items():
                if key.pair == pair:
                    after = after.plus(delta)
            if after.available < 0:
                self._negative(
                    draft,
                    pair,
                    f"not enough available to reserve: {pair.sku} at {pair.location} would "
                    f"have {after.available} available",
                    after.available,
                )

    def _negative(self, draft: Draft, pair: Pair, message: str, after: Decimal) -> None:
        location = self.state.locations.get(pair.location)
        if location is None or location.kind not in self.policy.allow_negative_kinds:
            draft.focus_on.sku, draft.focus_on.location = pair.sku, pair.location
            raise Refused(RejectionReason.NEGATIVE_STOCK, message)
        draft.alert(
            AlertKind.NEGATIVE_STOCK_ALLOWED,
            AlertSeverity.INFO,
            f"negative_stock:{pair.sku}@{pair.location}",
            f"{message}; allowed at a {location.kind} location",
            pair.sku,
            pair.location,
            actual_quantity=after,
        )

    # ------------------------------------------------------------------ shared rules

    def _item(self, draft: Draft, sku: str, *, retired_ok: bool = False) -> ItemInfo:
        item = self.state.items.get(sku)
        if item is None:
            raise Refused(RejectionReason.UNKNOWN_SKU, f"SKU {sku!r} is not in the catalog")
        if not item.active and not retired_ok:
            raise Refused(RejectionReason.RETIRED_SKU, f"SKU {sku!r} is retired")
        return item

    def _location(self, code: str) -> LocationInfo:
        location = self.state.locations.get(code)
        if location is None:
            raise Refused(
                RejectionReason.UNKNOWN_LOCATION, f"location {code!r} is not in the catalog"
            )
        if not location.active:
            raise Refused(RejectionReason.INACTIVE_LOCATION, f"location {code!r} is retired")
        return location

    def _sku_of(self, draft: Draft, sku: str | None, serials: tuple[str, ...]) -> str:
        """The SKU a line names, or for a serial-only scan, the serial's SKU."""
        if sku is not None:
            return sku
        record = draft.serial(serials[0]) if serials else None
        if record is None:
            raise Refused(
                RejectionReason.UNKNOWN_SKU,
                f"the scan names serial {serials[0] if serials else '?'!r} only, and stock "
                "has no record of it; scan the SKU too",
            )
        draft.focus_on.sku = record.sku
        return record.sku

    def _serials_fit(self, item: ItemInfo, line: Line) -> None:
        if item.serialized and not line.serials:
            raise Refused(
                RejectionReason.SERIAL_REQUIRED, f"SKU {item.sku!r} is serial-tracked: name serials"
            )
        if not item.serialized and line.serials:
            raise Refused(
                RejectionReason.INVALID_QUANTITY,
                f"SKU {item.sku!r} is not serial-tracked; send a quantity without serials",
            )

    def _lot(self, item: ItemInfo, lot: str | None) -> str:
        return (lot or NOT_TRACKED) if item.by_lot else NOT_TRACKED

    def _in_stock_at(
        self, draft: Draft, item: ItemInfo, serial: str, location: str
    ) -> SerialRecord:
        """The serial's record, which must say it is on the shelf at ``location``."""
        draft.focus_on.serial = serial
        record = draft.serial(serial)
        if (
            record is None
            or record.state != SerialState.IN_STOCK
            or record.location != location
            or record.sku != item.sku
        ):
            if record is None:
                where = "stock has no record of it"
            elif record.sku != item.sku:
                where = f"it is a {record.sku}, {record.describe()}"
            else:
                where = f"it is {record.describe()}"
            raise Refused(
                RejectionReason.SERIAL_NOT_AT_LOCATION,
                f"serial {serial!r} is not in stock at {location!r}: {where}",
                conflict=record is not None,
            )
        return record

    def _arriving(self, draft: Draft, serial: str) -> SerialRecord | None:
        """The serial's record, which must not say it is in our hands somewhere else."""
        draft.focus_on.serial = serial
        record = draft.serial(serial)
        if record is not None and record.state in SERIAL_HELD:
            raise Refused(
                RejectionReason.SERIAL_ALREADY_IN_STOCK,
                f"serial {serial!r} is already {record.describe()}",
                conflict=True,
            )
        return record

    def _take(
        self, draft: Draft, item: ItemInfo, location: str, quantity: Decimal, lot: str | None
    ) -> list[tuple[str, Decimal]]:
        """Which lots ``quantity`` of a non-serial item leaves ``location`` from: the named
        lot; else, for lot-tracked items, lots in order while they last, the rest from the
        untracked balance (where the negative-stock rule judges it)."""
        if lot is not None or not item.by_lot:
            return [(self._lot(item, lot), quantity)]
        portions: dict[str, Decimal] = {}
        remaining = quantity
        for key in draft.keys_at(Pair(item.sku, location)):
            if key.serial or remaining <= 0:
                continue
            on_hand = draft.amounts(key).on_hand
            if on_hand > 0:
                take = min(on_hand, remaining)
                portions[key.lot] = take
                remaining -= take
        if remaining > 0:
            portions[NOT_TRACKED] = portions.get(NOT_TRACKED, ZERO) + remaining
        return list(portions.items())

    def _fulfil(self, draft: Draft, job_id: str, pair: Pair, quantity: Decimal) -> Decimal:
        """Fulfil ``job_id``'s open reservations at ``pair`` by up to ``quantity``."""
        fulfilled = ZERO
        for reservation in draft.open_reservations(job_id, pair):
            if fulfilled >= quantity:
                break
            take = min(reservation.remaining, quantity - fulfilled)
            done = reservation.fulfilled + take
            status = (
                ReservationStatus.FULFILLED if done >= reservation.quantity else reservation.status
            )
            draft.reservations[reservation.reservation_id] = replace(
                reservation, fulfilled=done, status=status
            )
            fulfilled += take
        return fulfilled

    # ------------------------------------------------------------------ receipts

    def _receive_goods(self, draft: Draft, cmd: ReceiveGoods) -> None:
        for line in cmd.lines:
            if line.received <= 0:
                continue
            draft.focus(MovementKind.RECEIPT, line.sku, cmd.location, line.received, line.lot)
            sku = self._sku_of(draft, line.sku, line.serials)
            item = self._item(draft, sku)
            self._location(cmd.location)
            self._serials_fit(item, Line(sku, line.received, line.serials, line.lot))
            if line.ordered is None:
                reason = "scan_receipt"
            elif line.received < line.ordered:
                reason = "receipt_short"
            elif line.received > line.ordered:
                reason = "receipt_over"
            else:
                reason = "receipt_exact"
            details = {"to_location": cmd.location, "po_number": cmd.po_number}
            if item.serialized:
                for serial in line.serials:
                    self._arriving(draft, serial)
                    key = BalanceKey(sku, cmd.location, NOT_TRACKED, serial)
                    movement = draft.record(
                        MovementKind.RECEIPT,
                        reason,
                        sku,
                        cmd.location,
                        ONE,
                        [(key, Amounts(on_hand=ONE))],
                        serial=serial,
                        lot=line.lot or NOT_TRACKED,
                        **details,
                    )
                    draft.move_serial(
                        SerialRecord(
                            serial,
                            sku,
                            cmd.location,
                            SerialState.IN_STOCK,
                            line.lot or NOT_TRACKED,
                            None,
                            movement.movement_id,
                        )
                    )
            else:
                lot = self._lot(item, line.lot)
                key = BalanceKey(sku, cmd.location, lot, NOT_TRACKED)
                draft.record(
                    MovementKind.RECEIPT,
                    reason,
                    sku,
                    cmd.location,
                    line.received,
                    [(key, Amounts(on_hand=line.received))],
                    lot=lot,
                    **details,
                )

    # ------------------------------------------------------------------ issues

    def _issue_parts(self, draft: Draft, cmd: IssueParts) -> None:
        draft.job_id = cmd.job_id
        for line in cmd.lines:
            draft.focus(MovementKind.ISSUE, line.sku, cmd.from_location, line.quantity, line.lot)
            sku = self._sku_of(draft, line.sku, line.serials)
            item = self._item(draft, sku)
            self._location(cmd.from_location)
            self._serials_fit(item, line)
            portions: list[tuple[BalanceKey, Decimal, str]] = []
            if item.serialized:
                for serial in line.serials:
                    record = self._in_stock_at(draft, item, serial, cmd.from_location)
                    key = BalanceKey(sku, cmd.from_location, NOT_TRACKED, serial)
                    portions.append((key, ONE, record.lot))
            else:
                for lot, quantity in self._take(
                    draft, item, cmd.from_location, line.quantity, line.lot
                ):
                    key = BalanceKey(sku, cmd.from_location, lot, NOT_TRACKED)
                    portions.append((key, quantity, lot))
            for key, quantity, lot in portions:
                legs = [(key, Amounts(on_hand=-quantity))]
                if cmd.job_id is not None:
                    fulfilled = self._fulfil(draft, cmd.job_id, key.pair, quantity)
                    if fulfilled:
                        reserved_key = BalanceKey(sku, cmd.from_location, NOT_TRACKED, NOT_TRACKED)
                        legs.append((reserved_key, Amounts(reserved=-fulfilled)))
                movement = draft.record(
                    MovementKind.ISSUE,
                    cmd.reason_code,
                    sku,
                    cmd.from_location,
                    quantity,
                    legs,
                    from_location=cmd.from_location,
                    job_id=cmd.job_id,
                    lot=lot,
                    serial=key.serial,
                )
                if cmd.job_id is not None:
                    draft.change_custody(
                        cmd.job_id, sku, key.lot, key.serial, quantity, cmd.from_location
                    )
                if key.serial:
                    record = draft.serial(key.serial)
                    assert record is not None
                    draft.move_serial(
                        replace(
                            record,
                            state=SerialState.ISSUED,
                            job_id=cmd.job_id,
                            last_movement_id=movement.movement_id,
                        )
                    )

    # ------------------------------------------------------------------ installs

    def _install_part(self, draft: Draft, cmd: InstallPart) -> None:
        draft.job_id = cmd.job_id
        self._install(draft, cmd.job_id, cmd.from_location, cmd.customer_site, cmd.line)

    def _install(
        self, draft: Draft, job_id: str | None, from_location: str, site: str, line: Line
    ) -> None:
        draft.focus(MovementKind.INSTALL, line.sku, from_location, line.quantity, line.lot)
        sku = self._sku_of(draft, line.sku, line.serials)
        item = self._item(draft, sku)
        self._serials_fit(item, line)
        if item.serialized:
            for serial in line.serials:
                draft.focus_on.serial = serial
                record = draft.serial(serial)
                if (
                    job_id is not None
                    and record is not None
                    and record.state == SerialState.ISSUED
                    and record.job_id == job_id
                    and record.sku == sku
                ):
                    movement = self._install_from_custody(
                        draft, job_id, item, site, record.location, ONE, NOT_TRACKED, serial
                    )
                else:
                    self._location(from_location)
                    record = self._in_stock_at(draft, item, serial, from_location)
                    key = BalanceKey(sku, from_location, NOT_TRACKED, serial)
                    movement = draft.record(
                        MovementKind.INSTALL,
                        "install_backflush",
                        sku,
                        from_location,
                        ONE,
                        [(key, Amounts(on_hand=-ONE))],
                        from_location=from_location,
                        to_location=site,
                        job_id=job_id,
                        serial=serial,
                        lot=record.lot,
                    )
                draft.move_serial(
                    replace(
                        record,
                        location=site,
                        state=SerialState.INSTALLED,
                        job_id=job_id,
                        last_movement_id=movement.movement_id,
                    )
                )
            return
        remaining = line.quantity
        if job_id is not None:
            for key in draft.custody_keys(job_id, sku):
                if remaining <= 0:
                    break
                if key.serial or (line.lot is not None and key.lot != line.lot):
                    continue
                held = draft.held(key)
                if held <= 0:
                    continue
                take = min(held, remaining)
                part = draft.custody.get(key) or self.state.job_parts[key]
                self._install_from_custody(
                    draft, job_id, item, site, part.from_location, take, key.lot, NOT_TRACKED
                )
                remaining -= take
        if remaining > 0:
            self._location(from_location)
            for lot, quantity in self._take(draft, item, from_location, remaining, line.lot):
                key = BalanceKey(sku, from_location, lot, NOT_TRACKED)
                draft.record(
                    MovementKind.INSTALL,
                    "install_backflush",
                    sku,
                    from_location,
                    quantity,
                    [(key, Amounts(on_hand=-quantity))],
                    from_location=from_location,
                    to_location=site,
                    job_id=job_id,
                    lot=lot,
                )

    def _install_from_custody(
        self,
        draft: Draft,
        job_id: str,
        item: ItemInfo,
        site: str,
        issued_from: str,
        quantity: Decimal,
        lot: str,
        serial: str,
    ) -> Movement:
        """The part was issued to the job: it leaves the job's custody, no balance moves."""
        draft.change_custody(job_id, item.sku, lot, serial, -quantity, issued_from)
        record = draft.serial(serial) if serial else None
        return draft.record(
            MovementKind.INSTALL,
            "install_from_job",
            item.sku,
            site,
            quantity,
            [],
            from_location=issued_from,
            to_location=site,
            job_id=job_id,
            serial=serial,
            lot=record.lot if record is not None else lot,
        )

    # ------------------------------------------------------------------ returns

    def _return_part(self, draft: Draft, cmd: ReturnPart) -> None:
        draft.job_id = cmd.job_id
        self._return(
            draft,
            cmd.job_id,
            cmd.to_location,
            cmd.line,
            cmd.condition,
            f"return_{cmd.condition.value}",
        )

    def _return(
        self,
        draft: Draft,
        job_id: str | None,
        to_location: str,
        line: Line,
        condition: ReturnCondition,
        reason_code: str,
    ) -> None:
        draft.focus(MovementKind.RETURN, line.sku, to_location, line.quantity, line.lot)
        sku = self._sku_of(draft, line.sku, line.serials)
        item = self._item(draft, sku, retired_ok=True)
        destination = self._return_destination(to_location, condition)
        draft.focus_on.location = destination
        self._serials_fit(item, line)
        details = {"to_location": destination, "condition": condition, "job_id": job_id}
        if item.serialized:
            for serial in line.serials:
                draft.focus_on.serial = serial
                record = draft.serial(serial)
                if (
                    job_id is not None
                    and record is not None
                    and record.state == SerialState.ISSUED
                    and record.job_id == job_id
                    and record.sku == sku
                ):
                    draft.change_custody(
                        job_id, record.sku, NOT_TRACKED, serial, -ONE, record.location
                    )
                else:
                    record = self._arriving(draft, serial)
                key = BalanceKey(sku, destination, NOT_TRACKED, serial)
                lot = record.lot if record is not None else (line.lot or NOT_TRACKED)
                movement = draft.record(
                    MovementKind.RETURN,
                    reason_code,
                    sku,
                    destination,
                    ONE,
                    [(key, Amounts(on_hand=ONE))],
                    serial=serial,
                    lot=lot,
                    from_location=record.location if record is not None else None,
                    **details,
                )
                draft.move_serial(
                    SerialRecord(
                        serial,
                        sku,
                        destination,
                        SerialState.IN_STOCK,
                        lot,
                        None,
                        movement.movement_id,
                    )
                )
            return
        remaining = line.quantity
        if job_id is not None:
            for key in draft.custody_keys(job_id, sku):
                if remaining <= 0:
                    break
                if key.serial or (line.lot is not None and key.lot != line.lot):
                    continue
                held = draft.held(key)
                if held <= 0:
                    continue
                take = min(held, remaining)
                part = draft.custody.get(key) or self.state.job_parts[key]
                draft.change_custody(job_id, sku, key.lot, NOT_TRACKED, -take, part.from_location)
                lot = self._lot(item, key.lot)
                draft.record(
                    MovementKind.RETURN,
                    reason_code,
                    sku,
                    destination,
                    take,
                    [(BalanceKey(sku, destination, lot, NOT_TRACKED), Amounts(on_hand=take))],
                    lot=lot,
                    from_location=part.from_location,
                    **details,
                )
                remaining -= take
        if remaining > 0:
            lot = self._lot(item, line.lot)
            draft.record(
                MovementKind.RETURN,
                reason_code,
                sku,
                destination,
                remaining,
                [(BalanceKey(sku, destination, lot, NOT_TRACKED), Amounts(on_hand=remaining))],
                lot=lot,
                **details,
            )

    def _return_destination(self, to_location: str, condition: ReturnCondition) -> str:
        """Good stock goes where it was returned; faulty or unknown to the nearest
        quarantine location (see :func:`quarantine_for`)."""
        self._location(to_location)
        if condition == ReturnCondition.GOOD:
            return to_location
        quarantine = quarantine_for(self.state, to_location)
        if quarantine is None:
            raise Refused(
                RejectionReason.NO_QUARANTINE,
                f"no active quarantine location under {to_location!r} or its ancestors for "
                f"{condition.value} stock; create one in the catalog",
            )
        return quarantine

    # ------------------------------------------------------------------ device swaps

    def _swap_device(self, draft: Draft, cmd: SwapDevice) -> None:
        draft.job_id = cmd.job_id
        installed = self._without_serials_unless_tracked(cmd.installed)
        removed = self._without_serials_unless_tracked(cmd.removed)
        self._install(draft, cmd.job_id, cmd.from_location, cmd.customer_site, installed)
        self._return(
            draft, cmd.job_id, cmd.from_location, removed, cmd.removed_condition, "swap_removed"
        )

    def _without_serials_unless_tracked(self, line: Line) -> Line:
        """A swap names serials for both devices; a model not tracked by serial counts as
        one piece."""
        item = self.state.items.get(line.sku or "")
        if item is not None and not item.serialized:
            return replace(line, serials=())
        return line

    # ------------------------------------------------------------------ transfers

    def _ship_transfer(self, draft: Draft, cmd: ShipTransfer) -> None:
        if draft.transfer(cmd.transfer_id) is not None:
            raise Conflict("transfer_id", f"transfer {cmd.transfer_id!r} already exists")
        if cmd.from_location == cmd.to_location:
            raise Invalid("to_location", "a transfer moves stock between two locations")
        draft.focus(MovementKind.TRANSFER_SHIP, cmd.sku, cmd.from_location, cmd.quantity, cmd.lot)
        item = self._item(draft, cmd.sku)
        self._location(cmd.from_location)
        self._location(cmd.to_location)
        line = Line(cmd.sku, cmd.quantity, cmd.serials, cmd.lot)
        self._serials_fit(item, line)
        if item.serialized and len(cmd.serials) != cmd.quantity:
            raise Invalid("serials", "name as many serials as the quantity")
        details = {
            "from_location": cmd.from_location,
            "to_location": cmd.to_location,
            "transfer_id": cmd.transfer_id,
        }
        lot = NOT_TRACKED
        for serial in cmd.serials:
            record = self._in_stock_at(draft, item, serial, cmd.from_location)
            movement = draft.record(
                MovementKind.TRANSFER_SHIP,
                "transfer_shipped",
                cmd.sku,
                cmd.from_location,
                ONE,
                self._shipping_legs(cmd, NOT_TRACKED, serial, ONE),
                serial=serial,
                lot=record.lot,
                **details,
            )
            draft.move_serial(
                replace(
                    record,
                    location=cmd.to_location,
                    state=SerialState.IN_TRANSIT,
                    last_movement_id=movement.movement_id,
                )
            )
        if not item.serialized:
            lot = self._single_lot(draft, item, cmd.from_location, cmd.quantity, cmd.lot)
            draft.record(
                MovementKind.TRANSFER_SHIP,
                "transfer_shipped",
                cmd.sku,
                cmd.from_location,
                cmd.quantity,
                self._shipping_legs(cmd, lot, NOT_TRACKED, cmd.quantity),
                lot=lot,
                **details,
            )
        draft.transfers[cmd.transfer_id] = Transfer(
            transfer_id=cmd.transfer_id,
            sku=cmd.sku,
            from_location=cmd.from_location,
            to_location=cmd.to_location,
            lot=lot,
            serials=cmd.serials,
            quantity_shipped=cmd.quantity,
            quantity_received=None,
            status=TransferStatus.IN_TRANSIT,
            shipped_at=self.now,
        )

    @staticmethod
    def _shipping_legs(
        cmd: ShipTransfer, lot: str, serial: str, quantity: Decimal
    ) -> list[tuple[BalanceKey, Amounts]]:
        return [
            (
                BalanceKey(cmd.sku, cmd.from_location, lot, serial),
                Amounts(on_hand=-quantity, in_transit_out=quantity),
            ),
            (BalanceKey(cmd.sku, cmd.to_location, lot, serial), Amounts(in_transit_in=quantity)),
        ]

    def _single_lot(
        self, draft: Draft, item: ItemInfo, location: str, quantity: Decimal, lot: str | None
    ) -> str:
        """A transfer carries one lot: the named one, else the first that holds the whole
        quantity, else the fullest (the negative-stock rule then judges it)."""
        if lot is not None or not item.by_lot:
            return self._lot(item, lot)
        candidates = [
            (draft.amounts(key).on_hand, key.lot)
            for key in draft.keys_at(Pair(item.sku, location))
            if not key.serial
        ]
        for on_hand, candidate in candidates:
            if on_hand >= quantity:
                return candidate
        positive = [c for c in candidates if c[0] > 0]
        return max(positive)[1] if positive else NOT_TRACKED

    def _receive_transfer(self, draft: Draft, cmd: ReceiveTransfer) -> None:
        transfer = draft.transfer(cmd.transfer_id)
        if transfer is None:
            raise NotFound("transfer", cmd.transfer_id)
        if transfer.status != TransferStatus.IN_TRANSIT:
            raise Conflict("transfer_id", f"transfer {cmd.transfer_id!r} was already received")
        shipped = transfer.quantity_shipped
        draft.focus(
            MovementKind.TRANSFER_RECEIVE,
            transfer.sku,
            transfer.to_location,
            cmd.quantity or shipped,
            transfer.lot or None,
        )
        self._item(draft, transfer.sku, retired_ok=True)
        self._location(transfer.to_location)
        if cmd.quantity > shipped:
            raise Refused(
                RejectionReason.INVALID_QUANTITY,
                f"received {cmd.quantity} but transfer {transfer.transfer_id!r} shipped {shipped}",
            )
        details = {
            "from_location": transfer.from_location,
            "to_location": transfer.to_location,
            "transfer_id": transfer.transfer_id,
        }
        if transfer.serials:
            arrived = self._arrived_serials(transfer, cmd)
            for serial in transfer.serials:
                came = serial in arrived
                legs = self._arrival_legs(transfer, NOT_TRACKED, serial, ONE, came)
                record = draft.serial(serial)
                assert record is not None
                movement = draft.record(
                    MovementKind.TRANSFER_RECEIVE,
                    "transfer_received" if came else "transfer_shortage",
                    transfer.sku,
                    transfer.to_location,
                    ONE,
                    legs,
                    serial=serial,
                    lot=record.lot,
                    **details,
                )
                state = SerialState.IN_STOCK if came else SerialState.WRITTEN_OFF
                draft.move_serial(
                    replace(
                        record,
                        location=transfer.to_location,
                        state=state,
                        last_movement_id=movement.movement_id,
                    )
                )
        else:
            missing = shipped - cmd.quantity
            for quantity, came in ((cmd.quantity, True), (missing, False)):
                if quantity > 0:
                    draft.record(
                        MovementKind.TRANSFER_RECEIVE,
                        "transfer_received" if came else "transfer_shortage",
                        transfer.sku,
                        transfer.to_location,
                        quantity,
                        self._arrival_legs(transfer, transfer.lot, NOT_TRACKED, quantity, came),
                        lot=transfer.lot,
                        **details,
                    )
        draft.transfers[transfer.transfer_id] = replace(
            transfer,
            quantity_received=cmd.quantity,
            status=TransferStatus.RECEIVED,
            received_at=self.now,
        )
        if cmd.quantity < shipped:
            draft.alert(
                AlertKind.TRANSFER_DISCREPANCY,
                AlertSeverity.WARNING,
                f"transfer_discrepancy:{transfer.transfer_id}",
                f"transfer {transfer.transfer_id} of {transfer.sku} from "
                f"{transfer.from_location} to {transfer.to_location}: shipped {shipped}, "
                f"received {cmd.quantity}; {shipped - cmd.quantity} written off",
                transfer.sku,
                transfer.to_location,
                expected_quantity=shipped,
                actual_quantity=cmd.quantity,
                transfer_id=transfer.transfer_id,
            )

    @staticmethod
    def _arrived_serials(transfer: Transfer, cmd: ReceiveTransfer) -> set[str]:
        if cmd.serials is None:
            if cmd.quantity != transfer.quantity_shipped:
                raise Refused(
                    RejectionReason.SERIAL_REQUIRED,
                    "fewer arrived than were shipped: name the serials that arrived",
                )
            return set(transfer.serials)
        strangers = sorted(set(cmd.serials) - set(transfer.serials))
        if strangers:
            raise Refused(
                RejectionReason.INVALID_QUANTITY,
                f"serial(s) {', '.join(strangers)} were not shipped on transfer "
                f"{transfer.transfer_id!r}",
            )
        if len(set(cmd.serials)) != cmd.quantity:
            raise Invalid("serials", "name as many distinct serials as the quantity received")
        return set(cmd.serials)

    @staticmethod
    def _arrival_legs(
        transfer: Transfer, lot: str, serial: str, quantity: Decimal, came: bool
    ) -> list[tuple[BalanceKey, Amounts]]:
        """Transit clears at both ends; what came is on hand, what did not is written off."""
        return [
            (
                BalanceKey(transfer.sku, transfer.to_location, lot, serial),
                Amounts(on_hand=quantity if came else ZERO, in_transit_in=-quantity),
            ),
            (
                BalanceKey(transfer.sku, transfer.from_location, lot, serial),
                Amounts(in_transit_out=-quantity),
            ),
        ]

    # ------------------------------------------------------------------ adjustments

    def _adjust(self, draft: Draft, cmd: Adjust) -> None:
        if cmd.delta == 0:
            raise Invalid("quantity", "an adjustment changes the balance; it cannot be zero")
        quantity = abs(cmd.delta)
        draft.focus(MovementKind.ADJUSTMENT, cmd.sku, cmd.location, quantity, cmd.lot, cmd.serial)
        item = self._item(draft, cmd.sku, retired_ok=True)
        self._location(cmd.location)
        self._serials_fit(item, Line(cmd.sku, quantity, (cmd.serial,) if cmd.serial else ()))
        gain = cmd.delta > 0
        details = {
            "note": cmd.note,
            ("to_location" if gain else "from_location"): cmd.location,
        }
        if cmd.serial is not None:
            if quantity != 1:
                raise Refused(RejectionReason.INVALID_QUANTITY, "a serial is adjusted by +1 or -1")
            if gain:
                record = self._arriving(draft, cmd.serial)
                lot = record.lot if record is not None else (cmd.lot or NOT_TRACKED)
            else:
                lot = self._in_stock_at(draft, item, cmd.serial, cmd.location).lot
            key = BalanceKey(cmd.sku, cmd.location, NOT_TRACKED, cmd.serial)
            movement = draft.record(
                MovementKind.ADJUSTMENT,
                cmd.reason_code,
                cmd.sku,
                cmd.location,
                ONE,
                [(key, Amounts(on_hand=cmd.delta))],
                serial=cmd.serial,
                lot=lot,
                **details,
            )
            draft.move_serial(
                SerialRecord(
                    cmd.serial,
                    cmd.sku,
                    cmd.location,
                    SerialState.IN_STOCK if gain else SerialState.WRITTEN_OFF,
                    lot,
                    None,
                    movement.movement_id,
                )
            )
            return
        portions = (
            [(self._lot(item, cmd.lot), quantity)]
            if gain
            else self._take(draft, item, cmd.location, quantity, cmd.lot)
        )
        sign = ONE if gain else -ONE
        for lot, portion in portions:
            key = BalanceKey(cmd.sku, cmd.location, lot, NOT_TRACKED)
            draft.record(
                MovementKind.ADJUSTMENT,
                cmd.reason_code,
                cmd.sku,
                cmd.location,
                portion,
                [(key, Amounts(on_hand=sign * portion))],
                lot=lot,
                **details,
            )

    # ------------------------------------------------------------------ cycle counts

    def _open_count(self, draft: Draft, cmd: OpenCount) -> None:
        if draft.count_of(cmd.count_id) is not None:
            raise Conflict("count_id", f"count {cmd.count_id!r} already exists")
        location = self.state.locations.get(cmd.location)
        if location is None or not location.active:
            state = "retired" if location is not None else "not in the catalog"
            raise Invalid("location", f"location {cmd.location!r} is {state}")
        count = Count(
            count_id=cmd.count_id,
            location=cmd.location,
            blind=cmd.blind,
            status=CountStatus.OPEN,
            opened_at=self.now,
            skus=tuple(sorted(set(cmd.skus))) if cmd.skus is not None else None,
        )
        draft.counts[cmd.count_id] = count
        draft.count = count

    def _record_count(self, draft: Draft, cmd: RecordCount) -> None:
        count = draft.count_of(cmd.count_id)
        serials = (cmd.serial,) if cmd.serial else ()
        draft.focus(
            MovementKind.COUNT_ADJUSTMENT,
            cmd.sku,
            count.location if count else (cmd.location or "?"),
            cmd.quantity,
            cmd.lot,
            cmd.serial,
        )
        if not cmd.count_id:
            raise Refused(RejectionReason.COUNT_NOT_OPEN, "a count scan must name its count_id")
        if count is None or count.status != CountStatus.OPEN:
            state = "does not exist" if count is None else "is closed"
            raise Refused(RejectionReason.COUNT_NOT_OPEN, f"count {cmd.count_id!r} {state}")
        if cmd.location is not None and cmd.location != count.location:
            raise Refused(
                RejectionReason.COUNT_NOT_OPEN,
                f"count {cmd.count_id!r} is at {count.location!r}, not at {cmd.location!r}",
            )
        sku = self._sku_of(draft, cmd.sku, serials)
        item = self._item(draft, sku, retired_ok=True)
        self._serials_fit(item, Line(sku, cmd.quantity, serials))
        if item.serialized:
            if cmd.quantity > 1:
                raise Refused(RejectionReason.INVALID_QUANTITY, "a serial is counted once")
            key = CountLineKey(cmd.count_id, sku, NOT_TRACKED, cmd.serial or NOT_TRACKED)
            counted = cmd.quantity if cmd.replace else ONE
        else:
            key = CountLineKey(cmd.count_id, sku, self._lot(item, cmd.lot), NOT_TRACKED)
            before = draft.line(key)
            already = before.counted if before is not None else ZERO
            counted = cmd.quantity if cmd.replace else already + cmd.quantity
        draft.lines[key] = CountLine(counted)
        draft.count = count

    def _close_count(self, draft: Draft, cmd: CloseCount) -> None:
        count = draft.count_of(cmd.count_id)
        if count is None:
            raise NotFound("count", cmd.count_id)
        if count.status != CountStatus.OPEN:
            raise Conflict("count_id", f"count {cmd.count_id!r} is already closed")
        closing = CountClosing(self, draft, count)
        closing.run()
        accuracy = (
            (Decimal(closing.matching) / Decimal(closing.counted)).quantize(ACCURACY_PLACES)
            if closing.counted
            else ONE
        )
        closed = replace(
            count,
            status=CountStatus.CLOSED,
            closed_at=self.now,
            items_counted=closing.counted,
            items_matching=closing.matching,
            accuracy=accuracy,
        )
        draft.counts[count.count_id] = closed
        draft.count = closed

    # ------------------------------------------------------------------ reservations

    def _reserve(self, draft: Draft, cmd: Reserve) -> None:
        if draft.reservation(cmd.reservation_id) is not None:
            raise Conflict("reservation_id", f"reservation {cmd.reservation_id!r} already exists")
        draft.job_id = cmd.job_id
        draft.focus(MovementKind.RESERVE, cmd.sku, cmd.location, cmd.quantity)
        self._item(draft, cmd.sku)
        self._location(cmd.location)
        key = BalanceKey(cmd.sku, cmd.location, NOT_TRACKED, NOT_TRACKED)
        draft.record(
            MovementKind.RESERVE,
            "job_reservation",
            cmd.sku,
            cmd.location,
            cmd.quantity,
            [(key, Amounts(reserved=cmd.quantity))],
            job_id=cmd.job_id,
        )
        draft.reservations[cmd.reservation_id] = Reservation(
            reservation_id=cmd.reservation_id,
            job_id=cmd.job_id,
            sku=cmd.sku,
            location=cmd.location,
            quantity=cmd.quantity,
            fulfilled=ZERO,
            status=ReservationStatus.OPEN,
            created_at=self.now,
        )

    def _release(self, draft: Draft, cmd: ReleaseReservation) -> None:
        reservation = draft.reservation(cmd.reservation_id)
        if reservation is None:
            raise NotFound("reservation", cmd.reservation_id)
        if reservation.status != ReservationStatus.OPEN:
            raise Conflict(
                "reservation_id",
                f"reservation {cmd.reservation_id!r} is {reservation.status.value}",
            )
        self._release_one(draft, reservation, "reservation_released")

    def _release_one(self, draft: Draft, reservation: Reservation, reason_code: str) -> None:
        draft.focus(
            MovementKind.RELEASE, reservation.sku, reservation.location, reservation.remaining
        )
        if reservation.remaining > 0:
            key = BalanceKey(reservation.sku, reservation.location, NOT_TRACKED, NOT_TRACKED)
            draft.record(
                MovementKind.RELEASE,
                reason_code,
                reservation.sku,
                reservation.location,
                reservation.remaining,
                [(key, Amounts(reserved=-reservation.remaining))],
                job_id=reservation.job_id,
            )
        draft.reservations[reservation.reservation_id] = replace(
            reservation, status=ReservationStatus.RELEASED
        )

    def _complete_job(self, draft: Draft, cmd: CompleteJob) -> None:
        for reservation in draft.open_reservations(cmd.job_id):
            self._release_one(draft, reservation, "job_completed")
