"""Receipts, issues to jobs, picks and adjustments."""

import pytest
from stock_world import ORIGIN, World, line, q

from stockwire.runtime.domain_errors import Invalid
from stockwire.stock.domain.commands import (
    Adjust,
    AdjustmentReason,
    IssueParts,
    ReceiptLine,
    ReceiveGoods,
)
from stockwire.stock.domain.model import JobPartKey, SerialState


def receipt(location: str, *lines: ReceiptLine, po: str = "PO-1") -> ReceiveGoods:
    return ReceiveGoods(location, lines, ORIGIN, po_number=po, receipt_id="GR-1")


def test_receipt_lines_record_exact_short_and_over_deliveries_and_skip_zero():
    world = World()
    wh = world.location("WH")
    for sku in ("A", "B", "C", "D"):
        world.item(sku)

    outcome = world.one(
        receipt(
            wh,
            ReceiptLine("A", q(10), ordered=q(10)),
            ReceiptLine("B", q(7), ordered=q(10)),
            ReceiptLine("C", q(12), ordered=q(10)),
            ReceiptLine("D", q(0), ordered=q(10)),
        )
    )

    assert [(m.sku, m.reason_code, m.quantity) for m in outcome.movements] == [
        ("A", "receipt_exact", q(10)),
        ("B", "receipt_short", q(7)),
        ("C", "receipt_over", q(12)),
    ]
    assert all(m.po_number == "PO-1" and m.to_location == wh for m in outcome.movements)
    assert world.on_hand("B", wh) == 7
    assert world.on_hand("D", wh) == 0


def test_receiving_serials_puts_each_serial_in_stock_at_the_location():
    world = World()
    wh = world.location("WH")
    world.item("ONT", "serial")

    outcome = world.one(receipt(wh, ReceiptLine("ONT", q(2), q(2), ("S1", "S2"))))

    assert [m.serial for m in outcome.movements] == ["S1", "S2"]
    assert world.level("ONT", wh).on_hand == 2
    assert world.state.serials["S1"].state == SerialState.IN_STOCK
    assert world.state.serials["S1"].location == wh


def test_receipt_of_a_lot_tracked_item_keeps_the_lot():
    world = World()
    wh = world.location("WH")
    world.item("SPOOL", "length")

    world.one(receipt(wh, ReceiptLine("SPOOL", q(1000), q(1000), lot="REEL-7")))

    assert world.on_hand("SPOOL", wh, lot="REEL-7") == 1000


def test_receipt_with_an_unknown_sku_is_rejected_whole():
    world = World()
    wh = world.location("WH")
    world.item("A")

    outcome = world.one(receipt(wh, ReceiptLine("A", q(5), q(5)), ReceiptLine("NOPE", q(1), q(1))))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "unknown_sku"
    assert outcome.rejection.sku == "NOPE"
    assert world.on_hand("A", wh) == 0
    assert world.alert_kinds() == ["rejected_movement"]


@pytest.mark.parametrize(
    ("active_item", "active_location", "reason"),
    [(False, True, "retired_sku"), (True, False, "inactive_location")],
)
def test_receipt_for_a_retired_sku_or_inactive_location_is_rejected(
    active_item, active_location, reason
):
    world = World()
    wh = world.location("WH", active=active_location)
    world.item("A", active=active_item)

    outcome = world.one(receipt(wh, ReceiptLine("A", q(5), q(5))))

    assert outcome.rejection is not None and outcome.rejection.reason == reason


def test_receipt_at_an_unknown_location_is_rejected():
    world = World()
    world.item("A")

    outcome = world.one(receipt("NOWHERE", ReceiptLine("A", q(5), q(5))))

    assert outcome.rejection is not None and outcome.rejection.reason == "unknown_location"


def test_issue_to_a_job_moves_stock_into_the_jobs_custody():
    world = World()
    van = world.location("VAN", "technician_van")
    world.item("SFP")
    world.stock("SFP", van, 5)

    outcome = world.one(IssueParts(van, (line("SFP", 2),), ORIGIN, job_id="J1"))

    [movement] = outcome.movements
    assert (movement.kind, movement.reason_code, movement.job_id) == ("issue", "job_issue", "J1")
    assert world.on_hand("SFP", van) == 3
    assert world.state.job_parts[JobPartKey("J1", "SFP", "", "")].quantity == 2


def test_issue_of_several_lines_is_all_or_nothing():
    world = World()
    van = world.location("VAN", "technician_van")
    world.item("A")
    world.item("B")
    world.stock("A", van, 5)
    world.stock("B", van, 1)

    outcome = world.one(IssueParts(van, (line("A", 2), line("B", 3)), ORIGIN, job_id="J1"))

    assert outcome.rejection is not None and outcome.rejection.reason == "negative_stock"
    assert outcome.rejection.sku == "B"
    assert world.on_hand("A", van) == 5
    assert world.state.job_parts == {}
    assert world.movements() == []


def test_pick_scan_issues_without_a_job():
    world = World()
    wh = world.location("WH")
    world.item("A")
    world.stock("A", wh, 4)

    outcome = world.one(IssueParts(wh, (line("A", 1),), ORIGIN, scanned=True))

    assert outcome.movements[0].reason_code == "scan_pick"
    assert world.on_hand("A", wh) == 3
    assert world.state.job_parts == {}


def test_an_issue_without_a_job_or_a_scanner_is_a_manual_issue():
    world = World()
    wh = world.location("WH")
    world.item("A")
    world.stock("A", wh, 4)

    outcome = world.one(IssueParts(wh, (line("A", 1),), ORIGIN))

    assert outcome.movements[0].reason_code == "manual_issue"


def test_issuing_a_lot_tracked_item_without_a_lot_draws_lots_in_order():
    world = World()
    wh = world.location("WH")
    world.item("CABLE", "lot")
    world.stock("CABLE", wh, 3, lot="L1")
    world.stock("CABLE", wh, 5, lot="L2")

    outcome = world.one(IssueParts(wh, (line("CABLE", 4),), ORIGIN, job_id="J"))

    assert [(m.lot, m.quantity) for m in outcome.movements] == [("L1", q(3)), ("L2", q(1))]
    assert world.on_hand("CABLE", wh, lot="L1") == 0
    assert world.on_hand("CABLE", wh, lot="L2") == 4


def test_adjustment_changes_the_balance_with_its_reason_and_note():
    world = World()
    wh = world.location("WH")
    world.item("A")
    world.stock("A", wh, 4)

    outcome = world.one(Adjust("A", wh, q(-3), AdjustmentReason.DAMAGED, ORIGIN, note="forklift"))

    [movement] = outcome.movements
    assert (movement.kind, movement.reason_code, movement.note) == (
        "adjustment",
        "adjustment_damaged",
        "forklift",
    )
    assert movement.from_location == wh and movement.quantity == 3
    assert world.on_hand("A", wh) == 1


def test_adjustment_below_zero_is_rejected():
    world = World()
    wh = world.location("WH")
    world.item("A")
    world.stock("A", wh, 1)

    outcome = world.one(Adjust("A", wh, q(-3), AdjustmentReason.LOST, ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "negative_stock"


def test_adjustment_by_zero_is_invalid():
    world = World()
    wh = world.location("WH")
    world.item("A")

    with pytest.raises(Invalid):
        world.one(Adjust("A", wh, q(0), AdjustmentReason.LOST, ORIGIN))
