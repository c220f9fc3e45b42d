"""Grouping with Alertmanager's timers, and de-duplication on dedup_key."""

from datetime import timedelta

from notifier_world import FAST, World, alert, keys, rule

S = timedelta(seconds=1)
BY_LOCATION = rule("by location", group_by=("location",))


def world() -> World:
    return World(rules=(BY_LOCATION,))


def test_the_first_alert_of_a_group_waits_group_wait_then_goes_alone_as_an_alert() -> None:
    # Given a rule grouping by location with group_wait 30 s
    w = world()
    # When one alert arrives
    assert w.raise_(alert("a", location="VAN-1")) == []
    # Then nothing goes out before 30 s
    assert w.advance(29 * S) == []
    # And at 30 s one "alert" message carries it, threaded to it
    [message] = w.advance(S)
    assert (message.purpose, keys(message), message.thread_key) == ("alert", {"a"}, "a")
    assert message.rule_id == BY_LOCATION.rule_id


def test_alerts_arriving_within_group_wait_go_out_together_as_a_group() -> None:
    w = world()
    w.raise_(alert("a", location="VAN-1"))
    w.advance(10 * S)
    w.raise_(alert("b", location="VAN-1"), alert("c", location="VAN-1"))
    # The group's timer started with the first alert: due at 30 s, not 40 s
    [message] = w.advance(20 * S)
    assert message.purpose == "group"
    assert keys(message) == {"a", "b", "c"}
    assert message.thread_key == f"group:{BY_LOCATION.rule_id}:location=VAN-1"


def test_alerts_of_different_locations_form_separate_groups() -> None:
    w = world()
    w.raise_(alert("a", location="VAN-1"), alert("b", location="VAN-2"))
    messages = w.advance(30 * S)
    assert sorted(tuple(keys(m)) for m in messages) == [("a",), ("b",)]


def test_a_change_after_a_flush_waits_until_group_interval_after_it() -> None:
    # Given a group told at 30 s
    w = world()
    w.raise_(alert("a", location="VAN-1"))
    w.advance(30 * S)
    # When a new alert joins 10 s later
    w.advance(10 * S)
    w.raise_(alert("b", location="VAN-1"))
    # Then it goes out at the last flush + group_interval (5 min), carrying only the news
    assert w.advance(FAST.group_interval - 11 * S) == []
    [message] = w.advance(S)
    assert keys(message) == {"b"}
    assert w.now == w.sent[0].alerts[0].raised_at + 30 * S + FAST.group_interval


def test_a_change_long_after_the_last_flush_goes_at_once() -> None:
    w = world()
    w.raise_(alert("a", location="VAN-1"))
    w.advance(30 * S)
    w.advance(FAST.group_interval + 60 * S, step=60 * S)
    w.raise_(alert("b", location="VAN-1"))
    [message] = w.tick()
    assert keys(message) == {"b"}


def test_a_group_still_firing_is_told_again_after_repeat_interval_with_all_its_alerts() -> None:
    w = world()
    w.raise_(alert("a", location="VAN-1"), alert("b", location="VAN-1"))
    w.advance(30 * S)
    # Nothing more until the repeat interval has passed
    assert w.advance(FAST.repeat_interval - 60 * S, step=60 * S) == []
    [repeat] = w.advance(60 * S, step=60 * S)
    assert (repeat.purpose, keys(repeat)) == ("group", {"a", "b"})


def test_a_group_whose_alerts_all_resolved_is_not_repeated() -> None:
    w = world()
    first = alert("a", location="VAN-1")
    w.raise_(first)
    w.advance(30 * S)
    w.resolve(first)
    assert [m.purpose for m in w.advance(FAST.repeat_interval * 2, step=60 * S)] == []
    assert w.state.groups == {}


def test_a_duplicate_of_a_firing_alert_sends_nothing_and_counts_occurrences() -> None:
    w = world()
    w.raise_(alert("a", location="VAN-1"))
    w.advance(30 * S)
    # When the same dedup_key is raised again, with another alert id
    assert w.raise_(alert("a", location="VAN-1"), alert("a", location="VAN-1")) == []
    # Then nothing new goes out and the occurrences are counted
    assert w.advance(FAST.group_interval * 2, step=10 * S) == []
    assert w.state.alerts["a"].occurrences == 3
    assert [s.reason for s in w.suppressed] == ["duplicate", "duplicate"]


def test_a_duplicate_within_group_wait_is_told_once() -> None:
    w = world()
    w.raise_(alert("a", location="VAN-1"), alert("a", location="VAN-1"))
    [message] = w.advance(30 * S)
    assert len(message.alerts) == 1


def test_an_alert_raised_again_after_resolving_is_a_new_incident() -> None:
    w = world()
    first = alert("a", location="VAN-1")
    w.raise_(first)
    w.advance(30 * S)
    w.resolve(first)
    w.raise_(alert("a", location="VAN-1"))
    messages = w.advance(FAST.group_interval, step=10 * S)
    assert [(m.purpose, tuple(keys(m))) for m in messages] == [("alert", ("a",))]


def test_every_channel_of_the_rule_gets_the_group() -> None:
    both = rule("both", channels=("chat", "email"), recipients=("ops@example.net",))
    w = World(rules=(both,))
    w.raise_(alert("a"))
    messages = w.advance(30 * S)
    assert sorted(m.channel for m in messages) == ["chat", "email"]
    assert all(m.recipients == ("ops@example.net",) for m in messages)


def test_two_matching_rules_each_tell_their_own_channels() -> None:
    chat = rule("chat", 0, channels=("chat",))
    email = rule("email", 1, channels=("email",), timing=FAST)
    w = World(rules=(chat, email))
    w.raise_(alert("a"))
    assert sorted((m.channel, m.rule_id) for m in w.advance(30 * S)) == sorted(
        [("chat", chat.rule_id), ("email", email.rule_id)]
    )


def test_a_rule_removed_while_alerts_wait_reports_them_instead_of_losing_them_silently() -> None:
    w = world()
    w.raise_(alert("a", location="VAN-1"))
    w.config = type(w.config)(rules=())
    assert w.advance(30 * S) == []
    assert [(s.dedup_key, s.reason) for s in w.suppressed] == [("a", "rule_removed")]
