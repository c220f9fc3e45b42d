"""Whatever the sequence of commands, the ledger's legs summed equal the balances, levels
equal the balances summed per SKU x location, reserved equals what open reservations still
hold, in transit equals what transfers still in transit shipped, and a serial is in one
place at a time."""

import contextlib
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from stock_world import ORIGIN, World, line

from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound
from stockwire.stock.domain.commands import (
    Adjust,
    CancelCount,
    CancelTransfer,
    CloseCount,
    CompleteJob,
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
from stockwire.stock.domain.model import (
    NOTHING,
    Pair,
    Policy,
    ReservationStatus,
    SerialState,
    TransferStatus,
)

LOCATIONS = ("WH", "VAN", "POP")
SKUS = ("BULK", "LOT", "SER")
SERIALS = tuple(f"S{n}" for n in range(6))
JOBS = ("J1", "J2")
LOTS = (None, "L1", "L2")

quantities = st.integers(min_value=1, max_value=6).map(Decimal)
locations = st.sampled_from(LOCATIONS)
jobs = st.sampled_from(JOBS)
conditions = st.sampled_from(list(ReturnCondition))


@st.composite
def lines(draw):
    sku = draw(st.sampled_from(SKUS))
    if sku == "SER":
        serials = draw(st.lists(st.sampled_from(SERIALS), min_size=1, max_size=2, unique=True))
        return line(sku, len(serials), *serials)
    return line(sku, draw(quantities), lot=draw(st.sampled_from(LOTS)) if sku == "LOT" else None)


@st.composite
def commands(draw):
    kind = draw(st.integers(min_value=0, max_value=14))
    where = draw(locations)
    if kind in (0, 1):
        part = draw(lines())
        return ReceiveGoods(
            where,
            (ReceiptLine(part.sku, part.quantity, part.quantity, part.serials, part.lot),),
            ORIGIN,
        )
    if kind == 2:
        return IssueParts(where, (draw(lines()),), ORIGIN, job_id=draw(jobs))
    if kind == 3:
        return InstallPart(where, "CUST", draw(lines()), ORIGIN, job_id=draw(jobs))
    if kind == 4:
        return ReturnPart(where, draw(lines()), draw(conditions), ORIGIN, job_id=draw(jobs))
    if kind == 5:
        part = draw(lines())
        return ShipTransfer(
            f"T{draw(st.integers(0, 9))}",
            part.sku,
            where,
            draw(locations.filter(lambda other: other != where)),
            part.quantity,
            ORIGIN,
            lot=part.lot,
            serials=part.serials,
        )
    if kind == 6:
        return ReceiveTransfer(f"T{draw(st.integers(0, 3))}", draw(quantities), ORIGIN)
    if kind == 7:
        part = draw(lines())
        sign = draw(st.sampled_from((1, -1)))
        serial = part.serials[0] if part.serials else None
        return Adjust(
            part.sku,
            where,
            sign * (1 if serial else part.quantity),
            "correction",
            ORIGIN,
            lot=part.lot,
            serial=serial,
        )
    if kind == 8:
        return Reserve(
            f"R{draw(st.integers(0, 3))}",
            draw(jobs),
            draw(st.sampled_from(SKUS)),
            where,
            draw(quantities),
            ORIGIN,
        )
    if kind == 9:
        return ReleaseReservation(f"R{draw(st.integers(0, 3))}", ORIGIN)
    if kind == 10:
        return CompleteJob(draw(jobs), ORIGIN)
    if kind == 11:
        return OpenCount(f"C{draw(st.integers(0, 2))}", where, ORIGIN)
    if kind == 13:
        return CancelTransfer(f"T{draw(st.integers(0, 3))}", ORIGIN)
    if kind == 14:
        return CancelCount(f"C{draw(st.integers(0, 2))}", ORIGIN)
    part = draw(lines())
    if draw(st.booleans()):
        return CloseCount(f"C{draw(st.integers(0, 2))}", ORIGIN)
    return RecordCount(
        f"C{draw(st.integers(0, 2))}",
        part.sku,
        Decimal(1) if part.serials else part.quantity,
        ORIGIN,
        lot=part.lot,
        serial=part.serials[0] if part.serials else None,
    )


def build_world() -> World:
    """Three locations (vans may go negative), two quarantines, and some stock received
    through the book, so that the ledger covers it like any other stock."""
    world = World(
        Policy(
            allow_negative_kinds=frozenset({"technician_van"}),
            count_variance_threshold=Decimal(0),
        )
    )
    world.location("WH")
    world.location("VAN", "technician_van", parent="WH")
    world.location("POP", "point_of_presence")
    world.location("WH-Q", "quarantine", parent="WH")
    world.location("POP-Q", "quarantine", parent="POP")
    world.item("BULK")
    world.item("LOT", "lot")
    world.item("SER", "serial")
    for where, serials in (("WH", ("S0", "S1")), ("POP", ("S2",))):
        world.one(
            ReceiveGoods(
                where,
                (
                    ReceiptLine("BULK", Decimal(10)),
                    ReceiptLine("LOT", Decimal(5), lot="L1"),
                    ReceiptLine("LOT", Decimal(5), lot="L2"),
                    ReceiptLine("SER", Decimal(len(serials)), serials=serials),
                ),
                ORIGIN,
            )
        )
    return world


def existing(cmd, world: World):
    """Point commands about transfers, reservations and counts at ones that exist (when
    any does), so sequences exercise receiving, cancelling, releasing and closing, not just
    NotFound."""
    pick = int(getattr(cmd, "transfer_id", getattr(cmd, "reservation_id", "")).lstrip("TR") or 0)
    if isinstance(cmd, ReceiveTransfer | CancelTransfer) and world.state.transfers:
        ids = sorted(world.state.transfers)
        return replace(cmd, transfer_id=ids[pick % len(ids)])
    if isinstance(cmd, ReleaseReservation) and world.state.reservations:
        ids = sorted(world.state.reservations)
        return replace(cmd, reservation_id=ids[pick % len(ids)])
    if isinstance(cmd, CloseCount | RecordCount | CancelCount):
        open_counts = sorted(c for c, count in world.state.counts.items() if count.status == "open")
        if open_counts:
            return replace(cmd, count_id=open_counts[-1])
    return cmd


@settings(max_examples=300, deadline=None)
@given(st.lists(commands(), max_size=60))
def test_ledger_levels_and_serials_stay_consistent(cmds):
    world = build_world()
    for cmd in cmds:
        with contextlib.suppress(NotFound, Conflict, Invalid):
            world.one(existing(cmd, world))

    summed: dict = defaultdict(lambda: NOTHING)
    for movement in world.movements():
        for leg in movement.legs:
            summed[leg.key] = summed[leg.key].plus(leg.delta)
    nonzero = {key: value for key, value in world.state.balances.items() if not value.is_zero()}
    assert {k: v for k, v in summed.items() if not v.is_zero()} == nonzero

    per_pair: dict = defaultdict(lambda: NOTHING)
    for key, amounts in world.state.balances.items():
        per_pair[key.pair] = per_pair[key.pair].plus(amounts)
    for pair, level in world.state.levels.items():
        assert level == per_pair[pair]

    for key, amounts in world.state.balances.items():
        if key.location != "VAN":
            assert amounts.on_hand >= 0, key
            assert amounts.in_transit_in >= 0 and amounts.in_transit_out >= 0, key
        if key.serial:
            record = world.state.serials[key.serial]
            held_here = record.state == SerialState.IN_STOCK and record.location == key.location
            assert amounts.on_hand == (1 if held_here else 0), (key, record)

    reserved: dict = defaultdict(Decimal)
    for reservation in world.state.reservations.values():
        if reservation.status == ReservationStatus.OPEN:
            reserved[reservation.pair] += reservation.remaining
    for pair, level in world.state.levels.items():
        assert level.reserved == reserved[pair], pair
    for part in world.state.job_parts.values():
        assert part.quantity >= 0

    leaving: dict = defaultdict(Decimal)
    arriving: dict = defaultdict(Decimal)
    for transfer in world.state.transfers.values():
        if transfer.status == TransferStatus.IN_TRANSIT:
            leaving[Pair(transfer.sku, transfer.from_location)] += transfer.quantity_shipped
            arriving[Pair(transfer.sku, transfer.to_location)] += transfer.quantity_shipped
    for pair, level in world.state.levels.items():
        assert (level.in_transit_out, level.in_transit_in) == (leaving[pair], arriving[pair]), pair
