"""Negative stock: refused by default, allowed (with an alert) for configured kinds."""

from stock_world import ORIGIN, World, line

from stockwire.stock.domain.commands import InstallPart, IssueParts
from stockwire.stock.domain.model import Policy


def test_issue_beyond_on_hand_is_rejected_with_an_alert_and_changes_nothing():
    world = World()
    wh = world.location("WH")
    world.item("A")
    world.stock("A", wh, 2)

    outcome = world.one(IssueParts(wh, (line("A", 3),), ORIGIN, job_id="J"))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "negative_stock"
    assert "2 on hand, 3 needed" in outcome.rejection.message
    assert world.on_hand("A", wh) == 2
    assert world.alert_kinds() == ["rejected_movement"]


def test_negative_stock_is_allowed_at_a_configured_kind_with_an_alert():
    world = World(Policy(allow_negative_kinds=frozenset({"technician_van"})))
    van = world.location("VAN", "technician_van")
    world.item("A")
    world.stock("A", van, 1)

    outcome = world.one(InstallPart(van, "CUST-1", line("A", 3), ORIGIN, job_id="J"))

    assert outcome.applied
    assert world.on_hand("A", van) == -2
    assert "negative_stock_allowed" in world.alert_kinds()


def test_allowing_vans_does_not_allow_warehouses():
    world = World(Policy(allow_negative_kinds=frozenset({"technician_van"})))
    wh = world.location("WH")
    world.item("A")

    outcome = world.one(IssueParts(wh, (line("A", 1),), ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "negative_stock"


def test_taking_the_last_unit_raises_a_stockout_alert_once():
    world = World()
    wh = world.location("WH")
    world.item("A")
    world.stock("A", wh, 2)

    world.run(
        IssueParts(wh, (line("A", 2),), ORIGIN, job_id="J1"),
        IssueParts(wh, (line("A", 1),), ORIGIN, job_id="J2"),
    )

    stockouts = [a for a in world.alerts() if a.kind == "stockout"]
    assert len(stockouts) == 1
    assert (stockouts[0].expected_quantity, stockouts[0].actual_quantity) == (2, 0)
