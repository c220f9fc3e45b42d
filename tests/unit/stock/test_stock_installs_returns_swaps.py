"""Installs at customer sites, returns with a condition, quarantine, device swaps, spools."""

from stock_world import ORIGIN, World, line, q

from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.stock.domain.commands import InstallPart, IssueParts, ReturnPart, SwapDevice
from stockwire.stock.domain.model import JobPartKey, SerialState


def site_world() -> tuple[World, str, str]:
    world = World()
    world.location("REGION")
    wh = world.location("WH", parent="REGION")
    van = world.location("VAN", "technician_van", parent="WH")
    world.location("WH-Q", "quarantine", parent="WH")
    return world, wh, van


def test_install_of_a_part_issued_to_the_job_consumes_the_jobs_custody():
    world, _, van = site_world()
    world.item("SFP")
    world.stock("SFP", van, 5)
    world.one(IssueParts(van, (line("SFP", 2),), ORIGIN, job_id="J"))

    outcome = world.one(InstallPart(van, "CUST-9", line("SFP", 2), ORIGIN, job_id="J"))

    [movement] = outcome.movements
    assert (movement.kind, movement.reason_code, movement.legs) == (
        "install",
        "install_from_job",
        (),
    )
    assert (movement.location, movement.from_location, movement.to_location) == (
        "CUST-9",
        van,
        "CUST-9",
    )
    assert world.on_hand("SFP", van) == 3
    assert world.state.job_parts[JobPartKey("J", "SFP", "", "")].quantity == 0


def test_install_of_a_part_never_issued_backflushes_from_the_from_location():
    world, _, van = site_world()
    world.item("SFP")
    world.stock("SFP", van, 5)

    outcome = world.one(InstallPart(van, "CUST-9", line("SFP", 2), ORIGIN, job_id="J"))

    assert [m.reason_code for m in outcome.movements] == ["install_backflush"]
    assert world.on_hand("SFP", van) == 3


def test_install_beyond_the_jobs_custody_takes_the_rest_from_the_van():
    world, _, van = site_world()
    world.item("SFP")
    world.stock("SFP", van, 5)
    world.one(IssueParts(van, (line("SFP", 1),), ORIGIN, job_id="J"))

    outcome = world.one(InstallPart(van, "CUST-9", line("SFP", 3), ORIGIN, job_id="J"))

    assert [(m.reason_code, m.quantity) for m in outcome.movements] == [
        ("install_from_job", q(1)),
        ("install_backflush", q(2)),
    ]
    assert world.on_hand("SFP", van) == 2


def test_installed_serial_is_at_the_customer_site_and_out_of_inventory():
    world, _, van = site_world()
    world.item("ONT", "serial")
    world.stock("ONT", van, 1, serial="S1")
    world.one(IssueParts(van, (line("ONT", 1, "S1"),), ORIGIN, job_id="J"))
    assert world.state.serials["S1"].state == SerialState.ISSUED

    world.one(InstallPart(van, "CUST-9", line("ONT", 1, "S1"), ORIGIN, job_id="J"))

    record = world.state.serials["S1"]
    assert (record.location, record.state) == ("CUST-9", SerialState.INSTALLED)
    assert world.level("ONT", van).on_hand == 0


def test_partial_spool_consumption_leaves_the_rest_on_the_spools_lot():
    world, _, van = site_world()
    world.item("FIBER-12F", "length")
    world.stock("FIBER-12F", van, 500, lot="SPOOL-1")
    world.stock("FIBER-12F", van, 300, lot="SPOOL-2")

    outcome = world.one(
        InstallPart(van, "CUST-9", line("FIBER-12F", "42.5", lot="SPOOL-2"), ORIGIN, job_id="J")
    )

    assert [(m.lot, m.quantity) for m in outcome.movements] == [("SPOOL-2", q("42.5"))]
    assert world.on_hand("FIBER-12F", van, lot="SPOOL-2") == q("257.5")
    assert world.on_hand("FIBER-12F", van, lot="SPOOL-1") == 500


def test_good_return_goes_back_to_the_to_location():
    world, wh, _ = site_world()
    world.item("SFP")

    outcome = world.one(ReturnPart(wh, line("SFP", 2), ReturnCondition.GOOD, ORIGIN))

    [movement] = outcome.movements
    assert (movement.kind, movement.reason_code, movement.location) == (
        "return",
        "return_good",
        wh,
    )
    assert world.on_hand("SFP", wh) == 2


def test_faulty_return_goes_to_the_nearest_quarantine_among_the_ancestors_children():
    world, _, van = site_world()
    world.item("SFP")

    outcome = world.one(ReturnPart(van, line("SFP", 1), ReturnCondition.FAULTY, ORIGIN))

    assert outcome.movements[0].location == "WH-Q"
    assert outcome.movements[0].condition == "faulty"
    assert world.on_hand("SFP", "WH-Q") == 1
    assert world.on_hand("SFP", van) == 0


def test_a_quarantine_among_the_locations_own_children_is_nearer():
    world, wh, _ = site_world()
    world.location("AAA-Q-REGION", "quarantine", parent="REGION")
    world.item("SFP")

    outcome = world.one(ReturnPart(wh, line("SFP", 1), ReturnCondition.UNKNOWN, ORIGIN))

    assert outcome.movements[0].location == "WH-Q"


def test_return_of_unknown_condition_without_any_quarantine_is_rejected():
    world = World()
    wh = world.location("WH")
    world.item("SFP")

    outcome = world.one(ReturnPart(wh, line("SFP", 1), ReturnCondition.UNKNOWN, ORIGIN))

    assert outcome.rejection is not None
    assert outcome.rejection.reason == "no_quarantine"
    assert "no active quarantine location" in outcome.rejection.message


def test_return_from_a_job_clears_its_custody():
    world, _, van = site_world()
    world.item("SFP")
    world.stock("SFP", van, 5)
    world.one(IssueParts(van, (line("SFP", 3),), ORIGIN, job_id="J"))

    world.one(ReturnPart(van, line("SFP", 2), ReturnCondition.GOOD, ORIGIN, job_id="J"))

    assert world.state.job_parts[JobPartKey("J", "SFP", "", "")].quantity == 1
    assert world.on_hand("SFP", van) == 4


def test_device_swap_installs_the_new_device_and_quarantines_the_removed_one():
    world, _, van = site_world()
    world.item("ONT", "serial")
    world.stock("ONT", van, 1, serial="NEW-1")

    outcome = world.one(
        SwapDevice(
            "CUST-9",
            van,
            installed=line("ONT", 1, "NEW-1"),
            removed=line("ONT", 1, "OLD-1"),
            removed_condition=ReturnCondition.FAULTY,
            origin=ORIGIN,
            job_id="J",
        )
    )

    assert [(m.kind, m.serial, m.location) for m in outcome.movements] == [
        ("install", "NEW-1", van),
        ("return", "OLD-1", "WH-Q"),
    ]
    assert outcome.movements[1].reason_code == "swap_removed"
    assert world.state.serials["NEW-1"].state == SerialState.INSTALLED
    old = world.state.serials["OLD-1"]
    assert (old.location, old.state) == ("WH-Q", SerialState.IN_STOCK)


def test_device_swap_is_all_or_nothing():
    world = World()
    van = world.location("VAN", "technician_van")
    world.item("ONT", "serial")
    world.stock("ONT", van, 1, serial="NEW-1")

    outcome = world.one(
        SwapDevice(
            "CUST-9",
            van,
            installed=line("ONT", 1, "NEW-1"),
            removed=line("ONT", 1, "OLD-1"),
            removed_condition=ReturnCondition.FAULTY,
            origin=ORIGIN,
            job_id="J",
        )
    )

    assert outcome.rejection is not None and outcome.rejection.reason == "no_quarantine"
    assert world.state.serials["NEW-1"].state == SerialState.IN_STOCK
    assert world.on_hand("ONT", van, serial="NEW-1") == 1


def test_swap_of_models_not_tracked_by_serial_counts_one_piece_each():
    world, _, van = site_world()
    world.item("PSU")
    world.stock("PSU", van, 2)

    outcome = world.one(
        SwapDevice(
            "CUST-9",
            van,
            installed=line("PSU", 1, "X1"),
            removed=line("PSU", 1, "X0"),
            removed_condition=ReturnCondition.GOOD,
            origin=ORIGIN,
        )
    )

    assert outcome.applied
    assert world.on_hand("PSU", van) == 2
    assert "X1" not in world.state.serials
