"""Transfers between two locations: shipped, stock is in transit out at one end and in
transit in at the other; received, transit clears at both ends, and what did not arrive
is written off with a discrepancy alert; cancelled in transit, the shipment is reversed
and the stock is back on hand at the origin.

A transfer id ships once. Over HTTP a second shipment under it is a conflict the caller
is told of; from a topic (a transfer request sent again) the same request is a repeat
that changes nothing, and a different one is rejected."""

from dataclasses import replace
from decimal import Decimal

from stockwire.contracts.vocabulary import AlertKind, AlertSeverity, MovementKind, RejectionReason
from stockwire.runtime.domain_errors import Conflict, NotFound
from stockwire.stock.domain.checks import active_location, catalog_item, in_stock_at, serials_fit
from stockwire.stock.domain.commands import CancelTransfer, Line, ReceiveTransfer, ShipTransfer
from stockwire.stock.domain.draft import Draft, Refused
from stockwire.stock.domain.lots import lot_of
from stockwire.stock.domain.model import (
    NOT_TRACKED,
    ONE,
    ZERO,
    Amounts,
    BalanceKey,
    ItemInfo,
    Pair,
    SerialRecord,
    SerialState,
    Transfer,
    TransferStatus,
)
from stockwire.stock.domain.picking import pick_serials, unreserved


def ship_transfer(draft: Draft, cmd: ShipTransfer) -> None:
    draft.focus(MovementKind.TRANSFER_SHIP, cmd.sku, cmd.from_location, cmd.quantity, cmd.lot)
    shipped = draft.transfer(cmd.transfer_id)
    if shipped is not None:
        _shipped_before(draft, cmd, shipped)
        return
    item = catalog_item(draft, cmd.sku)
    active_location(draft, cmd.from_location)
    active_location(draft, cmd.to_location)
    serials = cmd.serials
    if cmd.stock_picks:
        if item.serialized:
            serials = pick_serials(draft, item, cmd.from_location, cmd.quantity)
        unreserved(draft, Pair(cmd.sku, cmd.from_location), cmd.quantity)
    serials_fit(item, Line(cmd.sku, cmd.quantity, serials, cmd.lot))
    details = _route(cmd)
    lot = NOT_TRACKED
    for serial in serials:
        _move_serial(
            draft,
            in_stock_at(draft, item, serial, cmd.from_location),
            MovementKind.TRANSFER_SHIP,
            "transfer_shipped",
            _shipping_legs(cmd, NOT_TRACKED, serial, ONE),
            details,
            to=cmd.to_location,
            state=SerialState.IN_TRANSIT,
        )
    if not item.serialized:
        lot = _single_lot(draft, item, cmd.from_location, cmd.quantity, cmd.lot)
        draft.record(
            MovementKind.TRANSFER_SHIP,
            "transfer_shipped",
            cmd.sku,
            cmd.from_location,
            cmd.quantity,
            _shipping_legs(cmd, lot, NOT_TRACKED, cmd.quantity),
            lot=lot,
            **details,
        )
    draft.transfers[cmd.transfer_id] = Transfer(
        transfer_id=cmd.transfer_id,
        sku=cmd.sku,
        from_location=cmd.from_location,
        to_location=cmd.to_location,
        lot=lot,
        serials=serials,
        quantity_shipped=cmd.quantity,
        quantity_received=None,
        status=TransferStatus.IN_TRANSIT,
        shipped_at=draft.book.now,
    )


def _shipped_before(draft: Draft, cmd: ShipTransfer, transfer: Transfer) -> None:
    """``cmd`` names a transfer that exists. Over HTTP that is a conflict. A command from
    an event has nobody to tell: if it asks for what was shipped (the same SKU, route and
    quantity) it is a repeat, and nothing ships twice; if not, it is refused, naming the
    transfer it clashes with."""
    if cmd.origin.source_event_id is None:
        raise Conflict("transfer_id", f"transfer {cmd.transfer_id!r} already exists")
    asked = (cmd.sku, cmd.from_location, cmd.to_location, cmd.quantity)
    was = (transfer.sku, transfer.from_location, transfer.to_location, transfer.quantity_shipped)
    if asked != was:
        raise Refused(
            RejectionReason.INVALID_QUANTITY,
            f"transfer {transfer.transfer_id!r} was already shipped: {_shipment(*was)} "
            f"({transfer.status.value}); not shipping {_shipment(*asked)} under its id",
        )
    draft.repeat_of = f"transfer {transfer.transfer_id!r} was already shipped"


def _shipment(sku: str, from_location: str, to_location: str, quantity: Decimal) -> str:
    return f"{quantity} of {sku} from {from_location!r} to {to_location!r}"


def _move_serial(
    draft: Draft,
    record: SerialRecord,
    kind: MovementKind,
    reason_code: str,
    legs: list[tuple[BalanceKey, Amounts]],
    details: dict[str, str],
    *,
    to: str,
    state: SerialState,
) -> None:
    """Book one serial of a transfer (the movement names its first leg's balance), and
    record that the serial is now at ``to`` in ``state``."""
    movement = draft.record(
        kind,
        reason_code,
        record.sku,
        legs[0][0].location,
        ONE,
        legs,
        serial=record.serial,
        lot=record.lot,
        **details,
    )
    draft.move_serial(
        replace(record, location=to, state=state, last_movement_id=movement.movement_id)
    )


def _shipped(draft: Draft, serial: str) -> SerialRecord:
    """The record of a serial on a transfer: shipping it made one."""
    record = draft.serial(serial)
    assert record is not None
    return record


def _shipping_legs(
    route: ShipTransfer | Transfer, lot: str, serial: str, quantity: Decimal
) -> list[tuple[BalanceKey, Amounts]]:
    """A shipment's legs; with a negative ``quantity``, their reversal (a cancellation)."""
    return [
        (
            BalanceKey(route.sku, route.from_location, lot, serial),
            Amounts(on_hand=-quantity, in_transit_out=quantity),
        ),
        (BalanceKey(route.sku, route.to_location, lot, serial), Amounts(in_transit_in=quantity)),
    ]


def _single_lot(
    draft: Draft, item: ItemInfo, location: str, quantity: Decimal, lot: str | None
) -> str:
    """A transfer carries one lot: the named one, else the first that holds the whole
    quantity, else the fullest (the negative-stock rule then judges it)."""
    if lot is not None or not item.by_lot:
        return lot_of(item, lot)
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


def _in_transit(draft: Draft, transfer_id: str) -> Transfer:
    """The transfer, still in transit: once received or cancelled, it is done."""
    transfer = draft.transfer(transfer_id)
    if transfer is None:
        raise NotFound("transfer", transfer_id)
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise Conflict(
            "transfer_id", f"transfer {transfer_id!r} was already {transfer.status.value}"
        )
    return transfer


def _route(transfer: ShipTransfer | Transfer) -> dict[str, str]:
    """What each movement of a transfer says about it."""
    return {
        "from_location": transfer.from_location,
        "to_location": transfer.to_location,
        "transfer_id": transfer.transfer_id,
    }


def receive_transfer(draft: Draft, cmd: ReceiveTransfer) -> None:
    transfer = _in_transit(draft, cmd.transfer_id)
    shipped = transfer.quantity_shipped
    draft.focus(
        MovementKind.TRANSFER_RECEIVE,
        transfer.sku,
        transfer.to_location,
        cmd.quantity or shipped,
        transfer.lot or None,
    )
    catalog_item(draft, transfer.sku, retired_ok=True)
    active_location(draft, transfer.to_location)
    if cmd.quantity > shipped:
        raise Refused(
            RejectionReason.INVALID_QUANTITY,
            f"received {cmd.quantity} but transfer {transfer.transfer_id!r} shipped {shipped}",
        )
    details = _route(transfer)
    if transfer.serials:
        arrived = _arrived_serials(transfer, cmd)
        for serial in transfer.serials:
            came = serial in arrived
            _move_serial(
                draft,
                _shipped(draft, serial),
                MovementKind.TRANSFER_RECEIVE,
                "transfer_received" if came else "transfer_shortage",
                _arrival_legs(transfer, NOT_TRACKED, serial, ONE, came),
                details,
                to=transfer.to_location,
                state=SerialState.IN_STOCK if came else SerialState.WRITTEN_OFF,
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
                    _arrival_legs(transfer, transfer.lot, NOT_TRACKED, quantity, came),
                    lot=transfer.lot,
                    **details,
                )
    draft.transfers[transfer.transfer_id] = replace(
        transfer,
        quantity_received=cmd.quantity,
        status=TransferStatus.RECEIVED,
        received_at=draft.book.now,
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
            figures={
                "shipped": shipped,
                "received": cmd.quantity,
                "missing": shipped - cmd.quantity,
            },
            labels={"from_location": transfer.from_location, "lot": transfer.lot},
            expected_quantity=shipped,
            actual_quantity=cmd.quantity,
            transfer_id=transfer.transfer_id,
        )


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
    return set(cmd.serials)


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


def cancel_transfer(draft: Draft, cmd: CancelTransfer) -> None:
    """Reverse the shipment: transit clears at both ends, and what was shipped (serials
    too) is on hand at the origin again."""
    transfer = _in_transit(draft, cmd.transfer_id)
    shipped = transfer.quantity_shipped
    draft.focus(
        MovementKind.TRANSFER_CANCEL,
        transfer.sku,
        transfer.from_location,
        shipped,
        transfer.lot or None,
    )
    catalog_item(draft, transfer.sku, retired_ok=True)
    active_location(draft, transfer.from_location)
    details = _route(transfer)
    for serial in transfer.serials:
        _move_serial(
            draft,
            _shipped(draft, serial),
            MovementKind.TRANSFER_CANCEL,
            "transfer_cancelled",
            _shipping_legs(transfer, NOT_TRACKED, serial, -ONE),
            details,
            to=transfer.from_location,
            state=SerialState.IN_STOCK,
        )
    if not transfer.serials:
        draft.record(
            MovementKind.TRANSFER_CANCEL,
            "transfer_cancelled",
            transfer.sku,
            transfer.from_location,
            shipped,
            _shipping_legs(transfer, transfer.lot, NOT_TRACKED, -shipped),
            lot=transfer.lot,
            **details,
        )
    draft.transfers[transfer.transfer_id] = replace(transfer, status=TransferStatus.CANCELLED)
