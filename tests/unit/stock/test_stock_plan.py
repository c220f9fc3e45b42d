"""Planning: a batch loads exactly the balances its commands can touch."""

from stock_world import ORIGIN, World, line, q

from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.stock.domain import plan
from stockwire.stock.domain.commands import (
    CloseCount,
    IssueParts,
    ReceiptLine,
    ReceiveGoods,
    ReturnPart,
)
from stockwire.stock.domain.model import BalanceKey, Count, CountStatus, Pair


def test_named_lists_what_commands_name_outright():
    cmds = [
        IssueParts("VAN", (line("ONT", 1, "S1"),), ORIGIN, job_id="J"),
        ReceiveGoods("WH", (ReceiptLine("SFP", q(3)),), ORIGIN),
        CloseCount("C1", ORIGIN),
    ]

    found = plan.named(cmds)

    assert found.skus == {"ONT", "SFP"}
    assert found.locations == {"VAN", "WH"}
    assert found.serials == {"S1"}
    assert found.custody_jobs == found.reservation_jobs == {"J"}


def test_a_lot_item_issued_without_a_lot_needs_its_whole_pair():
    world = World()
    world.location("WH")
    world.item("CABLE", "lot")

    scope = plan.scope([IssueParts("WH", (line("CABLE", 2),), ORIGIN)], world.state)

    assert Pair("CABLE", "WH") in scope.whole


def test_a_named_lot_or_serial_needs_just_that_balance():
    world = World()
    world.location("WH")
    world.item("CABLE", "lot")
    world.item("ONT", "serial")

    scope = plan.scope(
        [IssueParts("WH", (line("CABLE", 2, lot="L1"), line("ONT", 1, "S1")), ORIGIN)],
        world.state,
    )

    assert scope.whole == set()
    assert {BalanceKey("CABLE", "WH", "L1", ""), BalanceKey("ONT", "WH", "", "S1")} <= scope.keys


def test_a_faulty_return_plans_the_quarantine_it_will_land_in():
    world = World()
    world.location("WH")
    world.location("VAN", "technician_van", parent="WH")
    world.location("Q", "quarantine", parent="WH")
    world.item("SFP")

    scope = plan.scope(
        [ReturnPart("VAN", line("SFP", 1), ReturnCondition.FAULTY, ORIGIN)], world.state
    )

    assert BalanceKey("SFP", "Q", "", "") in scope.keys
    assert all(key.location != "VAN" for key in scope.keys)


def test_closing_a_count_covers_every_balance_at_its_location():
    world = World()
    world.location("WH")
    world.state.counts["C1"] = Count("C1", "WH", False, CountStatus.OPEN, world.now)

    scope = plan.scope([CloseCount("C1", ORIGIN)], world.state)

    assert scope.count_locations == {"WH"}
    assert scope.whole_counts == {"C1"}


def test_a_location_the_catalog_does_not_know_plans_nothing():
    world = World()
    world.item("SFP")

    scope = plan.scope([IssueParts("NOWHERE", (line("SFP", 1),), ORIGIN)], world.state)

    assert scope.pairs == set()
