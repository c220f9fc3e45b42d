"""What a command must say to be considered at all, whatever the stock: quantities within
what one movement may move (:mod:`~stockwire.stock.domain.limits`), a transfer between two
locations, serials that do not repeat and number the quantity they stand for, an
adjustment that changes something (a serial by exactly one), a count line that names what
was counted (and counts a serial 0 or 1).

Each rule is written once, here. An entry point that can answer its caller (HTTP) checks
:func:`check` before it opens a transaction, and answers :class:`Malformed` with the field
it names. The book checks again before it applies a command, so no caller gets one past
it: a command that came from an event, with nobody to answer, becomes a rejection naming
:attr:`Malformed.rejection`, as a refused movement does.
"""

from collections.abc import Sequence
from decimal import Decimal

from stockwire.contracts.vocabulary import RejectionReason
from stockwire.runtime.domain_errors import Invalid
from stockwire.stock.domain.commands import (
    Adjust,
    Command,
    InstallPart,
    IssueParts,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    Reserve,
    ReturnPart,
    ShipTransfer,
)
from stockwire.stock.domain.limits import MAX_QUANTITY, PLACES
from stockwire.stock.domain.model import ONE, ZERO


class Malformed(Invalid):
    """A command breaks a rule of this module; ``rejection`` is what a rejection of it
    names when it came from an event."""

    def __init__(
        self,
        field: str,
        reason: str,
        rejection: RejectionReason = RejectionReason.INVALID_QUANTITY,
    ) -> None:
        super().__init__(field, reason)
        self.rejection = rejection


def check(cmd: Command) -> None:
    """Raise :class:`Malformed` for the first rule ``cmd`` breaks."""
    match cmd:
        case ReceiveGoods():
            for index, receipt in enumerate(cmd.lines):
                if not movable(receipt.received, zero=True):
                    raise _bad_quantity(f"lines.{index}.received_quantity", zero=True)
                if receipt.ordered is not None and not movable(receipt.ordered):
                    raise _bad_quantity(f"lines.{index}.ordered_quantity")
                if receipt.serials:
                    serials_number(receipt.serials, receipt.received, f"lines.{index}.serials")
        case IssueParts():
            for index, line in enumerate(cmd.lines):
                if not movable(line.quantity):
                    raise _bad_quantity(f"lines.{index}.quantity")
                if line.serials:
                    serials_number(line.serials, line.quantity, f"lines.{index}.serials")
        case InstallPart() | ReturnPart():
            if not movable(cmd.line.quantity):
                raise _bad_quantity("line.quantity")
            if cmd.line.serials:
                serials_number(cmd.line.serials, cmd.line.quantity, "line.serials")
        case ShipTransfer():
            if not movable(cmd.quantity):
                raise _bad_quantity("quantity")
            if cmd.from_location == cmd.to_location:
                raise Malformed("to_location", "from_location and to_location must differ")
            if cmd.serials and cmd.stock_picks:
                raise Malformed("serials", "stock picks the serials of this transfer: name none")
            if cmd.serials:
                serials_number(cmd.serials, cmd.quantity, "serials")
        case ReceiveTransfer():
            if not movable(cmd.quantity, zero=True):
                raise _bad_quantity("quantity_received", zero=True)
            if cmd.serials is not None:
                serials_number(cmd.serials, cmd.quantity, "serials")
        case Reserve():
            if not movable(cmd.quantity):
                raise _bad_quantity("quantity")
        case Adjust():
            adjustment(cmd.delta, cmd.serial)
        case RecordCount():
            if not movable(cmd.quantity, zero=cmd.replace):
                raise _bad_quantity("counted", zero=cmd.replace)
            count_line(cmd.sku, cmd.serial, cmd.quantity)


def movable(value: Decimal, *, zero: bool = False) -> bool:
    """Whether one movement can carry ``value``: above 0 (or 0 where ``zero``: a figure
    stating that nothing arrived, or nothing was counted), at most ``MAX_QUANTITY``, in
    thousandths."""
    return (value >= 0 if zero else value > 0) and value <= MAX_QUANTITY and _places(value)


def _bad_quantity(field: str, *, zero: bool = False) -> Malformed:
    low = "0" if zero else "more than 0"
    return Malformed(
        field, f"must be {low} and at most {MAX_QUANTITY}, with at most {PLACES} decimals"
    )


def _places(value: Decimal) -> bool:
    """At most ``PLACES`` decimals (trailing zeros aside)."""
    return value == round(value, PLACES)


def serials_number(serials: Sequence[str], quantity: Decimal, field: str) -> None:
    """Serials named for a quantity are that many devices, each named once."""
    if len(set(serials)) != len(serials):
        raise Malformed(field, "serials must not repeat")
    if len(serials) != quantity:
        raise Malformed(field, "name as many serials as the quantity")


def adjustment(delta: Decimal, serial: str | None) -> None:
    """An adjustment changes the balance, by at most one movement's quantity; a serial is
    gained or lost whole."""
    if delta == 0 or abs(delta) > MAX_QUANTITY:
        raise Malformed("quantity_delta", f"must be non-zero, at most {MAX_QUANTITY} either way")
    if not _places(delta):
        raise Malformed("quantity_delta", f"must have at most {PLACES} decimals")
    if serial is not None and abs(delta) != ONE:
        raise Malformed("quantity_delta", "a serial is adjusted by 1 or -1")


def count_line(sku: str | None, serial: str | None, counted: Decimal) -> None:
    """A count line names a SKU, a serial or both; a serial is one device, there or not."""
    if sku is None and serial is None:
        raise Malformed("sku", "name a sku, a serial or both", RejectionReason.UNKNOWN_SKU)
    if serial is not None and counted not in (ZERO, ONE):
        raise Malformed("counted", "a serial is counted 0 or 1")
