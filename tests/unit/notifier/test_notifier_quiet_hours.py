"""Quiet hours: non-critical messages of a rule wait for the end of its local quiet period;
windows cross midnight and survive clock changes; critical alerts are never held."""

from datetime import UTC, datetime, time, timedelta

from notifier_world import World, alert, critical, keys, rule

from stockwire.notifier.domain.quiet_hours import QuietHours

S = timedelta(seconds=1)
NIGHT_UTC = QuietHours(time(22), time(6), "UTC")
NIGHT_BERLIN = QuietHours(time(22), time(2, 30), "Europe/Berlin")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_group_due_at_night_waits_for_the_morning_across_midnight() -> None:
    # Given a rule quiet from 22:00 to 06:00 UTC and alerts at 23:00 and 02:00
    w = World(rules=(rule("night", quiet_hours=NIGHT_UTC),))
    w.now = utc(2026, 3, 2, 23, 0)
    w.raise_(alert("a", at=w.now))
    assert w.advance(timedelta(hours=3), step=60 * S) == []
    w.raise_(alert("b", at=w.now))
    # Then nothing goes out before 06:00
    assert w.advance(timedelta(hours=4) - 60 * S, step=60 * S) == []
    # And at 06:00 one group message carries both
    [message] = w.advance(60 * S, step=60 * S)
    assert w.now == utc(2026, 3, 3, 6, 0)
    assert keys(message) == {"a", "b"}


def test_critical_alerts_go_out_during_quiet_hours() -> None:
    w = World(rules=(rule("night", quiet_hours=NIGHT_UTC),))
    w.now = utc(2026, 3, 2, 23, 0)
    [message] = w.raise_(critical("c", at=w.now))
    assert keys(message) == {"c"}


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(time(12), time(13), "UTC")
    assert lunch.covers(utc(2026, 3, 2, 12, 30))
    assert not lunch.covers(utc(2026, 3, 2, 13, 0))
    assert not lunch.covers(utc(2026, 3, 2, 11, 59))
    assert lunch.period_end(utc(2026, 3, 2, 12, 0)) == utc(2026, 3, 2, 13, 0)


def test_quiet_hours_follow_the_local_zone_in_winter_and_summer() -> None:
    # 22:00-06:00 in Berlin is 21:00-05:00 UTC in winter, 20:00-04:00 UTC in summer
    night = QuietHours(time(22), time(6), "Europe/Berlin")
    assert night.period_end(utc(2026, 1, 15, 21, 30)) == utc(2026, 1, 16, 5, 0)
    assert not night.covers(utc(2026, 1, 15, 20, 30))
    assert night.period_end(utc(2026, 7, 15, 20, 30)) == utc(2026, 7, 16, 4, 0)
    assert not night.covers(utc(2026, 7, 16, 4, 0))


def test_an_end_time_skipped_by_spring_forward_ends_the_period_when_clocks_jump() -> None:
    # On 29 March 2026 Berlin jumps from 02:00 CET to 03:00 CEST (01:00 UTC): 02:30 never
    # happens, so the night that began at 22:00 CET (21:00 UTC) ends at 01:00 UTC
    assert NIGHT_BERLIN.period_end(utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 1, 0)
    assert NIGHT_BERLIN.covers(utc(2026, 3, 29, 0, 59))
    assert not NIGHT_BERLIN.covers(utc(2026, 3, 29, 1, 0))


def test_an_end_time_repeated_by_fall_back_ends_the_period_at_its_first_occurrence() -> None:
    # On 25 October 2026 Berlin goes from 03:00 CEST back to 02:00 CET: 02:30 happens at
    # 00:30 UTC and again at 01:30 UTC. The night ends at the first; the repeated hour
    # does not reopen it.
    assert NIGHT_BERLIN.period_end(utc(2026, 10, 24, 22, 0)) == utc(2026, 10, 25, 0, 30)
    assert not NIGHT_BERLIN.covers(utc(2026, 10, 25, 0, 30))
    assert not NIGHT_BERLIN.covers(utc(2026, 10, 25, 1, 10))  # 02:10 CET, the second time


def test_a_group_held_over_a_dst_night_goes_when_the_clocks_jump() -> None:
    w = World(rules=(rule("night", quiet_hours=NIGHT_BERLIN),))
    w.now = utc(2026, 3, 28, 23, 0)
    w.raise_(alert("a", at=w.now))
    assert w.advance(timedelta(hours=2) - 60 * S, step=60 * S) == []
    [message] = w.advance(60 * S, step=60 * S)
    assert w.now == utc(2026, 3, 29, 1, 0)
    assert keys(message) == {"a"}


def test_a_start_time_skipped_by_spring_forward_starts_the_period_when_clocks_jump() -> None:
    # Quiet from 02:30 to 05:00 Berlin: on the spring-forward day it starts at 03:00 CEST
    early = QuietHours(time(2, 30), time(5), "Europe/Berlin")
    assert not early.covers(utc(2026, 3, 29, 0, 59))
    assert early.covers(utc(2026, 3, 29, 1, 0))
    assert early.period_end(utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 3, 0)


def test_dry_run_says_an_alert_would_wait_for_quiet_hours() -> None:
    w = World(rules=(rule("night", quiet_hours=NIGHT_UTC),))
    w.now = utc(2026, 3, 2, 23, 0)
    [decision] = w.dry_run(alert(at=w.now)).decisions
    assert (decision.action, decision.due_at) == ("quiet_hours", utc(2026, 3, 3, 6, 0))
