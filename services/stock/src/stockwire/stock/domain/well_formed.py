"""What a command must say to be considered at all, whatever the stock: a transfer goes
between two locations, serials do not repeat and number the quantity they stand for, an
adjustment changes something (a serial by exactly one), a count line names what was
counted (and counts a serial 0 or 1).

Each rule is written once, here. An entry point that can answer its caller (HTTP) checks
:func:`check` before it opens a transaction, and answers :class:`Malformed` with the field
it names. The book checks again before it applies a command, so no caller gets one past
it: a command that came from an event, with nobody to answer, becomes a rejection naming
:attr:`Malformed.rejection`, as a refused movement does.
"""

from collections.abc import Sequence
from decimal import Decimal

from stockwire.contracts.vocabulary import RejectionReason
from stockwire.stock.domain.commands import (
    Adjust,
    Command,
    InstallPart,
    IssueParts,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    ReturnPart,
    ShipTransfer,
)
from stockwire.stock.domain.errors import Invalid
from stockwire.stock.domain.limits import MAX_QUANTITY
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
                if receipt.serials:
                    serials_number(receipt.serials, receipt.received, f"lines.{index}.serials")
        case IssueParts():
            for index, line in enumerate(cmd.lines):
                if line.serials:
                    serials_number(line.serials, line.quantity, f"lines.{index}.serials")
        case InstallPart() | ReturnPart():
            if cmd.line.serials:
                serials_number(cmd.line.serials, cmd.line.quantity, "line.serials")
        case ShipTransfer():
            if cmd.from_location == cmd.to_location:
                raise Malformed("to_location", "from_location and to_location must differ")
            if cmd.serials:
                serials_number(cmd.serials, cmd.quantity, "serials")
        case ReceiveTransfer():
            if cmd.serials is not None:
                serials_number(cmd.serials, cmd.quantity, "serials")
        case Adjust():
            adjustment(cmd.delta, cmd.serial)
        case RecordCount():
            count_line(cmd.sku, cmd.serial, cmd.quantity)


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
    if serial is not None and abs(delta) != ONE:
        raise Malformed("quantity_delta", "a serial is adjusted by 1 or -1")


def count_line(sku: str | None, serial: str | None, counted: Decimal) -> None:
    """A count line names a SKU, a serial or both; a serial is one device, there or not."""
    if sku is None and serial is None:
        raise Malformed("sku", "name a sku, a serial or both", RejectionReason.UNKNOWN_SKU)
    if serial is not None and counted not in (ZERO, ONE):
        raise Malformed("counted", "a serial is counted 0 or 1")
