"""The lifecycle state machine: every legal transition is allowed, everything else is
refused with its reason, and each stock movement puts its device in the right state."""

import itertools

import pytest

from stockwire.assets.domain.lifecycle import EDGES, FIRST_STATES, refusal, state_after_movement
from stockwire.contracts.vocabulary import (
    DeviceState as S,
)
from stockwire.contracts.vocabulary import (
    LocationKind,
    MovementKind,
    ReturnCondition,
    TransitionRejectionReason,
)

LEGAL = [(a, b) for a, targets in EDGES.items() for b in targets]
ILLEGAL = [(a, b) for a in S for b in S if a is not b and b not in EDGES[a] and a is not S.DISPOSED]


def test_the_machine_covers_every_state():
    assert set(EDGES) == set(S)


@pytest.mark.parametrize(("current", "attempted"), LEGAL, ids=lambda s: s.value)
def test_every_legal_transition_is_allowed(current, attempted):
    assert refusal(current, attempted) is None


@pytest.mark.parametrize(("current", "attempted"), ILLEGAL, ids=lambda s: s.value)
def test_every_other_transition_is_refused_as_illegal(current, attempted):
    assert refusal(current, attempted) is TransitionRejectionReason.ILLEGAL_TRANSITION


@pytest.mark.parametrize("attempted", list(S), ids=lambda s: s.value)
def test_a_disposed_device_never_comes_back(attempted):
    assert refusal(S.DISPOSED, attempted) is TransitionRejectionReason.DISPOSED


@pytest.mark.parametrize("attempted", list(S), ids=lambda s: s.value)
def test_a_life_starts_only_with_a_receipt_or_stock_found(attempted):
    expected = None if attempted in FIRST_STATES else TransitionRejectionReason.UNKNOWN_SERIAL
    assert refusal(None, attempted) is expected


def test_the_lifecycle_of_the_issue_is_a_path_through_the_machine():
    path = [
        S.RECEIVED,
        S.IN_STOCK,
        S.ALLOCATED,
        S.IN_TRANSIT,
        S.INSTALLED,
        S.FAULTY,
        S.RMA_OPEN,
        S.IN_REPAIR,
        S.REFURBISHED,
        S.IN_STOCK,
        S.RETIRED,
        S.DISPOSED,
    ]
    assert all(refusal(a, b) is None for a, b in itertools.pairwise(path))


def test_staying_in_a_state_is_no_transition_and_is_allowed():
    assert refusal(S.IN_STOCK, S.IN_STOCK) is None


@pytest.mark.parametrize(
    ("kind", "gain", "condition", "place", "expected"),
    [
        (MovementKind.RECEIPT, True, None, LocationKind.WAREHOUSE, S.IN_STOCK),
        (MovementKind.RECEIPT, True, None, LocationKind.QUARANTINE, S.RECEIVED),
        (MovementKind.ISSUE, False, None, None, S.ALLOCATED),
        (MovementKind.RESERVE, False, None, None, S.ALLOCATED),
        (MovementKind.RELEASE, True, None, None, S.IN_STOCK),
        (MovementKind.TRANSFER_SHIP, False, None, None, S.IN_TRANSIT),
        (MovementKind.TRANSFER_RECEIVE, True, None, None, S.IN_STOCK),
        (MovementKind.TRANSFER_CANCEL, True, None, None, S.IN_STOCK),
        (MovementKind.INSTALL, False, None, LocationKind.CUSTOMER_SITE, S.INSTALLED),
        (MovementKind.RETURN, True, ReturnCondition.GOOD, None, S.IN_STOCK),
        (MovementKind.RETURN, True, ReturnCondition.FAULTY, None, S.FAULTY),
        (MovementKind.RETURN, True, ReturnCondition.UNKNOWN, None, S.FAULTY),
        (MovementKind.ADJUSTMENT, True, None, None, S.IN_STOCK),
        (MovementKind.ADJUSTMENT, False, None, None, S.RETIRED),
        (MovementKind.COUNT_ADJUSTMENT, False, None, None, S.RETIRED),
    ],
)
def test_each_movement_puts_its_device_in_a_state(kind, gain, condition, place, expected):
    assert (
        state_after_movement(kind, gain=gain, condition=condition, destination_kind=place)
        is expected
    )
