"""What stock ships when it picks a transfer itself (a transfer request names a quantity
only): never stock reserved for jobs and, of a serial-tracked SKU, the serials that
arrived first on the shelf at the origin.

A request plans a movement rather than recording one that happened, so it never takes a
balance below zero, even where the location's kind allows negative stock."""

from datetime import datetime
from decimal import Decimal

from stockwire.contracts.vocabulary import RejectionReason
from stockwire.stock.domain.draft import Draft, Refused
from stockwire.stock.domain.model import ItemInfo, Pair, SerialState


def pick_serials(draft: Draft, item: ItemInfo, location: str, quantity: Decimal) -> tuple[str, ...]:
    """The ``quantity`` serials of ``item`` in stock at ``location`` that arrived there
    first (the lower serial first when they arrived together), as the books hold them
    after the commands before this one. A serial the books hold in conflict (seen
    somewhere else too) may not be on the shelf, so it is left. Fewer than ``quantity``
    refuses the transfer as negative stock.

    The candidates are the serials on the shelf when the transaction began
    (:meth:`~stockwire.stock.domain.model.StockState.shelf`): one that arrived in the
    same transaction is the newest anyway.
    """
    if quantity != quantity.to_integral_value():
        raise Refused(
            RejectionReason.INVALID_QUANTITY,
            f"SKU {item.sku!r} is serial-tracked: ship a whole number of serials",
        )
    on_shelf: list[tuple[datetime, str]] = []
    in_conflict = 0
    for serial, arrived in draft.state.shelf(Pair(item.sku, location)).items():
        record = draft.serial(serial)
        if (
            record is None
            or record.state != SerialState.IN_STOCK
            or record.location != location
            or record.sku != item.sku
        ):
            continue
        if record.conflict is not None:
            in_conflict += 1
            continue
        on_shelf.append((arrived, serial))
    if len(on_shelf) < quantity:
        doubtful = f" (and {in_conflict} the books hold in conflict)" if in_conflict else ""
        raise Refused(
            RejectionReason.NEGATIVE_STOCK,
            f"not enough serials: {item.sku} at {location} has {len(on_shelf)} on the "
            f"shelf{doubtful}, {quantity} requested",
        )
    return tuple(serial for _, serial in sorted(on_shelf)[: int(quantity)])


def unreserved(draft: Draft, pair: Pair, quantity: Decimal) -> None:
    """Refuse, as negative stock, to ship more than is available at ``pair``: on hand
    less what is reserved for jobs."""
    level = draft.state.level(pair)
    if level.available < quantity:
        held = f", {level.reserved} of it reserved for jobs" if level.reserved else ""
        raise Refused(
            RejectionReason.NEGATIVE_STOCK,
            f"not enough available: {pair.sku} at {pair.location} has {level.on_hand} on "
            f"hand{held}; {quantity} requested",
        )
