"""Reservations for scheduled jobs: reserve within available, release, fulfil on issue."""

import pytest
from stock_world import ORIGIN, World, line, q

from stockwire.runtime.domain_errors import Conflict, NotFound
from stockwire.stock.domain.commands import (
    CompleteJob,
    IssueParts,
    ReleaseReservation,
    Reserve,
)
from stockwire.stock.domain.model import Policy, ReservationStatus


def test_reserving_lowers_available_not_on_hand():
    world = World()
    wh = world.location("WH")
    world.item("ONT")
    world.stock("ONT", wh, 5)

    outcome = world.one(Reserve("R1", "J", "ONT", wh, q(3), ORIGIN))

    assert outcome.movements[0].kind == "reserve"
    assert world.level("ONT", wh).on_hand == 5
    assert world.level("ONT", wh).reserved == 3
    assert world.level("ONT", wh).available == 2


def test_reserving_more_than_available_is_rejected():
    world = World()
    wh = world.location("WH")
    world.item("ONT")
    world.stock("ONT", wh, 5)
    world.one(Reserve("R1", "J1", "ONT", wh, q(4), ORIGIN))

    outcome = world.one(Reserve("R2", "J2", "ONT", wh, q(2), ORIGIN))

    assert outcome.rejection is not None and outcome.rejection.reason == "negative_stock"
    assert world.level("ONT", wh).reserved == 4


def test_reserving_beyond_available_is_allowed_with_an_alert_where_negative_is_allowed():
    world = World(Policy(allow_negative_kinds=frozenset({"warehouse"})))
    wh = world.location("WH")
    world.item("ONT")

    outcome = world.one(Reserve("R1", "J1", "ONT", wh, q(2), ORIGIN))

    assert outcome.applied
    assert "negative_stock_allowed" in world.alert_kinds()


def test_releasing_gives_the_remainder_back_to_available():
    world = World()
    wh = world.location("WH")
    world.item("ONT")
    world.stock("ONT", wh, 5)
    world.one(Reserve("R1", "J", "ONT", wh, q(3), ORIGIN))

    world.one(ReleaseReservation("R1", ORIGIN))

    assert world.level("ONT", wh).reserved == 0
    assert world.state.reservations["R1"].status == ReservationStatus.RELEASED
    with pytest.raises(Conflict):
        world.one(ReleaseReservation("R1", ORIGIN))
    with pytest.raises(NotFound):
        world.one(ReleaseReservation("R-NONE", ORIGIN))


def test_issue_to_the_job_fulfils_its_reservation_at_that_location():
    world = World()
    wh = world.location("WH")
    world.item("ONT")
    world.stock("ONT", wh, 5)
    world.one(Reserve("R1", "J", "ONT", wh, q(3), ORIGIN))

    outcome = world.one(IssueParts(wh, (line("ONT", 2),), ORIGIN, job_id="J"))

    [movement] = outcome.movements
    assert {leg.delta.reserved for leg in movement.legs} == {q(-2)}
    assert world.level("ONT", wh).on_hand == 3
    assert world.level("ONT", wh).reserved == 1
    reservation = world.state.reservations["R1"]
    assert (reservation.fulfilled, reservation.status) == (2, ReservationStatus.OPEN)

    world.one(IssueParts(wh, (line("ONT", 2),), ORIGIN, job_id="J"))

    assert world.state.reservations["R1"].status == ReservationStatus.FULFILLED
    assert world.level("ONT", wh).reserved == 0
    assert world.level("ONT", wh).on_hand == 1


def test_issue_to_another_job_leaves_the_reservation_alone():
    world = World()
    wh = world.location("WH")
    world.item("ONT")
    world.stock("ONT", wh, 5)
    world.one(Reserve("R1", "J1", "ONT", wh, q(3), ORIGIN))

    world.one(IssueParts(wh, (line("ONT", 1),), ORIGIN, job_id="J2"))

    assert world.level("ONT", wh).reserved == 3


def test_completing_a_job_releases_what_is_still_reserved_for_it():
    world = World()
    wh = world.location("WH")
    world.item("ONT")
    world.stock("ONT", wh, 5)
    world.run(
        Reserve("R1", "J", "ONT", wh, q(3), ORIGIN), Reserve("R2", "K", "ONT", wh, q(1), ORIGIN)
    )

    outcome = world.one(CompleteJob("J", ORIGIN))

    assert [(m.kind, m.reason_code) for m in outcome.movements] == [("release", "job_completed")]
    assert world.level("ONT", wh).reserved == 1
