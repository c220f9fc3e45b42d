"""Manual adjustments: an operator books stock found (a gain) or lost (a loss) at a
location, with a reason and a note."""

from stockwire.contracts.vocabulary import MovementKind
from stockwire.stock.domain.checks import (
    active_location,
    arriving,
    catalog_item,
    in_stock_at,
    serials_fit,
)
from stockwire.stock.domain.commands import Adjust, AdjustmentReason, Line
from stockwire.stock.domain.draft import Draft
from stockwire.stock.domain.lots import lot_of, take_lots
from stockwire.stock.domain.model import (
    NOT_TRACKED,
    ONE,
    Amounts,
    BalanceKey,
    SerialRecord,
    SerialState,
)


def adjust(draft: Draft, cmd: Adjust) -> None:
    """A gain goes on hand to the named lot; a loss is taken from it, else from lots in
    order (see :func:`take_lots`). A serial is gained or lost whole (see
    :func:`~stockwire.stock.domain.well_formed.adjustment`); a lost one is written off.
    The reason code says why: ``adjustment_<reason>``."""
    quantity = abs(cmd.delta)
    reason_code = f"adjustment_{AdjustmentReason(cmd.reason).value}"
    draft.focus(MovementKind.ADJUSTMENT, cmd.sku, cmd.location, quantity, cmd.lot, cmd.serial)
    item = catalog_item(draft, cmd.sku, retired_ok=True)
    active_location(draft, cmd.location)
    serials_fit(item, Line(cmd.sku, quantity, (cmd.serial,) if cmd.serial else ()))
    gain = cmd.delta > 0
    details = {
        "note": cmd.note,
        ("to_location" if gain else "from_location"): cmd.location,
    }
    if cmd.serial is not None:
        if gain:
            record = arriving(draft, cmd.serial)
            lot = record.lot if record is not None else (cmd.lot or NOT_TRACKED)
        else:
            lot = in_stock_at(draft, item, cmd.serial, cmd.location).lot
        key = BalanceKey(cmd.sku, cmd.location, NOT_TRACKED, cmd.serial)
        movement = draft.record(
            MovementKind.ADJUSTMENT,
            reason_code,
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
        [(lot_of(item, cmd.lot), quantity)]
        if gain
        else take_lots(draft, item, cmd.location, quantity, cmd.lot)
    )
    sign = ONE if gain else -ONE
    for lot, portion in portions:
        key = BalanceKey(cmd.sku, cmd.location, lot, NOT_TRACKED)
        draft.record(
            MovementKind.ADJUSTMENT,
            reason_code,
            cmd.sku,
            cmd.location,
            portion,
            [(key, Amounts(on_hand=sign * portion))],
            lot=lot,
            **details,
        )
