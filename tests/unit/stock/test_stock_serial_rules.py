"""A serial is in one place at a time; conflicts are reported, never silently fixed."""

from stock_world import ORIGIN, World, line, q

from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.stock.domain.commands import (
    Adjust,
    AdjustmentReason,
    InstallPart,
    IssueParts,
    ReceiptLine,
    ReceiveGoods,
    ReturnPart,
)
from stockwire.stock.domain.model import SerialState


def test_issuing_a_serial_from_where_it_is_not_is_rejected_with_a_serial_conflict():
    world = World()
    wh = world.location("WH")
    van = world.location("VAN", "technician_van")
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")

    outcome = world.one(IssueParts(van, (line("ONT", 1, "S1"),), ORIGIN, job_id="J"))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "serial_not_at_location"
    assert outcome.rejection.serial == "S1"
    assert "in stock at 'WH'" in outcome.rejection.message
    assert world.alert_kinds() == ["rejected_movement", "serial_conflict"]
    record = world.state.serials["S1"]
    assert (record.location, record.state) == (wh, SerialState.IN_STOCK)


def test_receiving_a_serial_already_in_stock_elsewhere_is_rejected():
    world = World()
    wh = world.location("WH")
    other = world.location("WH2")
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")

    outcome = world.one(ReceiveGoods(other, (ReceiptLine("ONT", q(1), q(1), ("S1",)),), ORIGIN))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "serial_already_in_stock"
    assert "serial_conflict" in world.alert_kinds()
    assert world.on_hand("ONT", other, serial="S1") == 0


def test_a_serial_item_needs_serials():
    world = World()
    wh = world.location("WH")
    world.item("ONT", "serial")

    outcome = world.one(ReceiveGoods(wh, (ReceiptLine("ONT", q(1), q(1)),), ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "serial_required"


def test_installing_a_serial_issued_to_another_job_is_rejected():
    world = World()
    van = world.location("VAN", "technician_van")
    world.item("ONT", "serial")
    world.stock("ONT", van, 1, serial="S1")
    world.one(IssueParts(van, (line("ONT", 1, "S1"),), ORIGIN, job_id="J1"))

    outcome = world.one(InstallPart(van, "CUST", line("ONT", 1, "S1"), ORIGIN, job_id="J2"))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "serial_not_at_location"
    assert "issued to job 'J1'" in outcome.rejection.message


def test_an_installed_serial_can_come_back_as_a_return():
    world = World()
    van = world.location("VAN", "technician_van")
    world.item("ONT", "serial")
    world.stock("ONT", van, 1, serial="S1")
    world.one(InstallPart(van, "CUST", line("ONT", 1, "S1"), ORIGIN, job_id="J"))

    outcome = world.one(ReturnPart(van, line("ONT", 1, "S1"), ReturnCondition.GOOD, ORIGIN))

    assert outcome.applied
    assert outcome.movements[0].from_location == "CUST"
    assert world.state.serials["S1"].state == SerialState.IN_STOCK


def test_adjusting_a_serial_out_writes_it_off():
    world = World()
    wh = world.location("WH")
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")

    world.one(Adjust("ONT", wh, q(-1), AdjustmentReason.LOST, ORIGIN, serial="S1"))

    assert world.state.serials["S1"].state == SerialState.WRITTEN_OFF
    assert world.on_hand("ONT", wh, serial="S1") == 0


def test_a_scan_naming_only_a_serial_uses_the_serials_sku():
    world = World()
    wh = world.location("WH")
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")

    outcome = world.one(IssueParts(wh, (line(None, 1, "S1"),), ORIGIN, scanned=True))

    assert outcome.movements[0].sku == "ONT"


def test_a_scan_naming_only_an_unknown_serial_is_rejected():
    world = World()
    wh = world.location("WH")

    outcome = world.one(ReceiveGoods(wh, (ReceiptLine(None, q(1), None, ("S9",)),), ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "unknown_sku"
