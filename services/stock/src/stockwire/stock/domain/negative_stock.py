"""Negative stock, checked once per command after all its legs: a balance whose on hand
fell below zero (or a level whose available fell below zero by a reservation) refuses the
command unless the location's kind allows negative stock, in which case an alert says so."""

from decimal import Decimal

from stockwire.contracts.vocabulary import AlertKind, AlertSeverity, RejectionReason
from stockwire.stock.domain.draft import Draft, Refused, lot_label
from stockwire.stock.domain.model import Pair


def check_negative(draft: Draft) -> None:
    reserving: set[Pair] = set()
    for key, delta in draft.deltas.items():
        if delta.reserved > 0:
            reserving.add(key.pair)
        if delta.on_hand >= 0:
            continue
        after = draft.amounts(key).on_hand
        if after >= 0:
            continue
        where = f"{key.sku}{lot_label(key.lot)} at {key.location}"
        _negative(
            draft,
            key.pair,
            f"not enough stock: {where} has {after - delta.on_hand} on hand, "
            f"{-delta.on_hand} needed",
            after,
            "on_hand",
        )
    for pair in sorted(reserving):
        level = draft.state.level(pair)
        for key, delta in draft.deltas.items():
            if key.pair == pair:
                level = level.plus(delta)
        if level.available < 0:
            _negative(
                draft,
                pair,
                f"not enough available to reserve: {pair.sku} at {pair.location} would "
                f"have {level.available} available",
                level.available,
                "available",
            )


def _negative(draft: Draft, pair: Pair, message: str, after: Decimal, figure: str) -> None:
    """Refuse, or alert with the figure (``on_hand`` or ``available``) that went negative."""
    location = draft.state.locations.get(pair.location)
    if location is None or location.kind not in draft.book.policy.allow_negative_kinds:
        draft.focus_on.sku, draft.focus_on.location = pair.sku, pair.location
        raise Refused(RejectionReason.NEGATIVE_STOCK, message)
    draft.alert(
        AlertKind.NEGATIVE_STOCK_ALLOWED,
        AlertSeverity.INFO,
        f"negative_stock:{pair.sku}@{pair.location}",
        f"{message}; allowed at a {location.kind} location",
        pair.sku,
        pair.location,
        figures={figure: after},
        actual_quantity=after,
    )
