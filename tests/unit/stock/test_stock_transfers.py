"""Transfers: shipped stock is in transit at both ends until it arrives; shortfalls are
written off in the ledger and reported."""

import uuid

import pytest
from stock_world import ORIGIN, World, q

from stockwire.runtime.domain_errors import Conflict, NotFound
from stockwire.stock.domain.commands import Origin, ReceiveTransfer, ShipTransfer
from stockwire.stock.domain.model import SerialState, TransferStatus


def two_sites() -> tuple[World, str, str]:
    world = World()
    return world, world.location("WH"), world.location("POP", "point_of_presence")


def test_shipping_moves_on_hand_into_transit_at_both_ends():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)

    outcome = world.one(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN))

    [movement] = outcome.movements
    assert (movement.kind, movement.location, movement.transfer_id) == (
        "transfer_ship",
        wh,
        "T1",
    )
    assert world.level("SFP", wh).on_hand == 6
    assert world.level("SFP", wh).in_transit_out == 4
    assert world.level("SFP", pop).in_transit_in == 4
    assert world.state.transfers["T1"].status == TransferStatus.IN_TRANSIT


def test_receiving_everything_clears_transit_and_puts_it_on_hand():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN))

    outcome = world.one(ReceiveTransfer("T1", q(4), ORIGIN))

    assert [m.reason_code for m in outcome.movements] == ["transfer_received"]
    assert world.level("SFP", pop).on_hand == 4
    assert world.level("SFP", pop).in_transit_in == 0
    assert world.level("SFP", wh).in_transit_out == 0
    assert "transfer_discrepancy" not in world.alert_kinds()


def test_receiving_fewer_writes_off_the_shortage_and_raises_a_discrepancy():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN))

    outcome = world.one(ReceiveTransfer("T1", q(3), ORIGIN))

    assert [(m.reason_code, m.quantity) for m in outcome.movements] == [
        ("transfer_received", q(3)),
        ("transfer_shortage", q(1)),
    ]
    assert world.level("SFP", pop).on_hand == 3
    assert world.level("SFP", pop).in_transit_in == 0
    assert world.level("SFP", wh).in_transit_out == 0
    [alert] = [a for a in outcome.alerts if a.kind == "transfer_discrepancy"]
    assert (alert.expected_quantity, alert.actual_quantity, alert.transfer_id) == (4, 3, "T1")
    assert world.state.transfers["T1"].quantity_received == 3


def test_receiving_more_than_shipped_is_rejected():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN))

    outcome = world.one(ReceiveTransfer("T1", q(5), ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "invalid_quantity"
    assert world.state.transfers["T1"].status == TransferStatus.IN_TRANSIT


def test_shipping_more_than_on_hand_is_rejected():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 1)

    outcome = world.one(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "negative_stock"
    assert "T1" not in world.state.transfers


def test_a_serial_transfer_short_one_serial_writes_that_serial_off():
    world, wh, pop = two_sites()
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")
    world.stock("ONT", wh, 1, serial="S2")
    world.one(ShipTransfer("T1", "ONT", wh, pop, q(2), ORIGIN, serials=("S1", "S2")))
    assert world.state.serials["S1"].state == SerialState.IN_TRANSIT

    world.one(ReceiveTransfer("T1", q(1), ORIGIN, serials=("S2",)))

    assert world.state.serials["S2"].state == SerialState.IN_STOCK
    assert world.state.serials["S2"].location == pop
    assert world.state.serials["S1"].state == SerialState.WRITTEN_OFF
    assert world.level("ONT", pop).on_hand == 1
    assert world.level("ONT", pop).in_transit_in == 0


def test_a_transfer_is_received_once():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.run(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN), ReceiveTransfer("T1", q(4), ORIGIN))

    with pytest.raises(Conflict):
        world.one(ReceiveTransfer("T1", q(4), ORIGIN))
    with pytest.raises(NotFound):
        world.one(ReceiveTransfer("T-NONE", q(4), ORIGIN))
    with pytest.raises(Conflict):
        world.one(ShipTransfer("T1", "SFP", wh, pop, q(1), ORIGIN))


def test_a_lot_transfer_without_a_lot_takes_one_lot_that_holds_it_all():
    world, wh, pop = two_sites()
    world.item("CABLE", "lot")
    world.stock("CABLE", wh, 2, lot="L1")
    world.stock("CABLE", wh, 9, lot="L2")

    world.one(ShipTransfer("T1", "CABLE", wh, pop, q(5), ORIGIN))

    assert world.state.transfers["T1"].lot == "L2"
    assert world.on_hand("CABLE", wh, lot="L2") == 4


REQUESTED = Origin("replenishment:ana", source_event_id=uuid.uuid4())
"""A transfer request from replenishment's topic."""


def test_a_transfer_request_sent_again_ships_nothing_more_and_records_nothing():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("SUG-1", "SFP", wh, pop, q(4), REQUESTED))
    events_before = len(world.book.events)

    again = Origin("replenishment:ana", source_event_id=uuid.uuid4())
    outcome = world.one(ShipTransfer("SUG-1", "SFP", wh, pop, q(4), again))

    assert outcome.applied and outcome.movements == []
    assert outcome.repeat_of == "transfer 'SUG-1' was already shipped"
    assert len(world.book.events) == events_before
    assert (world.level("SFP", wh).on_hand, world.level("SFP", pop).in_transit_in) == (6, 4)


def test_a_request_sent_again_after_the_transfer_arrived_is_still_a_repeat():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("SUG-1", "SFP", wh, pop, q(4), REQUESTED))
    world.one(ReceiveTransfer("SUG-1", q(4), ORIGIN))

    outcome = world.one(ShipTransfer("SUG-1", "SFP", wh, pop, q(4), REQUESTED))

    assert outcome.repeat_of is not None and outcome.movements == []
    assert world.level("SFP", wh).on_hand == 6


def test_a_request_that_differs_from_the_transfer_under_its_id_is_rejected_naming_it():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("SUG-1", "SFP", wh, pop, q(4), REQUESTED))

    outcome = world.one(ShipTransfer("SUG-1", "SFP", wh, pop, q(5), REQUESTED))

    assert outcome.rejection is not None
    assert (outcome.rejection.reason, outcome.rejection.kind) == (
        "invalid_quantity",
        "transfer_ship",
    )
    assert outcome.rejection.message == (
        f"transfer 'SUG-1' was already shipped: 4 of SFP from {wh!r} to {pop!r} (in_transit); "
        f"not shipping 5 of SFP from {wh!r} to {pop!r} under its id"
    )
    assert world.alert_kinds() == ["rejected_movement"]
    assert world.level("SFP", wh).on_hand == 6


def test_shipping_under_a_used_transfer_id_over_http_is_a_conflict():
    world, wh, pop = two_sites()
    world.item("SFP")
    world.stock("SFP", wh, 10)
    world.one(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN))

    with pytest.raises(Conflict):
        world.one(ShipTransfer("T1", "SFP", wh, pop, q(4), ORIGIN))
