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

from stockwire.contracts.vocabulary import RejectionReason
from stockwire.stock.domain.draft import Draft, Refused, lot_label
from stockwire.stock.domain.model import Amounts, Pair

MAX_QUANTITY = Decimal(1_000_000)
MAX_LEVEL = Decimal(1_000_000_000)
PLACES = 3

FIGURES = ("on_hand", "reserved", "in_transit_in", "in_transit_out", "available")


def pieces(quantity: Decimal) -> list[Decimal]:
    """``quantity`` as movements of at most ``MAX_QUANTITY``: whole ones, then the rest."""
    whole, rest = divmod(quantity, MAX_QUANTITY)
    return [MAX_QUANTITY] * int(whole) + ([rest] if rest else [])


def within_level(value: Decimal) -> bool:
    return -MAX_LEVEL <= value <= MAX_LEVEL


def check_limits(draft: Draft) -> None:
    """Refuse the command if a balance or level it changes would end beyond ``MAX_LEVEL``
    in any figure."""
    levels: dict[Pair, Amounts] = {}
    for key, delta in draft.deltas.items():
        pair = key.pair
        level = levels.get(pair)
        levels[pair] = (level if level is not None else draft.state.level(pair)).plus(delta)
        _check(draft, pair, f"{key.sku}{lot_label(key.lot)}", draft.amounts(key))
    for pair, level in levels.items():
        _check(draft, pair, pair.sku, level)


def _check(draft: Draft, pair: Pair, what: str, amounts: Amounts) -> None:
    for figure in FIGURES:
        value: Decimal = getattr(amounts, figure)
        if not within_level(value):
            draft.focus_on.sku, draft.focus_on.location = pair.sku, pair.location
            raise Refused(
                RejectionReason.INVALID_QUANTITY,
                f"{what} at {pair.location} would have {value} {figure.replace('_', ' ')}, "
                f"beyond the {MAX_LEVEL} stock can hold either way",
            )
