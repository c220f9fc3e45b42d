"""The lifecycle state machine: which state may follow which, and the state each stock
movement of a serial puts its device in.

    received -> in stock -> allocated to a job -> in transit -> installed -> faulty
    -> RMA open -> in repair -> refurbished (back in stock) -> retired -> disposed

A refurbished unit is stock like any other (it may be allocated, shipped or installed
again); a disposed one never comes back. Each edge is listed once, in :data:`EDGES`.
"""

from stockwire.contracts.vocabulary import (
    DeviceState,
    LocationKind,
    MovementKind,
    ReturnCondition,
    TransitionRejectionReason,
)

S = DeviceState

FIRST_STATES = frozenset({S.RECEIVED, S.IN_STOCK})
"""Where a device's life may start: a receipt, or stock found by an adjustment or count."""

_STOCK_EXITS = frozenset({S.ALLOCATED, S.IN_TRANSIT, S.INSTALLED, S.FAULTY, S.RETIRED})

EDGES: dict[DeviceState, frozenset[DeviceState]] = {
    S.RECEIVED: frozenset({S.IN_STOCK, S.FAULTY, S.RETIRED}),
    S.IN_STOCK: _STOCK_EXITS,
    S.ALLOCATED: frozenset({S.IN_STOCK, S.IN_TRANSIT, S.INSTALLED, S.FAULTY, S.RETIRED}),
    S.IN_TRANSIT: frozenset({S.IN_STOCK, S.ALLOCATED, S.INSTALLED, S.FAULTY, S.RETIRED}),
    S.INSTALLED: frozenset({S.IN_STOCK, S.IN_TRANSIT, S.FAULTY, S.RETIRED}),
    S.FAULTY: frozenset({S.IN_STOCK, S.RMA_OPEN, S.IN_REPAIR, S.RETIRED}),
    S.RMA_OPEN: frozenset({S.IN_REPAIR, S.REFURBISHED, S.RETIRED}),
    S.IN_REPAIR: frozenset({S.REFURBISHED, S.FAULTY, S.RETIRED}),
    S.REFURBISHED: _STOCK_EXITS | {S.IN_STOCK},
    S.RETIRED: frozenset({S.DISPOSED}),
    S.DISPOSED: frozenset(),
}
"""Every legal transition. A move within a state (stock transferred from one warehouse
to another and received) is not a transition: only the location changes."""

IN_SERVICE = frozenset({S.INSTALLED})
"""States whose time counts as operating time for reliability."""

OWNED = frozenset(set(S) - {S.DISPOSED})
"""States of a device the company still owns (utilization's denominator)."""

NETWORK_KINDS = frozenset(
    {LocationKind.POINT_OF_PRESENCE, LocationKind.FIBER_HUT, LocationKind.ROOFTOP}
)
"""Location kinds where an installed device is in the network rather than at a customer."""


def refusal(
    current: DeviceState | None, attempted: DeviceState
) -> TransitionRejectionReason | None:
    """Why ``current -> attempted`` is refused, or None when the machine allows it (also
    when it is no transition at all: the same state)."""
    if current is S.DISPOSED:
        return TransitionRejectionReason.DISPOSED
    if current is None:
        return None if attempted in FIRST_STATES else TransitionRejectionReason.UNKNOWN_SERIAL
    if current is attempted or attempted in EDGES[current]:
        return None
    return TransitionRejectionReason.ILLEGAL_TRANSITION


def state_after_movement(
    kind: MovementKind,
    *,
    gain: bool,
    condition: ReturnCondition | None,
    destination_kind: LocationKind | None,
) -> DeviceState | None:
    """The state a stock movement of one serial leaves its device in; None for a movement
    that says nothing of the device's state.

    ``gain`` is whether the serial arrives at the movement's location (a receipt, a
    found adjustment) rather than leaving it (a loss written off). A receipt into a
    quarantine location is *received* (awaiting inspection); elsewhere it is in stock.
    A part returned faulty (or of unknown condition, which stock sends to quarantine) is
    faulty."""
    match kind:
        case MovementKind.RECEIPT:
            return S.RECEIVED if destination_kind is LocationKind.QUARANTINE else S.IN_STOCK
        case MovementKind.ISSUE | MovementKind.RESERVE:
            return S.ALLOCATED
        case MovementKind.RELEASE | MovementKind.TRANSFER_RECEIVE | MovementKind.TRANSFER_CANCEL:
            return S.IN_STOCK
        case MovementKind.TRANSFER_SHIP:
            return S.IN_TRANSIT
        case MovementKind.INSTALL:
            return S.INSTALLED
        case MovementKind.RETURN:
            return S.IN_STOCK if condition is ReturnCondition.GOOD else S.FAULTY
        case MovementKind.ADJUSTMENT | MovementKind.COUNT_ADJUSTMENT:
            return S.IN_STOCK if gain else S.RETIRED
    return None
