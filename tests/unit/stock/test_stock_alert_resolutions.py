"""Alerts carry where and what they are about, their figures and labels; the book
resolves a stockout, a count variance and a serial conflict when the condition clears,
and nothing it could not have raised."""

from decimal import Decimal

from stock_world import ORIGIN, World, line, q

from stockwire.contracts.stock import StockAlertRaised, StockAlertResolved
from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.stock.domain.commands import (
    Adjust,
    AdjustmentReason,
    CloseCount,
    InstallPart,
    IssueParts,
    OpenCount,
    ReceiptLine,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    ReleaseReservation,
    Reserve,
    ReturnPart,
    ShipTransfer,
)
from stockwire.stock.domain.model import Pair, Policy, SerialState
from stockwire.stock.unit_of_work import book_payloads

BASE = "https://stock.example.net"


def receive(world: World, location: str, sku: str, quantity: object, *serials: str) -> None:
    world.one(ReceiveGoods(location, (ReceiptLine(sku, q(quantity), None, serials),), ORIGIN))


def issue(world: World, location: str, sku: str, quantity: object, *serials: str) -> None:
    outcome = world.one(IssueParts(location, (line(sku, quantity, *serials),), ORIGIN, "J1"))
    assert outcome.applied


def published(world: World) -> list[StockAlertRaised | StockAlertResolved]:
    """The alerts and resolutions as published; building them validates each one."""
    return [
        payload
        for payload, _ in book_payloads(world.book, BASE)
        if isinstance(payload, StockAlertRaised | StockAlertResolved)
    ]


def van_world() -> tuple[World, str]:
    world = World()
    van = world.location("VAN", "technician_van", region="TX-NORTH")
    world.item("ONT", category="ont")
    return world, van


# -- what an alert carries ----------------------------------------------------------------


def test_a_stockout_carries_region_category_figures_and_a_link_to_the_balance():
    world, van = van_world()
    world.stock("ONT", van, 2)

    issue(world, van, "ONT", 2)

    [alert] = published(world)
    assert isinstance(alert, StockAlertRaised)
    assert (alert.kind, alert.region, alert.category) == ("stockout", "TX-NORTH", "ont")
    assert alert.figures == {"available": 0, "was_available": 2}
    assert alert.labels == {"job_id": "J1"}
    assert alert.link == f"{BASE}/api/v1/balances?sku=ONT&location=VAN"
    assert (alert.expected_quantity, alert.actual_quantity, alert.job_id) == (2, 0, "J1")


def test_a_rejected_movement_carries_its_reason_job_and_quantity():
    world, van = van_world()
    world.stock("ONT", van, 1)

    outcome = world.one(IssueParts(van, (line("ONT", 3),), ORIGIN, job_id="J7"))

    assert not outcome.applied
    [alert] = published(world)
    assert alert.labels == {"reason": "negative_stock", "movement_kind": "issue", "job_id": "J7"}
    assert alert.figures == {"quantity": 3}


def test_a_serial_conflict_links_to_the_serial_and_labels_it():
    world, van = van_world()
    wh = world.location("WH", region="TX-SOUTH")
    world.item("ROUTER", "serial", category="router")
    world.stock("ROUTER", wh, 1, serial="SN/1")

    world.one(IssueParts(van, (line("ROUTER", 1, "SN/1"),), ORIGIN, job_id="J1"))

    conflict = next(a for a in published(world) if a.kind == "serial_conflict")
    assert conflict.labels == {
        "serial": "SN/1",
        "job_id": "J1",
        "reason": "serial_not_at_location",
    }
    assert conflict.link == f"{BASE}/api/v1/serials/SN%2F1"
    assert (conflict.location, conflict.region) == (van, "TX-NORTH")


def test_a_transfer_discrepancy_names_shipped_received_and_missing():
    world, van = van_world()
    wh = world.location("WH")
    world.stock("ONT", wh, 10)
    world.one(ShipTransfer("T1", "ONT", wh, van, q(6), ORIGIN))

    world.one(ReceiveTransfer("T1", q(4), ORIGIN))

    [alert] = [a for a in published(world) if a.kind == "transfer_discrepancy"]
    assert alert.figures == {"shipped": 6, "received": 4, "missing": 2}
    assert alert.labels == {"transfer_id": "T1", "from_location": wh}
    assert alert.link == f"{BASE}/api/v1/transfers?sku=ONT&from_location=WH&to_location=VAN"


def test_an_alert_about_what_the_catalog_copy_does_not_know_has_no_region_or_category():
    world = World()

    outcome = world.one(IssueParts("NOWHERE", (line("GHOST", 1),), ORIGIN))

    assert not outcome.applied
    [alert] = published(world)
    assert (alert.location, alert.region, alert.sku, alert.category) == (
        "NOWHERE",
        None,
        "GHOST",
        None,
    )


def test_labels_and_figures_stay_within_the_contract_whatever_the_codes():
    world = World()
    code = "L" * 64
    sku = world.item("S" * 64, "serial")
    world.location(code)
    serial = "N" * 128
    world.stock(sku, "ELSE", 1, serial=serial)

    world.one(IssueParts(code, (line(sku, 1, serial),), ORIGIN, job_id="J" * 64))

    for alert in published(world):
        assert all(len(value) <= 256 for value in alert.labels.values())
        assert alert.link is not None and len(alert.link) <= 2048


# -- stockout -----------------------------------------------------------------------------


def test_a_receipt_after_a_stockout_resolves_it_with_the_same_dedup_key():
    world, van = van_world()
    world.stock("ONT", van, 1)
    issue(world, van, "ONT", 1)

    receive(world, van, "ONT", 4)

    raised, resolved = published(world)
    assert isinstance(resolved, StockAlertResolved)
    assert (resolved.kind, resolved.dedup_key) == ("stockout", raised.dedup_key)
    assert resolved.dedup_key == "stockout:ONT@VAN"
    assert (resolved.sku, resolved.location) == (raised.sku, raised.location)
    assert resolved.figures == {"available": 4, "was_available": 0}
    assert (resolved.region, resolved.category) == ("TX-NORTH", "ont")
    assert resolved.link == raised.link


def test_stock_that_stays_at_zero_resolves_nothing():
    world, van = van_world()
    world.stock("ONT", van, 1)
    issue(world, van, "ONT", 1)
    wh = world.location("WH")
    world.stock("ONT", wh, 5)

    world.one(ShipTransfer("T1", "ONT", wh, van, q(2), ORIGIN))

    assert world.level("ONT", van).available == 0
    assert world.resolutions() == []


def test_stock_that_goes_from_three_to_five_resolves_nothing():
    world, van = van_world()
    world.stock("ONT", van, 3)

    receive(world, van, "ONT", 2)

    assert world.level("ONT", van).available == 5
    assert world.resolutions() == []


def test_the_first_receipt_at_a_pair_never_stocked_resolves_nothing():
    world, van = van_world()

    receive(world, van, "ONT", 2)

    assert world.resolutions() == []


def test_a_stockout_raised_and_refilled_in_one_batch_is_resolved():
    world, van = van_world()

    receive(world, van, "ONT", 1)
    issue(world, van, "ONT", 1)
    receive(world, van, "ONT", 1)

    assert [(e.kind, type(e).__name__) for e in published(world)] == [
        ("stockout", "StockAlertRaised"),
        ("stockout", "StockAlertResolved"),
    ]


def test_releasing_the_reservation_that_took_available_to_zero_resolves_the_stockout():
    world, van = van_world()
    world.stock("ONT", van, 2)
    world.one(Reserve("R1", "J1", "ONT", van, q(2), ORIGIN))

    world.one(ReleaseReservation("R1", ORIGIN))

    assert [(r.dedup_key, r.figures["available"]) for r in world.resolutions()] == [
        ("stockout:ONT@VAN", 2)
    ]


def test_negative_stock_back_above_zero_resolves_and_back_to_zero_does_not():
    world = World(Policy(allow_negative_kinds=frozenset({"technician_van"})))
    van = world.location("VAN", "technician_van")
    world.item("ONT")
    world.stock("ONT", van, 1)
    issue(world, van, "ONT", 3)

    receive(world, van, "ONT", 2)
    assert world.resolutions() == []
    receive(world, van, "ONT", 1)

    [resolved] = world.resolutions()
    assert resolved.figures == {"available": 1, "was_available": 0}


def test_a_rejected_receipt_resolves_nothing():
    world, van = van_world()
    world.item("ROUTER", "serial")
    world.stock("ROUTER", van, 1, serial="S1")
    issue(world, van, "ROUTER", 1, "S1")
    world.stock("ROUTER", "WH", 1, serial="S2")

    outcome = world.one(ReceiveGoods(van, (ReceiptLine("ROUTER", q(1), None, ("S2",)),), ORIGIN))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "serial_already_in_stock"
    assert world.resolutions() == []


# -- count variance -----------------------------------------------------------------------


def test_closing_a_count_raises_a_variance_alert_that_stays_open_for_people_to_see():
    """The close books the adjustment and raises the alert together; resolving it in the
    same command would withdraw it from the notifier's group before anyone heard of it."""
    world = World(Policy(count_variance_threshold=q("0.1")))
    wh = world.location("WH", region="R1")
    world.item("A", "lot", category="cable")
    world.stock("A", wh, 10, lot="L1")
    world.one(OpenCount("C1", wh, ORIGIN))
    world.run(RecordCount("C1", "A", q(7), ORIGIN, lot="L1"))

    outcome = world.one(CloseCount("C1", ORIGIN))

    [raised] = outcome.alerts
    assert raised.dedup_key == "count_variance:C1:A:L1:"
    assert raised.figures == {"expected": 10, "counted": 7, "variance": -3}
    assert outcome.resolutions == []
    assert [(m.sku, m.reason_code, m.quantity) for m in outcome.movements] == [
        ("A", "count_loss", 3)
    ]


def test_a_variance_within_the_threshold_raises_and_resolves_nothing():
    world = World(Policy(count_variance_threshold=q("0.1")))
    wh = world.location("WH")
    world.item("B")
    world.stock("B", wh, 20)
    world.one(OpenCount("C1", wh, ORIGIN))
    world.one(RecordCount("C1", "B", q(19), ORIGIN))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert [m.quantity for m in outcome.movements] == [1]
    assert outcome.alerts == [] and outcome.resolutions == []


# -- serial conflict ----------------------------------------------------------------------


def serial_world() -> tuple[World, str, str]:
    world = World()
    wh = world.location("WH", region="R-WH")
    van = world.location("VAN", "technician_van", region="R-VAN")
    world.item("ROUTER", "serial", category="router")
    world.stock("ROUTER", wh, 1, serial="S1")
    return world, wh, van


def test_a_serial_conflict_is_resolved_where_it_was_raised_once_the_serial_moves():
    world, wh, van = serial_world()
    world.one(InstallPart(van, "CUST-1", line("ROUTER", 1, "S1"), ORIGIN, job_id="J1"))
    assert world.state.serials["S1"].conflict == Pair("ROUTER", van)

    world.one(ShipTransfer("T1", "ROUTER", wh, van, q(1), ORIGIN, serials=("S1",)))

    [raised] = [a for a in world.alerts() if a.kind == "serial_conflict"]
    [resolved] = world.resolutions()
    assert (resolved.kind, resolved.dedup_key) == ("serial_conflict", "serial_conflict:S1")
    assert (resolved.sku, resolved.location) == (raised.sku, raised.location) == ("ROUTER", van)
    assert resolved.labels == {"serial": "S1", "state": "in_transit"}
    assert world.state.serials["S1"].conflict is None
    assert "S1" in world.book.dirty_serials


def test_an_adjustment_that_writes_the_serial_off_resolves_its_conflict():
    world, wh, van = serial_world()
    world.one(ReceiveGoods(van, (ReceiptLine("ROUTER", q(1), None, ("S1",)),), ORIGIN))

    world.one(Adjust("ROUTER", wh, q(-1), AdjustmentReason.CORRECTION, ORIGIN, serial="S1"))

    [resolved] = world.resolutions()
    assert resolved.dedup_key == "serial_conflict:S1"
    assert resolved.location == van
    assert world.state.serials["S1"].state == SerialState.WRITTEN_OFF


def test_a_serial_moved_without_any_conflict_resolves_nothing():
    world, wh, _ = serial_world()

    issue(world, wh, "ROUTER", 1, "S1")
    world.one(ReturnPart(wh, line("ROUTER", 1, "S1"), ReturnCondition.GOOD, ORIGIN, "J1"))

    assert [r.kind for r in world.resolutions() if r.kind == "serial_conflict"] == []


def test_a_conflict_raised_again_stays_open_and_is_resolved_where_it_was_last_raised():
    world, wh, van = serial_world()
    pop = world.location("POP")
    world.one(InstallPart(van, "CUST-1", line("ROUTER", 1, "S1"), ORIGIN, job_id="J1"))
    world.one(IssueParts(pop, (line("ROUTER", 1, "S1"),), ORIGIN, job_id="J2"))
    assert world.resolutions() == []

    issue(world, wh, "ROUTER", 1, "S1")

    [resolved] = world.resolutions()
    assert resolved.location == pop


def test_a_serial_counted_where_the_books_do_not_hold_it_is_remembered_in_conflict():
    world, wh, van = serial_world()
    world.one(OpenCount("C1", van, ORIGIN))
    world.one(RecordCount("C1", "ROUTER", q(1), ORIGIN, serial="S1"))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert outcome.applied and outcome.resolutions == []
    assert world.state.serials["S1"].conflict == Pair("ROUTER", van)
    record = world.state.serials["S1"]
    assert (record.location, record.state) == (wh, SerialState.IN_STOCK)

    issue(world, wh, "ROUTER", 1, "S1")
    assert [r.location for r in world.resolutions()] == [van]


def test_every_resolution_fits_the_contract():
    world, wh, van = serial_world()
    world.one(InstallPart(van, "CUST-1", line("ROUTER", 1, "S1"), ORIGIN, job_id="J1"))
    issue(world, wh, "ROUTER", 1, "S1")

    payloads = [p for p in published(world) if isinstance(p, StockAlertResolved)]

    assert [p.link for p in payloads] == [f"{BASE}/api/v1/serials/S1"]
    assert all(isinstance(v, Decimal) for p in payloads for v in p.figures.values())
