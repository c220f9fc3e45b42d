"""Goods received at a location, against a purchase order or scanned in without one."""

from stockwire.contracts.vocabulary import MovementKind
from stockwire.stock.domain.checks import (
    active_location,
    arriving,
    catalog_item,
    serials_fit,
    sku_of,
)
from stockwire.stock.domain.commands import Line, ReceiveGoods
from stockwire.stock.domain.draft import Draft
from stockwire.stock.domain.lots import lot_of
from stockwire.stock.domain.model import (
    NOT_TRACKED,
    ONE,
    Amounts,
    BalanceKey,
    SerialRecord,
    SerialState,
)


def receive_goods(draft: Draft, cmd: ReceiveGoods) -> None:
    """Each line received goes on hand; its reason code says how it compares with what
    was ordered. A line received as zero is skipped."""
    for line in cmd.lines:
        if line.received <= 0:
            continue
        draft.focus(MovementKind.RECEIPT, line.sku, cmd.location, line.received, line.lot)
        sku = sku_of(draft, line.sku, line.serials)
        item = catalog_item(draft, sku)
        active_location(draft, cmd.location)
        serials_fit(item, Line(sku, line.received, line.serials, line.lot))
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
                arriving(draft, serial)
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
            lot = lot_of(item, line.lot)
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
