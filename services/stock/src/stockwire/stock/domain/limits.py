"""The largest figures stock handles, so that every value it publishes fits its contracts.

``MAX_QUANTITY`` bounds what one movement moves and what one command asks for;
``MAX_LEVEL`` bounds every figure of a balance or level (on hand, reserved, in transit,
available), either way. Quantities have at most ``PLACES`` decimals. The contracts state
the same bounds (``Quantity``, ``SignedQuantity``), and a contracts test keeps the two
equal; the domain keeps its own copy because it imports nothing of the contracts'
pydantic models.

How the rules keep to them:

- a command asking for more than ``MAX_QUANTITY`` (or a finer quantity) is malformed
  (:mod:`~stockwire.stock.domain.well_formed`);
- a count variance larger than ``MAX_QUANTITY`` is booked as several movements of at
  most ``MAX_QUANTITY`` each (:func:`pieces`), so the ledger stays exact;
- a command that would leave any figure of a balance or level it changes beyond
  ``MAX_LEVEL`` is refused as an invalid quantity (:func:`check_limits`), after all its
  legs, like the negative-stock rule; so is a count scan that would count a line beyond
  it;
- an alert leaves out a figure beyond ``MAX_LEVEL`` (its summary still states it).
"""

from decimal import Decimal
from typing import NoReturn

from stockwire.contracts.vocabulary import RejectionReason
from stockwire.stock.domain.draft import Draft, Refused, lot_label
from stockwire.stock.domain.model import Amounts, Pair

MAX_QUANTITY = Decimal(1_000_000)
MAX_LEVEL = Decimal(1_000_000_000)
PLACES = 3


def pieces(quantity: Decimal) -> list[Decimal]:
    """``quantity`` as movements of at most ``MAX_QUANTITY``: whole ones, then the rest."""
    whole, rest = divmod(quantity, MAX_QUANTITY)
    return [MAX_QUANTITY] * int(whole) + ([rest] if rest else [])


def within_level(value: Decimal) -> bool:
    return -MAX_LEVEL <= value <= MAX_LEVEL


def check_limits(draft: Draft) -> None:
    """Refuse the command if a balance or level it changes would end beyond ``MAX_LEVEL``
    in any figure. (Run on every command: it adds figures instead of building
    :class:`Amounts`, to stay cheap.)"""
    state = draft.state
    by_pair: dict[Pair, Amounts] = {}
    for key, delta in draft.deltas.items():
        pair = key.pair
        summed = by_pair.get(pair)
        by_pair[pair] = delta if summed is None else summed.plus(delta)
        balance = state.balance(key)
        if not _within_after(balance, delta):
            _refuse(draft, pair, f"{key.sku}{lot_label(key.lot)}", balance.plus(delta))
    for pair, delta in by_pair.items():
        level = state.level(pair)
        if not _within_after(level, delta):
            _refuse(draft, pair, pair.sku, level.plus(delta))


def _within_after(before: Amounts, delta: Amounts) -> bool:
    low, high = -MAX_LEVEL, MAX_LEVEL
    on_hand = before.on_hand + delta.on_hand
    reserved = before.reserved + delta.reserved
    return (
        low <= on_hand <= high
        and low <= reserved <= high
        and low <= on_hand - reserved <= high
        and low <= before.in_transit_in + delta.in_transit_in <= high
        and low <= before.in_transit_out + delta.in_transit_out <= high
    )


def _refuse(draft: Draft, pair: Pair, what: str, amounts: Amounts) -> NoReturn:
    figures = ("on_hand", "reserved", "in_transit_in", "in_transit_out", "available")
    value, figure = next(
        (value, figure) for figure in figures if not within_level(value := getattr(amounts, figure))
    )
    draft.focus_on.sku, draft.focus_on.location = pair.sku, pair.location
    raise Refused(
        RejectionReason.INVALID_QUANTITY,
        f"{what} at {pair.location} would have {value} {figure.replace('_', ' ')}, "
        f"beyond the {MAX_LEVEL} stock can hold either way",
    )
