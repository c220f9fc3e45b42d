"""Cycle counts: variances become count adjustments, accuracy is kept, big variances alert."""

import pytest
from stock_world import ORIGIN, World, q

from stockwire.runtime.domain_errors import Conflict, Invalid
from stockwire.stock.domain.commands import CloseCount, OpenCount, RecordCount
from stockwire.stock.domain.model import CountLineKey, CountStatus, Policy, SerialState


def counted_world() -> tuple[World, str]:
    world = World(Policy(count_variance_threshold=q("0.1")))
    wh = world.location("WH")
    for sku in ("A", "B", "C"):
        world.item(sku)
    world.stock("A", wh, 10)
    world.stock("B", wh, 20)
    world.stock("C", wh, 5)
    return world, wh


def test_closing_a_count_books_variances_and_stores_accuracy():
    world, wh = counted_world()
    world.one(OpenCount("C1", wh, ORIGIN))
    world.run(
        RecordCount("C1", "A", q(10), ORIGIN),
        RecordCount("C1", "B", q(12), ORIGIN),
        RecordCount("C1", "B", q(7), ORIGIN),
    )

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert [(m.sku, m.reason_code, m.quantity) for m in outcome.movements] == [
        ("B", "count_loss", q(1)),
        ("C", "count_loss", q(5)),
    ]
    assert world.on_hand("B", wh) == 19
    assert world.on_hand("C", wh) == 0
    count = outcome.count
    assert count is not None and count.status == CountStatus.CLOSED
    assert (count.items_counted, count.items_matching) == (3, 1)
    assert count.accuracy == q("0.33333")
    assert world.state.count_lines[CountLineKey("C1", "C", "", "")].expected == 5


def test_only_variances_beyond_the_threshold_alert():
    world, wh = counted_world()
    world.one(OpenCount("C1", wh, ORIGIN, skus=("A", "B")))
    world.run(RecordCount("C1", "A", q(9), ORIGIN), RecordCount("C1", "B", q(25), ORIGIN))

    world.one(CloseCount("C1", ORIGIN))

    variances = [a for a in world.alerts() if a.kind == "count_variance"]
    assert [(a.sku, a.expected_quantity, a.actual_quantity) for a in variances] == [("B", 20, 25)]


def test_a_count_limited_to_skus_leaves_the_others_alone():
    world, wh = counted_world()
    world.one(OpenCount("C1", wh, ORIGIN, skus=("A",)))
    world.one(RecordCount("C1", "A", q(10), ORIGIN))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert outcome.movements == []
    assert world.on_hand("C", wh) == 5
    assert outcome.count is not None and outcome.count.accuracy == 1


def test_a_counted_serial_unknown_to_stock_is_found_and_a_missing_one_written_off():
    world = World()
    wh = world.location("WH")
    world.item("ONT", "serial")
    world.stock("ONT", wh, 1, serial="S1")
    world.one(OpenCount("C1", wh, ORIGIN))

    world.one(RecordCount("C1", "ONT", q(1), ORIGIN, serial="S2"))
    outcome = world.one(CloseCount("C1", ORIGIN))

    assert sorted((m.serial, m.reason_code) for m in outcome.movements) == [
        ("S1", "count_loss"),
        ("S2", "count_gain"),
    ]
    assert world.state.serials["S1"].state == SerialState.WRITTEN_OFF
    assert world.state.serials["S2"].state == SerialState.IN_STOCK


def test_a_counted_serial_on_the_books_elsewhere_is_a_conflict_not_a_fix():
    world = World()
    wh = world.location("WH")
    other = world.location("WH2")
    world.item("ONT", "serial")
    world.stock("ONT", other, 1, serial="S1")
    world.one(OpenCount("C1", wh, ORIGIN))
    world.one(RecordCount("C1", None, q(1), ORIGIN, serial="S1", location=wh))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert outcome.applied and outcome.movements == []
    assert [r.reason for r in outcome.skipped] == ["serial_already_in_stock"]
    assert "serial_conflict" in world.alert_kinds()
    assert world.state.serials["S1"].location == other
    assert outcome.count is not None and outcome.count.items_matching == 0


def test_count_scans_for_a_closed_or_unknown_count_are_rejected():
    world, wh = counted_world()
    world.run(OpenCount("C1", wh, ORIGIN), CloseCount("C1", ORIGIN))

    closed = world.one(RecordCount("C1", "A", q(1), ORIGIN))
    unknown = world.one(RecordCount("C-NONE", "A", q(1), ORIGIN))
    elsewhere_count = world.one(OpenCount("C2", wh, ORIGIN))
    elsewhere = world.one(RecordCount("C2", "A", q(1), ORIGIN, location="WH9"))

    assert elsewhere_count.applied
    for outcome in (closed, unknown, elsewhere):
        assert outcome.rejection is not None and outcome.rejection.reason == "count_not_open"


def test_a_count_is_opened_once_at_a_known_location_and_closed_once():
    world, wh = counted_world()
    world.run(OpenCount("C1", wh, ORIGIN), CloseCount("C1", ORIGIN))

    with pytest.raises(Conflict):
        world.one(OpenCount("C1", wh, ORIGIN))
    with pytest.raises(Conflict):
        world.one(CloseCount("C1", ORIGIN))
    with pytest.raises(Invalid):
        world.one(OpenCount("C2", "NOWHERE", ORIGIN))


def test_a_lot_item_counted_without_lots_is_compared_with_all_its_lots():
    world = World()
    wh = world.location("WH")
    world.item("CABLE", "lot")
    world.stock("CABLE", wh, 4, lot="L1")
    world.stock("CABLE", wh, 6, lot="L2")
    world.one(OpenCount("C1", wh, ORIGIN))
    world.one(RecordCount("C1", "CABLE", q(7), ORIGIN))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert [(m.lot, m.quantity) for m in outcome.movements] == [("L1", q(3))]
    assert world.level("CABLE", wh).on_hand == 7
    assert outcome.count is not None and outcome.count.items_counted == 1
