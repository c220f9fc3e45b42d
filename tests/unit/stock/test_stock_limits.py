"""Every value the book produces fits the contracts it is published under: a movement moves
at most 10^6 (a larger count variance is booked in pieces, and the ledger stays exact),
no figure of a balance or level goes beyond ±10^9 (such a command is rejected as an
invalid quantity), and an alert leaves out a figure it could not publish.

Each test also builds the outgoing payloads the unit of work would publish, so a value
beyond a contract fails here the way it failed in production (a 500, a poison batch).
"""

import contextlib
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stock_world import ORIGIN, World, line, q

from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound
from stockwire.stock.domain.commands import (
    Adjust,
    AdjustmentReason,
    CloseCount,
    Command,
    InstallPart,
    IssueParts,
    OpenCount,
    Origin,
    ReceiptLine,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    Reserve,
    ShipTransfer,
)
from stockwire.stock.domain.model import Amounts, BalanceKey, Policy
from stockwire.stock.domain.well_formed import Malformed
from stockwire.stock.unit_of_work import book_payloads

MILLION = q(1_000_000)
BILLION = q(1_000_000_000)
STEP = q("0.001")
FROM_AN_EVENT = Origin("fsm", source_event_id=uuid.uuid4())


def published(world: World) -> list[str]:
    """The event types the book's events become; building them validates each one."""
    return [payload.event_type for payload, _ in book_payloads(world.book, "https://stock.test")]


def cable_world(on_hand: Decimal) -> tuple[World, str]:
    world = World(Policy(count_variance_threshold=q("0.05")))
    wh = world.location("WH")
    world.item("CABLE", "length")
    world.stock("CABLE", wh, on_hand)
    return world, wh


# ------------------------------------------------------------------ movements of 10^6 at most


@pytest.mark.parametrize(
    ("counted", "pieces"),
    [
        (q(1_000_000), [MILLION]),
        (q("999999.999"), [MILLION, STEP]),
        (q(0), [MILLION, MILLION, q("0.5")]),
    ],
)
def test_a_count_loss_beyond_a_movement_is_booked_in_pieces_and_the_ledger_stays_exact(
    counted, pieces
):
    world, wh = cable_world(q("2000000.5") if counted == 0 else q("2000000"))
    world.one(OpenCount("C1", wh, ORIGIN))
    world.one(RecordCount("C1", "CABLE", counted, ORIGIN, replace=True))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert [(m.reason_code, m.quantity) for m in outcome.movements] == [
        ("count_loss", piece) for piece in pieces
    ]
    assert world.level("CABLE", wh).on_hand == counted
    [variance] = [a for a in outcome.alerts if a.kind == "count_variance"]
    assert variance.actual_quantity == counted
    assert "stock.level.changed" in published(world)


def test_a_count_gain_scanned_up_beyond_a_movement_is_booked_in_pieces():
    world, wh = cable_world(q(0))
    world.one(OpenCount("C1", wh, ORIGIN))
    scans = [RecordCount("C1", "CABLE", MILLION, FROM_AN_EVENT) for _ in range(2)]
    world.run(*scans, RecordCount("C1", "CABLE", STEP, FROM_AN_EVENT))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert [(m.reason_code, m.quantity) for m in outcome.movements] == [
        ("count_gain", MILLION),
        ("count_gain", MILLION),
        ("count_gain", STEP),
    ]
    assert world.level("CABLE", wh).on_hand == 2 * MILLION + STEP
    published(world)


@pytest.mark.parametrize(
    "cmd",
    [
        IssueParts("WH", (line("CABLE", MILLION + STEP),), FROM_AN_EVENT, job_id="J1"),
        InstallPart("WH", "CUST", line("CABLE", "0.0001"), FROM_AN_EVENT, job_id="J1"),
        ReceiveGoods("WH", (ReceiptLine("CABLE", MILLION + STEP),), FROM_AN_EVENT),
        RecordCount("C1", "CABLE", MILLION + STEP, FROM_AN_EVENT),
    ],
    ids=["issue", "install", "receipt", "count-scan"],
)
def test_an_event_asking_for_more_than_a_movement_or_below_a_thousandth_is_rejected(cmd: Command):
    world, _ = cable_world(q(5))
    world.one(OpenCount("C1", "WH", ORIGIN))

    outcome = world.one(cmd)

    assert outcome.rejection is not None and outcome.rejection.reason == "invalid_quantity"
    assert published(world) == ["stock.movement.rejected", "stock.alert.raised"]


@pytest.mark.parametrize(
    "cmd",
    [
        ShipTransfer("T1", "CABLE", "WH", "POP", MILLION + STEP, ORIGIN),
        Reserve("R1", "J1", "CABLE", "WH", MILLION + STEP, ORIGIN),
        ReceiveTransfer("T1", q("1.0005"), ORIGIN),
    ],
    ids=["transfer", "reservation", "transfer-receipt"],
)
def test_a_request_asking_for_more_than_a_movement_is_malformed(cmd: Command):
    world, _ = cable_world(q(5))

    with pytest.raises(Malformed):
        world.one(cmd)


def test_exactly_a_movement_is_well_formed():
    world, wh = cable_world(MILLION)

    outcome = world.one(IssueParts(wh, (line("CABLE", MILLION),), FROM_AN_EVENT, job_id="J1"))

    assert outcome.applied and world.level("CABLE", wh).on_hand == 0
    published(world)


# ------------------------------------------------------------------ levels within ±10^9


def test_a_level_may_reach_a_billion_and_not_one_step_beyond():
    world, wh = cable_world(BILLION - 1)

    reached = world.one(ReceiveGoods(wh, (ReceiptLine("CABLE", q(1)),), FROM_AN_EVENT))
    beyond = world.one(ReceiveGoods(wh, (ReceiptLine("CABLE", STEP),), FROM_AN_EVENT))

    assert reached.applied and world.level("CABLE", wh).on_hand == BILLION
    assert beyond.rejection is not None and beyond.rejection.reason == "invalid_quantity"
    assert (beyond.rejection.sku, beyond.rejection.location) == ("CABLE", wh)
    assert world.level("CABLE", wh).on_hand == BILLION
    assert published(world) == [
        "stock.movement.recorded",
        "stock.movement.rejected",
        "stock.alert.raised",
        "stock.level.changed",
    ]


def test_where_negative_stock_is_allowed_a_level_may_reach_minus_a_billion_and_no_further():
    world = World(Policy(allow_negative_kinds=frozenset({"technician_van"})))
    van = world.location("VAN", "technician_van")
    world.item("CABLE", "length")
    world.stock("CABLE", van, -BILLION + 1)

    reached = world.one(IssueParts(van, (line("CABLE", 1),), FROM_AN_EVENT, job_id="J1"))
    beyond = world.one(IssueParts(van, (line("CABLE", STEP),), FROM_AN_EVENT, job_id="J1"))

    assert reached.applied and world.level("CABLE", van).on_hand == -BILLION
    assert beyond.rejection is not None and beyond.rejection.reason == "invalid_quantity"
    assert world.level("CABLE", van).on_hand == -BILLION
    published(world)


def test_available_may_not_go_beyond_minus_a_billion_by_a_reservation():
    world = World(Policy(allow_negative_kinds=frozenset({"technician_van"})))
    van = world.location("VAN", "technician_van")
    world.item("CABLE", "length")
    world.stock("CABLE", van, -BILLION + MILLION)

    reached = world.one(Reserve("R1", "J1", "CABLE", van, MILLION, ORIGIN))
    beyond = world.one(Reserve("R2", "J1", "CABLE", van, STEP, ORIGIN))

    assert reached.applied and world.level("CABLE", van).available == -BILLION
    assert beyond.rejection is not None and beyond.rejection.reason == "invalid_quantity"
    assert world.level("CABLE", van).reserved == MILLION
    published(world)


def test_stock_in_transit_to_a_location_may_not_go_beyond_a_billion():
    world = World()
    wh, pop = world.location("WH"), world.location("POP")
    world.item("CABLE", "length")
    world.stock("CABLE", wh, 2 * MILLION)
    world.state.add_balance(
        BalanceKey("CABLE", pop, "", ""), Amounts(in_transit_in=BILLION - MILLION)
    )

    reached = world.one(ShipTransfer("T1", "CABLE", wh, pop, MILLION, ORIGIN))
    beyond = world.one(ShipTransfer("T2", "CABLE", wh, pop, STEP, ORIGIN))

    assert reached.applied and world.level("CABLE", pop).in_transit_in == BILLION
    assert beyond.rejection is not None and beyond.rejection.reason == "invalid_quantity"
    assert "T2" not in world.state.transfers
    published(world)


def test_a_count_line_scanned_up_to_a_billion_takes_no_more():
    world, wh = cable_world(q(0))
    world.one(OpenCount("C1", wh, ORIGIN))
    world.run(*(RecordCount("C1", "CABLE", MILLION, FROM_AN_EVENT) for _ in range(1000)))

    beyond = world.one(RecordCount("C1", "CABLE", STEP, FROM_AN_EVENT))

    assert beyond.rejection is not None and beyond.rejection.reason == "invalid_quantity"
    [line_counted] = [c.counted for c in world.state.count_lines.values()]
    assert line_counted == BILLION


def test_a_count_whose_gain_would_take_the_level_beyond_a_billion_is_rejected_and_stays_open():
    world, wh = cable_world(BILLION)
    world.one(OpenCount("C1", wh, ORIGIN))
    world.run(*(RecordCount("C1", "CABLE", MILLION, FROM_AN_EVENT) for _ in range(1000)))
    world.one(RecordCount("C1", "CABLE", STEP, FROM_AN_EVENT, lot="SPOOL-2"))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "invalid_quantity"
    assert world.state.counts["C1"].status == "open"
    assert world.level("CABLE", wh).on_hand == BILLION
    published(world)


# ------------------------------------------------------------------ alerts


def test_an_alert_leaves_out_a_figure_beyond_a_billion_and_states_it_in_its_summary():
    """Lots counted apart from the rest: the line without lot covers the untracked
    balance and the lots not counted on their own, which together can hold more than a
    level may (a negative lot elsewhere makes up for it)."""
    world = World(Policy(allow_negative_kinds=frozenset({"technician_van"})))
    van = world.location("VAN", "technician_van")
    world.item("CABLE", "lot")
    for lot, on_hand in (("L1", 700_000_000), ("L2", 700_000_000), ("L3", -900_000_000)):
        world.stock("CABLE", van, on_hand, lot=lot)
    world.one(OpenCount("C1", van, ORIGIN))
    world.run(*(RecordCount("C1", "CABLE", MILLION, FROM_AN_EVENT) for _ in range(1000)))
    world.one(RecordCount("C1", "CABLE", q(0), ORIGIN, lot="L3", replace=True))

    outcome = world.one(CloseCount("C1", ORIGIN))

    assert outcome.applied
    variances = {a.dedup_key: a for a in outcome.alerts if a.kind == "count_variance"}
    whole = variances["count_variance:C1:CABLE::"]
    assert (whole.expected_quantity, whole.actual_quantity) == (None, BILLION)
    assert "expected 1400000000" in whole.summary
    assert world.level("CABLE", van).on_hand == BILLION
    published(world)


# ------------------------------------------------------------------ whatever the commands


near_bounds = st.sampled_from([STEP, q(1), MILLION - STEP, MILLION, MILLION + STEP])
places = st.sampled_from(["WH", "VAN"])
origins = st.sampled_from([ORIGIN, FROM_AN_EVENT])


@st.composite
def big_commands(draw) -> Command:
    kind = draw(st.integers(min_value=0, max_value=8))
    sku = draw(st.sampled_from(["BULK", "CABLE"]))
    where, quantity, origin = draw(places), draw(near_bounds), draw(origins)
    lot = "L1" if sku == "CABLE" and draw(st.booleans()) else None
    if kind == 0:
        return ReceiveGoods(where, (ReceiptLine(sku, quantity, lot=lot),), origin)
    if kind == 1:
        return IssueParts(where, (line(sku, quantity, lot=lot),), origin, job_id="J1")
    if kind == 2:
        other = "VAN" if where == "WH" else "WH"
        return ShipTransfer(f"T{draw(st.integers(0, 2))}", sku, where, other, quantity, origin)
    if kind == 3:
        return ReceiveTransfer(f"T{draw(st.integers(0, 2))}", quantity, origin)
    if kind == 4:
        return Reserve(f"R{draw(st.integers(0, 9))}", "J1", sku, where, quantity, origin)
    if kind == 5:
        sign = draw(st.sampled_from([1, -1]))
        return Adjust(sku, where, sign * quantity, AdjustmentReason.CORRECTION, origin, lot)
    if kind == 6:
        return OpenCount(f"C-{where}", where, origin)
    if kind == 7:
        return RecordCount(f"C-{where}", sku, quantity, origin, lot=lot)
    return CloseCount(f"C-{where}", origin)


@settings(max_examples=150, deadline=None)
@given(st.lists(big_commands(), max_size=25))
def test_every_event_the_book_records_fits_its_contract_whatever_the_commands(cmds):
    world = World(Policy(allow_negative_kinds=frozenset({"technician_van"})))
    world.location("WH")
    world.location("VAN", "technician_van")
    world.item("BULK")
    world.item("CABLE", "length")
    world.stock("BULK", "WH", BILLION - 5)
    world.stock("BULK", "VAN", -BILLION + 5)
    world.stock("CABLE", "WH", BILLION - 2 * MILLION, lot="L1")
    world.stock("CABLE", "VAN", 3 * MILLION)
    for cmd in cmds:
        with contextlib.suppress(NotFound, Conflict, Invalid):
            world.one(cmd)

    published(world)
