"""Which lot a quantity of a non-serial item is booked to, or taken from."""

from decimal import Decimal

from stockwire.stock.domain.draft import Draft
from stockwire.stock.domain.model import NOT_TRACKED, ZERO, ItemInfo, Pair


def lot_of(item: ItemInfo, lot: str | None) -> str:
    """The lot named, for an item tracked by lot; otherwise the untracked balance."""
    return (lot or NOT_TRACKED) if item.by_lot else NOT_TRACKED


def take_lots(
    draft: Draft, item: ItemInfo, location: str, quantity: Decimal, lot: str | None
) -> list[tuple[str, Decimal]]:
    """Which lots ``quantity`` of a non-serial item leaves ``location`` from: the named
    lot; else, for lot-tracked items, lots in order while they last, the rest from the
    untracked balance (where the negative-stock rule judges it)."""
    if lot is not None or not item.by_lot:
        return [(lot_of(item, lot), quantity)]
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
