"""Transfers stock picks itself (replenishment's requests name a quantity only): the
serials that arrived first on the origin's shelf, and never stock reserved for jobs."""

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from stock_world import T0, World, q

from stockwire.runtime.domain_errors import Invalid
from stockwire.stock.domain import plan
from stockwire.stock.domain.commands import (
    IssueParts,
    Line,
    Origin,
    ReceiveTransfer,
    Reserve,
    ShipTransfer,
)
from stockwire.stock.domain.model import BalanceKey, Pair, Policy, SerialState

REQUESTED = Origin("replenishment:ana", source_event_id=uuid.uuid4())


def picked(transfer_id: str, sku: str, quantity: object, wh: str = "WH") -> ShipTransfer:
    return ShipTransfer(transfer_id, sku, wh, "VAN", q(quantity), REQUESTED, stock_picks=True)


def warehouse_and_van(policy: Policy | None = None) -> World:
    world = World(policy)
    world.location("WH")
    world.location("VAN", "technician_van", parent="WH")
    world.item("ONT", "serial")
    world.item("SFP")
    return world


def shelve(world: World, *serials: str, days_ago: int) -> None:
    for serial in serials:
        world.stock("ONT", "WH", 1, serial=serial, arrived=T0 - timedelta(days=days_ago))


def in_conflict(world: World, serial: str) -> None:
    """The books hold ``serial`` here, but an event also placed it in the van."""
    world.state.serials[serial] = replace(world.state.serials[serial], conflict=Pair("ONT", "VAN"))


def test_stock_picks_the_serials_that_arrived_first_the_lower_serial_on_a_tie():
    world = warehouse_and_van()
    shelve(world, "S-9", days_ago=30)
    shelve(world, "S-5", "S-2", days_ago=20)
    shelve(world, "S-1", days_ago=1)

    outcome = world.one(picked("T1", "ONT", 3))

    assert [m.serial for m in outcome.movements] == ["S-9", "S-2", "S-5"]
    assert world.state.transfers["T1"].serials == ("S-9", "S-2", "S-5")
    assert world.state.serials["S-1"].state == SerialState.IN_STOCK
    assert world.level("ONT", "WH").in_transit_out == 3
    assert world.level("ONT", "VAN").in_transit_in == 3


def test_a_serial_in_conflict_or_gone_earlier_in_the_batch_is_not_picked():
    world = warehouse_and_van()
    shelve(world, "OLDEST", days_ago=30)
    shelve(world, "DOUBTFUL", days_ago=20)
    shelve(world, "NEWEST", days_ago=1)
    in_conflict(world, "DOUBTFUL")
    world.one(IssueParts("WH", (Line("ONT", q(1), ("OLDEST",)),), REQUESTED, job_id="J1"))

    outcome = world.one(picked("T1", "ONT", 1))

    assert [m.serial for m in outcome.movements] == ["NEWEST"]


def test_too_few_serials_on_the_shelf_is_rejected_as_negative_stock_and_ships_nothing():
    world = warehouse_and_van()
    shelve(world, "S-1", days_ago=2)
    shelve(world, "S-2", days_ago=1)
    in_conflict(world, "S-2")

    outcome = world.one(picked("T1", "ONT", 3))

    assert outcome.rejection is not None
    assert (outcome.rejection.reason, outcome.rejection.kind) == ("negative_stock", "transfer_ship")
    assert outcome.rejection.message == (
        "not enough serials: ONT at WH has 1 on the shelf (and 1 the books hold in "
        "conflict), 3 requested"
    )
    assert world.movements() == []
    assert "T1" not in world.state.transfers
    assert world.state.serials["S-1"].state == SerialState.IN_STOCK


@pytest.mark.parametrize("sku", ["SFP", "ONT"])
def test_a_pick_leaves_what_is_reserved_for_jobs(sku):
    world = warehouse_and_van()
    if sku == "ONT":
        shelve(world, "S-1", "S-2", "S-3", days_ago=1)
    else:
        world.stock("SFP", "WH", 3)
    world.one(Reserve("R1", "J1", sku, "WH", q(2), REQUESTED))

    refused = world.one(picked("T1", sku, 2))
    shipped = world.one(picked("T2", sku, 1))

    assert refused.rejection is not None and refused.rejection.reason == "negative_stock"
    assert refused.rejection.message == (
        f"not enough available: {sku} at WH has 3 on hand, 2 of it reserved for jobs; 2 requested"
    )
    assert shipped.applied and world.level(sku, "WH").available == 0


def test_a_pick_never_takes_stock_below_zero_even_where_negative_stock_is_allowed():
    world = warehouse_and_van(Policy(allow_negative_kinds=frozenset({"warehouse"})))
    world.stock("SFP", "WH", 2)

    outcome = world.one(picked("T1", "SFP", 5))

    assert outcome.rejection is not None
    assert outcome.rejection.message == "not enough available: SFP at WH has 2 on hand; 5 requested"
    assert world.level("SFP", "WH").on_hand == 2


def test_a_serial_tracked_pick_of_part_of_a_unit_is_rejected():
    world = warehouse_and_van()
    shelve(world, "S-1", "S-2", days_ago=1)

    outcome = world.one(picked("T1", "ONT", "1.5"))

    assert outcome.rejection is not None and outcome.rejection.reason == "invalid_quantity"


def test_a_bulk_pick_ships_like_a_transfer_a_person_asked_for():
    world = warehouse_and_van()
    world.stock("SFP", "WH", 10)

    outcome = world.one(picked("T1", "SFP", 4))

    assert [(m.kind, m.quantity, m.serial) for m in outcome.movements] == [("transfer_ship", 4, "")]
    assert (world.level("SFP", "WH").on_hand, world.level("SFP", "VAN").in_transit_in) == (6, 4)


def test_picked_serials_arrive_like_named_ones():
    world = warehouse_and_van()
    shelve(world, "S-1", "S-2", days_ago=1)
    world.one(picked("T1", "ONT", 2))

    outcome = world.one(ReceiveTransfer("T1", q(2), REQUESTED))

    assert outcome.applied
    assert {world.state.serials[s].location for s in ("S-1", "S-2")} == {"VAN"}
    assert world.level("ONT", "VAN").on_hand == 2


def test_a_person_shipping_a_serial_tracked_sku_must_still_name_serials():
    world = warehouse_and_van()
    shelve(world, "S-1", days_ago=1)

    outcome = world.one(ShipTransfer("T1", "ONT", "WH", "VAN", q(1), REQUESTED))

    assert outcome.rejection is not None and outcome.rejection.reason == "serial_required"


def test_naming_serials_on_a_transfer_stock_picks_is_malformed():
    world = warehouse_and_van()
    shelve(world, "S-1", days_ago=1)
    cmd = ShipTransfer(
        "T1", "ONT", "WH", "VAN", q(1), Origin("ops"), serials=("S-1",), stock_picks=True
    )

    with pytest.raises(Invalid, match="stock picks the serials"):
        world.one(cmd)


def test_a_serial_tracked_pick_plans_its_origins_shelf_and_the_balances_it_may_move():
    world = warehouse_and_van()
    shelve(world, "S-1", "S-2", days_ago=1)
    cmds = [picked("T1", "ONT", 1), picked("T2", "SFP", 1)]

    scope = plan.scope(cmds, world.state)

    assert scope.shelves == {Pair("ONT", "WH")}
    assert {Pair("ONT", "WH"), Pair("ONT", "VAN")} <= scope.pairs
    assert plan.shelf_keys(cmds, world.state) == {
        BalanceKey("ONT", where, "", serial) for where in ("WH", "VAN") for serial in ("S-1", "S-2")
    }
