"""Flapping: an alert that keeps firing and resolving is held, raises and resolutions both,
until it has stayed put for the flap window; then the people hear where it settled."""

from datetime import timedelta

from notifier_world import World, alert, critical, keys, rule

from stockwire.notifier.domain.flapping import FlapPolicy

S = timedelta(seconds=1)
FLAP = FlapPolicy(window=timedelta(minutes=10), max_changes=3)
INSTANT = rule("instant", timing=type(rule().timing)(group_wait=0 * S))


def flappy() -> World:
    return World(rules=(INSTANT,), flap=FLAP)


def test_an_alert_that_flaps_is_held_after_too_many_changes() -> None:
    w = flappy()
    a = alert("a")
    w.raise_(a)
    w.tick()  # told
    w.resolve(a)  # change 1, resolved told
    w.raise_(a)  # change 2
    w.tick()  # told again
    w.resolve(a)  # change 3
    told_before = len(w.sent)
    # When it fires once more (change 4: more than 3 within 10 min)
    w.raise_(a)
    # Then nothing more goes out, and flapping is reported
    assert w.advance(60 * S) == []
    assert len(w.sent) == told_before
    assert w.suppressed[-1].reason == "flapping"


def test_a_flapping_alert_that_settles_firing_is_told_once_it_stayed_put_for_the_window() -> None:
    w = flappy()
    a = alert("a")
    for _ in range(2):
        w.raise_(a)
        w.resolve(a)
    # raise, resolve, raise, resolve: 3 changes; the next raise flaps
    w.raise_(a)
    assert w.state.alerts["a"].held == "flapping"
    # Nothing for the ten minutes it stays put, then it is told as firing
    assert w.advance(FLAP.window - S) == []
    messages = w.advance(2 * S)
    assert [(m.purpose, keys(m)) for m in messages] == [("alert", {"a"})]


def test_a_flapping_alert_that_settles_resolved_after_being_told_firing_gets_its_follow_up() -> (
    None
):
    # Given a policy flapping beyond 2 changes, and an alert told firing twice
    w = World(rules=(INSTANT,), flap=FlapPolicy(timedelta(minutes=10), max_changes=2))
    a = alert("a")
    w.raise_(a)
    w.tick()
    w.resolve(a)  # change 1: resolved told
    w.raise_(a)  # change 2
    w.tick()  # told firing
    # When it resolves a third time: flapping, so the follow-up is held
    assert w.resolve(a) == []
    assert w.advance(FLAP.window - S) == []
    # Then once it stayed resolved for the window, the follow-up goes out
    assert [m.purpose for m in w.advance(2 * S)] == ["resolved"]


def test_a_flapping_alert_that_settles_resolved_when_people_last_heard_resolved_stays_quiet() -> (
    None
):
    w = flappy()
    a = alert("a")
    w.raise_(a)
    w.tick()
    w.resolve(a)
    w.raise_(a)
    w.tick()
    w.resolve(a)  # 3 changes: the follow-up still goes out
    w.raise_(a)  # 4: flapping, held
    assert w.resolve(a) == []
    assert w.advance(FLAP.window + S) == []


def test_a_flapping_alert_settling_firing_after_being_told_is_not_told_twice() -> None:
    w = flappy()
    a = alert("a")
    w.raise_(a)
    w.tick()
    w.resolve(a)
    w.raise_(a)
    w.tick()
    w.resolve(a)  # 3 changes; the resolution still goes out
    w.raise_(a)  # 4: held
    w.resolve(a)  # 5: held
    w.raise_(a)  # 6: held, firing again: people last heard "resolved"
    messages = w.advance(FLAP.window + S)
    assert [(m.purpose, keys(m)) for m in messages] == [("alert", {"a"})]


def test_flapping_holds_critical_alerts_as_well_after_their_first_notifications() -> None:
    w = World(rules=(INSTANT,), flap=FLAP)
    c = critical("c")
    assert len(w.raise_(c)) == 1
    w.resolve(c)
    w.raise_(c)
    w.resolve(c)
    assert w.raise_(c) == []
    assert w.state.alerts["c"].held == "flapping"


def test_changes_spread_wider_than_the_window_are_not_flapping() -> None:
    w = flappy()
    a = alert("a")
    for _ in range(4):
        w.raise_(a)
        w.advance(6 * 60 * S, step=60 * S)
        w.resolve(a)
        w.advance(6 * 60 * S, step=60 * S)
    assert not any(s.reason == "flapping" for s in w.suppressed)
    assert [m.purpose for m in w.sent].count("alert") == 4
