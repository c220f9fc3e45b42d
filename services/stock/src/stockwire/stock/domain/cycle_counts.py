"""Cycle counts: opened at a location (for some SKUs or all), scanned line by line, then
closed, which compares what was counted with the balances there, books the variances as
count adjustments, and works out the count's accuracy; or cancelled, adjusting nothing.

A scan only records a count line; nothing moves until the count is closed. While a blind
count is open, nobody is shown what the books expect (:func:`hides_expected`)."""

from dataclasses import replace
from decimal import Decimal
from typing import Any

from stockwire.contracts.vocabulary import AlertKind, AlertSeverity, MovementKind, RejectionReason
from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound
from stockwire.stock.domain.checks import catalog_item, serials_fit, sku_of
from stockwire.stock.domain.commands import CancelCount, CloseCount, Line, OpenCount, RecordCount
from stockwire.stock.domain.draft import Draft, Refused, lot_label
from stockwire.stock.domain.limits import MAX_LEVEL, pieces
from stockwire.stock.domain.lots import lot_of
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
    Pair,
    SerialRecord,
    SerialState,
)

ACCURACY_PLACES = Decimal("0.00001")


def hides_expected(blind: bool, status: CountStatus) -> bool:
    """A blind count shows no expected quantity, nor anything derived from one (variances,
    matching lines, accuracy), until it is closed: counters must count what is there, not
    confirm what the system says."""
    return blind and status != CountStatus.CLOSED


def open_count(draft: Draft, cmd: OpenCount) -> None:
    if draft.count_of(cmd.count_id) is not None:
        raise Conflict("count_id", f"count {cmd.count_id!r} already exists")
    location = draft.state.locations.get(cmd.location)
    if location is None or not location.active:
        state = "retired" if location is not None else "not in the catalog"
        raise Invalid("location", f"location {cmd.location!r} is {state}")
    count = Count(
        count_id=cmd.count_id,
        location=cmd.location,
        blind=cmd.blind,
        status=CountStatus.OPEN,
        opened_at=draft.book.now,
        skus=tuple(sorted(set(cmd.skus))) if cmd.skus is not None else None,
    )
    draft.counts[cmd.count_id] = count
    draft.count = count


def record_count(draft: Draft, cmd: RecordCount) -> None:
    """A scan adds to its line (a serial counts once), or with ``replace`` sets it."""
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
        state = "does not exist" if count is None else f"is {count.status.value}"
        raise Refused(RejectionReason.COUNT_NOT_OPEN, f"count {cmd.count_id!r} {state}")
    if cmd.location is not None and cmd.location != count.location:
        raise Refused(
            RejectionReason.COUNT_NOT_OPEN,
            f"count {cmd.count_id!r} is at {count.location!r}, not at {cmd.location!r}",
        )
    sku = sku_of(draft, cmd.sku, serials)
    item = catalog_item(draft, sku, retired_ok=True)
    serials_fit(item, Line(sku, cmd.quantity, serials))
    if item.serialized:
        key = CountLineKey(cmd.count_id, sku, NOT_TRACKED, cmd.serial or NOT_TRACKED)
        counted = cmd.quantity if cmd.replace else ONE
    else:
        key = CountLineKey(cmd.count_id, sku, lot_of(item, cmd.lot), NOT_TRACKED)
        before = draft.line(key)
        already = before.counted if before is not None else ZERO
        counted = cmd.quantity if cmd.replace else already + cmd.quantity
        if counted > MAX_LEVEL:
            raise Refused(
                RejectionReason.INVALID_QUANTITY,
                f"{sku}{lot_label(key.lot)} would be counted {counted}, beyond the "
                f"{MAX_LEVEL} stock can hold",
            )
    draft.lines[key] = CountLine(counted)
    draft.count = count


def close_count(draft: Draft, cmd: CloseCount) -> None:
    """Book the variances; accuracy is the share of lines that matched."""
    count = draft.count_of(cmd.count_id)
    if count is None:
        raise NotFound("count", cmd.count_id)
    if count.status != CountStatus.OPEN:
        raise Conflict("count_id", f"count {cmd.count_id!r} is already {count.status.value}")
    closing = CountClosing(draft, count)
    closing.run()
    accuracy = (
        (Decimal(closing.matching) / Decimal(closing.counted)).quantize(ACCURACY_PLACES)
        if closing.counted
        else ONE
    )
    closed = replace(
        count,
        status=CountStatus.CLOSED,
        closed_at=draft.book.now,
        items_counted=closing.counted,
        items_matching=closing.matching,
        accuracy=accuracy,
    )
    draft.counts[count.count_id] = closed
    draft.count = closed


def cancel_count(draft: Draft, cmd: CancelCount) -> None:
    """Abandon an open count: its lines stay as counted, and nothing is compared or
    adjusted."""
    count = draft.count_of(cmd.count_id)
    if count is None:
        raise NotFound("count", cmd.count_id)
    if count.status != CountStatus.OPEN:
        raise Conflict("count_id", f"count {cmd.count_id!r} is already {count.status.value}")
    cancelled = replace(count, status=CountStatus.CANCELLED, closed_at=draft.book.now)
    draft.counts[count.count_id] = cancelled
    draft.count = cancelled


class CountClosing:
    """Compares what a count found with the balances at its location, and books the
    variances as count adjustments (a variance beyond what one movement may move in
    several, see :func:`~stockwire.stock.domain.limits.pieces`).

    Lines: each counted serial, each counted lot, and per SKU a line without lot that
    covers the SKU's untracked balance and any of its lots not counted on their own.
    Balances in the count's scope that nobody counted are lines counted as zero.
    """

    def __init__(self, draft: Draft, count: Count) -> None:
        self.book = draft.book
        self.draft = draft
        self.count = count
        self.location = count.location
        self.counted = 0
        self.matching = 0

    def run(self) -> None:
        draft, count = self.draft, self.count
        lines: dict[CountLineKey, CountLine] = {}
        for key in self.book.state.lines_of(count.count_id) | set(draft.lines):
            line = draft.line(key)
            if key.count_id == count.count_id and line is not None:
                lines[key] = line
        pairs = {
            pair
            for pair in self.book.state.levels
            if pair.location == self.location and count.covers(pair.sku)
        }
        pairs.update(Pair(key.sku, self.location) for key in lines)
        for pair in sorted(pairs):
            self._close_pair(pair, {k: v for k, v in lines.items() if k.sku == pair.sku})

    def _close_pair(self, pair: Pair, lines: dict[CountLineKey, CountLine]) -> None:
        item = self.book.state.items.get(pair.sku)
        count_id = self.count.count_id
        whole = CountLineKey(count_id, pair.sku, NOT_TRACKED, NOT_TRACKED)
        for key in self.draft.keys_at(pair):
            if not self.draft.amounts(key).on_hand:
                continue
            if key.serial:
                line_key = CountLineKey(count_id, pair.sku, NOT_TRACKED, key.serial)
            elif CountLineKey(count_id, pair.sku, key.lot, NOT_TRACKED) in lines:
                continue
            elif item is not None and item.by_lot and key.lot and whole not in lines:
                line_key = CountLineKey(count_id, pair.sku, key.lot, NOT_TRACKED)
            else:
                line_key = whole
            lines.setdefault(line_key, CountLine(ZERO))
        counted_lots = {key.lot for key in lines if key.lot}
        for line_key in sorted(lines):
            covered = self._covered(pair, line_key, item, counted_lots)
            self._close_line(pair, line_key, lines[line_key], covered)

    def _covered(
        self, pair: Pair, line_key: CountLineKey, item: ItemInfo | None, counted_lots: set[str]
    ) -> list[BalanceKey]:
        """The balances a line is compared with: its serial's or its lot's; for a line
        without lot, the untracked balance and every lot not counted on its own line."""
        if line_key.serial:
            return [BalanceKey(pair.sku, pair.location, NOT_TRACKED, line_key.serial)]
        if line_key.lot or item is None or not item.by_lot:
            return [BalanceKey(pair.sku, pair.location, line_key.lot, NOT_TRACKED)]
        return [
            key
            for key in self.draft.keys_at(pair)
            if not key.serial and key.lot not in counted_lots
        ]

    def _close_line(
        self, pair: Pair, line_key: CountLineKey, line: CountLine, covered: list[BalanceKey]
    ) -> None:
        draft = self.draft
        expected = sum((draft.amounts(key).on_hand for key in covered), ZERO)
        variance = line.counted - expected
        draft.lines[line_key] = CountLine(line.counted, expected)
        self.counted += 1
        if variance == 0:
            self.matching += 1
            return
        details = {"count_id": self.count.count_id}
        if line_key.serial:
            if not self._close_serial(pair, line_key.serial, variance, details):
                return
        elif variance > 0:
            key = (
                covered[0]
                if len(covered) == 1
                else BalanceKey(pair.sku, pair.location, NOT_TRACKED, NOT_TRACKED)
            )
            for piece in pieces(variance):
                draft.record(
                    MovementKind.COUNT_ADJUSTMENT,
                    "count_gain",
                    pair.sku,
                    pair.location,
                    piece,
                    [(key, Amounts(on_hand=piece))],
                    lot=key.lot,
                    to_location=pair.location,
                    **details,
                )
        else:
            self._book_loss(pair, covered, -variance, details)
        self._variance_alert(pair, line_key, expected, line.counted, variance)

    def _book_loss(
        self, pair: Pair, covered: list[BalanceKey], loss: Decimal, details: dict[str, Any]
    ) -> None:
        remaining = loss
        for key in covered:
            on_hand = self.draft.amounts(key).on_hand
            if remaining <= 0 or on_hand <= 0:
                continue
            take = min(on_hand, remaining)
            for piece in pieces(take):
                self.draft.record(
                    MovementKind.COUNT_ADJUSTMENT,
                    "count_loss",
                    pair.sku,
                    pair.location,
                    piece,
                    [(key, Amounts(on_hand=-piece))],
                    lot=key.lot,
                    from_location=pair.location,
                    **details,
                )
            remaining -= take

    def _close_serial(
        self, pair: Pair, serial: str, variance: Decimal, details: dict[str, Any]
    ) -> bool:
        """Book a serial found or missing; False, booking nothing, for a serial counted here
        that the books hold somewhere else."""
        draft = self.draft
        key = BalanceKey(pair.sku, pair.location, NOT_TRACKED, serial)
        record = draft.serial(serial)
        if variance > 0 and record is not None and record.state in SERIAL_HELD:
            self._serial_conflict(pair, serial, record)
            return False
        gain = variance > 0
        lot = record.lot if record is not None else NOT_TRACKED
        movement = draft.record(
            MovementKind.COUNT_ADJUSTMENT,
            "count_gain" if gain else "count_loss",
            pair.sku,
            pair.location,
            ONE,
            [(key, Amounts(on_hand=variance))],
            serial=serial,
            lot=lot,
            **{("to_location" if gain else "from_location"): pair.location},
            **details,
        )
        draft.move_serial(
            SerialRecord(
                serial,
                pair.sku,
                pair.location,
                SerialState.IN_STOCK if gain else SerialState.WRITTEN_OFF,
                lot,
                None,
                movement.movement_id,
            )
        )
        return True

    def _serial_conflict(self, pair: Pair, serial: str, record: SerialRecord) -> None:
        """Counted here, on the books elsewhere: say so, and fix nothing."""
        refused = Refused(
            RejectionReason.SERIAL_ALREADY_IN_STOCK,
            f"serial {serial!r} was counted at {pair.location!r} but is {record.describe()}; "
            "no adjustment made",
            conflict=True,
        )
        focus = self.draft.focus_on
        self.draft.focus(MovementKind.COUNT_ADJUSTMENT, pair.sku, pair.location, ONE, None, serial)
        rejection, alerts = self.book.rejection_of(self.draft, refused)
        self.draft.focus_on = focus
        self.draft.skipped.append(rejection)
        self.draft.alerts.extend(alerts)
        self.draft.mark_conflict(record, pair)

    def _variance_alert(
        self,
        pair: Pair,
        line_key: CountLineKey,
        expected: Decimal,
        counted: Decimal,
        variance: Decimal,
    ) -> None:
        threshold = self.book.policy.count_variance_threshold
        if expected != 0 and abs(variance) / abs(expected) <= threshold:
            return
        what = (
            pair.sku
            + lot_label(line_key.lot)
            + (f" serial {line_key.serial!r}" if line_key.serial else "")
        )
        dedup_key = (
            f"count_variance:{self.count.count_id}:{pair.sku}:{line_key.lot}:{line_key.serial}"
        )
        figures = {"expected": expected, "counted": counted, "variance": variance}
        self.draft.alert(
            AlertKind.COUNT_VARIANCE,
            AlertSeverity.WARNING,
            dedup_key,
            f"count {self.count.count_id} at {pair.location}: {what} counted {counted}, "
            f"expected {expected} (variance {variance})",
            pair.sku,
            pair.location,
            figures=figures,
            labels={"lot": line_key.lot},
            serial=line_key.serial or None,
            expected_quantity=expected,
            actual_quantity=counted,
            count_id=self.count.count_id,
        )
