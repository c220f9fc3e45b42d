"""Cancelling a transfer in transit puts the shipment back on hand at the origin;
cancelling an open count adjusts nothing and closes it to further counting."""

from collections import defaultdict

import pytest
from stock_world import ORIGIN, World, q

from stockwire.runtime.domain_errors import Conflict, NotFound
from stockwire.stock.domain import plan
from stockwire.stock.domain.commands import (
    CancelCount,
    CancelTransfer,
    CloseCount,
    OpenCount,
    ReceiptLine,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    ShipTransfer,
)
from stockwire.stock.domain.model import (
    NOTHING,
    Amounts,
    BalanceKey,
    CountStatus,
    LocationInfo,
    SerialState,
    TransferStatus,
)


def two_sites() -> tuple[World, str, str]:
    world = World()
    return world, world.location("WH"), world.location("POP", "point_of_presence")


def shipped(world: World, wh: str, pop: str, quantity: object = 4) -> None:
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("T1", "SFP", wh, pop, q(quantity), ORIGIN))


def test_cancelling_a_transfer_puts_what_was_in_transit_back_on_hand_at_the_origin():
    world, wh, pop = two_sites()
    shipped(world, wh, pop)

    outcome = world.one(CancelTransfer("T1", ORIGIN))

    [movement] = outcome.movements
    assert (movement.kind, movement.reason_code, movement.location, movement.quantity) == (
        "transfer_cancel",
        "transfer_cancelled",
        wh,
        q(4),
    )
    assert (movement.from_location, movement.to_location, movement.transfer_id) == (wh, pop, "T1")
    assert world.level("SFP", wh).on_hand == 10
    assert world.level("SFP", wh).in_transit_out == 0
    assert world.level("SFP", pop).in_transit_in == 0
    assert world.level("SFP", pop).on_hand == 0
    assert world.state.transfers["T1"].status == TransferStatus.CANCELLED
    assert world.state.transfers["T1"].quantity_received is None


def test_cancelled_serials_are_in_stock_at_the_origin_again():
    world, wh, pop = two_sites()
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")
    world.stock("ONT", wh, 1, serial="S2")
    world.one(ShipTransfer("T1", "ONT", wh, pop, q(2), ORIGIN, serials=("S1", "S2")))

    outcome = world.one(CancelTransfer("T1", ORIGIN))

    assert sorted(m.serial for m in outcome.movements) == ["S1", "S2"]
    for serial in ("S1", "S2"):
        record = world.state.serials[serial]
        assert (record.location, record.state) == (wh, SerialState.IN_STOCK)
        assert world.on_hand("ONT", wh, serial=serial) == 1
    assert world.level("ONT", pop).in_transit_in == 0
    assert world.level("ONT", wh).in_transit_out == 0


def test_a_cancelled_lot_transfer_goes_back_to_its_lot():
    world, wh, pop = two_sites()
    world.item("CABLE", "lot")
    world.stock("CABLE", wh, 2, lot="L1")
    world.stock("CABLE", wh, 9, lot="L2")
    world.one(ShipTransfer("T1", "CABLE", wh, pop, q(5), ORIGIN))

    world.one(CancelTransfer("T1", ORIGIN))

    assert (world.on_hand("CABLE", wh, lot="L1"), world.on_hand("CABLE", wh, lot="L2")) == (2, 9)


def test_balances_equal_the_ledger_summed_after_cancellations():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.item("ONT", "serial")
    world.one(
        ReceiveGoods(
            wh,
            (ReceiptLine("SFP", q(10)), ReceiptLine("ONT", q(2), serials=("S1", "S2"))),
            ORIGIN,
        )
    )

    world.run(
        ShipTransfer("T1", "SFP", wh, pop, q(3), ORIGIN),
        ShipTransfer("T2", "ONT", wh, pop, q(2), ORIGIN, serials=("S1", "S2")),
        ShipTransfer("T3", "SFP", wh, pop, q(4), ORIGIN),
        CancelTransfer("T1", ORIGIN),
        CancelTransfer("T2", ORIGIN),
        ReceiveTransfer("T3", q(4), ORIGIN),
    )

    summed: dict[BalanceKey, Amounts] = defaultdict(lambda: NOTHING)
    for movement in world.movements():
        for leg in movement.legs:
            summed[leg.key] = summed[leg.key].plus(leg.delta)
    assert world.rejections() == []
    assert {k: v for k, v in summed.items() if not v.is_zero()} == {
        k: v for k, v in world.state.balances.items() if not v.is_zero()
    }
    assert (world.level("SFP", wh).on_hand, world.level("SFP", pop).on_hand) == (6, 4)
    assert world.level("ONT", wh).on_hand == 2


def test_a_received_or_cancelled_transfer_cannot_be_cancelled():
    world, wh, pop = two_sites()
    shipped(world, wh, pop)
    world.one(ShipTransfer("T2", "SFP", wh, pop, q(1), ORIGIN))
    world.run(ReceiveTransfer("T1", q(4), ORIGIN), CancelTransfer("T2", ORIGIN))

    with pytest.raises(Conflict, match="already received"):
        world.one(CancelTransfer("T1", ORIGIN))
    with pytest.raises(Conflict, match="already cancelled"):
        world.one(CancelTransfer("T2", ORIGIN))
    with pytest.raises(Conflict, match="already cancelled"):
        world.one(ReceiveTransfer("T2", q(1), ORIGIN))
    with pytest.raises(NotFound):
        world.one(CancelTransfer("T-NONE", ORIGIN))
    assert world.level("SFP", pop).on_hand == 4
    assert world.level("SFP", wh).on_hand == 6


def test_cancelling_back_to_a_retired_origin_is_rejected_and_stays_in_transit():
    world, wh, pop = two_sites()
    shipped(world, wh, pop)
    world.state.locations[wh] = LocationInfo(wh, "warehouse", None, False)

    outcome = world.one(CancelTransfer("T1", ORIGIN))

    assert outcome.rejection is not None
    assert (outcome.rejection.reason, outcome.rejection.kind) == (
        "inactive_location",
        "transfer_cancel",
    )
    assert world.state.transfers["T1"].status == TransferStatus.IN_TRANSIT
    assert world.level("SFP", wh).in_transit_out == 4


def test_a_cancellation_plans_the_transfers_balances_at_both_ends():
    world, wh, pop = two_sites()
    shipped(world, wh, pop)
    cmd = CancelTransfer("T1", ORIGIN)

    scope = plan.scope([cmd], world.state)

    assert plan.named([cmd]).transfers == {"T1"}
    assert {BalanceKey("SFP", wh, "", ""), BalanceKey("SFP", pop, "", "")} <= scope.keys


def counting(world: World) -> str:
    wh = world.location("WH")
    world.item("A")
    world.stock("A", wh, 10)
    world.one(OpenCount("C1", wh, ORIGIN))
    world.one(RecordCount("C1", "A", q(7), ORIGIN))
    return wh


def test_cancelling_a_count_adjusts_nothing():
    world = World()
    wh = counting(world)

    outcome = world.one(CancelCount("C1", ORIGIN))

    assert outcome.movements == [] and outcome.alerts == []
    assert outcome.count is not None and outcome.count.status == CountStatus.CANCELLED
    assert outcome.count.closed_at == world.now
    assert (outcome.count.items_counted, outcome.count.accuracy) == (None, None)
    assert world.on_hand("A", wh) == 10


def test_a_cancelled_count_takes_no_more_counting_nor_closing():
    world = World()
    counting(world)
    world.one(CancelCount("C1", ORIGIN))

    recorded = world.one(RecordCount("C1", "A", q(1), ORIGIN))
    with pytest.raises(Conflict, match="already cancelled"):
        world.one(CloseCount("C1", ORIGIN))

    assert recorded.rejection is not None
    assert recorded.rejection.reason == "count_not_open"
    assert "cancelled" in recorded.rejection.message
    assert world.state.counts["C1"].status == CountStatus.CANCELLED
    assert world.movements() == []


def test_only_an_open_count_can_be_cancelled():
    world = World()
    wh = counting(world)
    world.run(OpenCount("C2", wh, ORIGIN), CloseCount("C2", ORIGIN), CancelCount("C1", ORIGIN))

    with pytest.raises(Conflict, match="already cancelled"):
        world.one(CancelCount("C1", ORIGIN))
    with pytest.raises(Conflict, match="already closed"):
        world.one(CancelCount("C2", ORIGIN))
    with pytest.raises(NotFound):
        world.one(CancelCount("C-NONE", ORIGIN))


def test_closing_a_cancelled_count_plans_no_balances_to_lock():
    world = World()
    counting(world)
    world.one(CancelCount("C1", ORIGIN))

    scope = plan.scope([CloseCount("C1", ORIGIN)], world.state)

    assert (scope.count_locations, scope.whole_counts, scope.pairs) == (set(), set(), set())
