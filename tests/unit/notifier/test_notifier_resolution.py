"""Resolved follow-ups go only where an alert was told, threaded to it; and critical alerts
are never held back by groups, digests, quiet hours or rate limits."""

import uuid
from datetime import UTC, datetime, time, timedelta

from notifier_world import World, alert, critical, keys, match, rule

from stockwire.notifier.domain.dispatcher import Configuration
from stockwire.notifier.domain.quiet_hours import QuietHours
from stockwire.notifier.domain.rate_limits import RateLimit
from stockwire.notifier.domain.rules import Digest, Timing
from stockwire.notifier.domain.silences import Silence

S = timedelta(seconds=1)
TWO_CHANNELS = rule("ops", channels=("chat", "email"), recipients=("ops@example.net",))


def test_a_told_alert_gets_a_resolved_follow_up_on_each_channel_threaded_to_it() -> None:
    w = World(rules=(TWO_CHANNELS,))
    a = alert("a")
    w.raise_(a)
    w.advance(30 * S)
    follow_ups = w.resolve(a)
    assert sorted((m.channel, m.purpose, m.thread_key) for m in follow_ups) == [
        ("chat", "resolved", "a"),
        ("email", "resolved", "a"),
    ]
    assert all(m.recipients == ("ops@example.net",) for m in follow_ups)
    assert follow_ups[0].resolutions[0].dedup_key == "a"


def test_an_alert_resolved_before_its_group_was_told_gets_no_follow_up_and_no_message() -> None:
    w = World(rules=(TWO_CHANNELS,))
    a = alert("a")
    w.raise_(a)
    w.advance(10 * S)
    assert w.resolve(a) == []
    assert w.advance(10 * 60 * S, step=10 * S) == []


def test_an_alert_resolved_while_its_group_waits_leaves_the_group_without_it() -> None:
    w = World(rules=(TWO_CHANNELS,))
    a, b = alert("a"), alert("b")
    w.raise_(a, b)
    w.resolve(a)
    messages = w.advance(30 * S)
    assert [keys(m) for m in messages] == [{"b"}, {"b"}]


def test_a_silenced_alert_that_resolves_gets_no_follow_up() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    hush = Silence(uuid.uuid4(), (match("kind", "stockout"),), now, now + 3600 * S, "ana")
    w = World(rules=(TWO_CHANNELS,), silences=(hush,))
    a = alert("a")
    w.raise_(a)
    assert w.resolve(a) == []


def test_a_second_resolution_is_reported_and_changes_nothing() -> None:
    w = World(rules=(TWO_CHANNELS,))
    a = alert("a")
    w.raise_(a)
    w.advance(30 * S)
    w.resolve(a)
    assert w.resolve(a) == []
    assert w.suppressed[-1].reason == "already_resolved"


def test_a_critical_alert_is_never_held_by_groups_digests_quiet_hours_or_rate_limits() -> None:
    # Given a rule with a long group_wait, a tiny digest, all-day quiet hours, and a channel
    # whose rate limit is already used up by warnings
    strict = rule(
        "strict",
        group_by=("location",),
        timing=Timing(group_wait=timedelta(hours=1)),
        digest=Digest(1, timedelta(hours=1)),
        quiet_hours=QuietHours(time(0), time(23, 59), "UTC"),
    )
    w = World(Configuration(rules=(strict,), rate_limits={"chat": RateLimit(1, 3600 * S)}))
    w.raise_(*(alert(f"w{i}") for i in range(5)))
    w.raise_(critical("c0"))  # uses the channel's one message
    # When three critical alerts arrive at the same location
    sent = w.raise_(*(critical(f"c{i}", location="X") for i in range(1, 4)))
    # Then each goes out at once, on its own
    assert [(m.purpose, keys(m)) for m in sent] == [
        ("alert", {"c1"}),
        ("alert", {"c2"}),
        ("alert", {"c3"}),
    ]
