"""Digests: a storm of one kind becomes one message per (rule, kind) per window, while
every critical alert in the storm still goes out at once, on its own."""

from datetime import timedelta

from notifier_world import World, alert, critical, keys, resolution, rule

from stockwire.notifier.domain.dispatcher import Configuration
from stockwire.notifier.domain.rate_limits import RateLimit
from stockwire.notifier.domain.rules import Digest

S = timedelta(seconds=1)
DIGESTED = rule("digested", group_by=("location",), digest=Digest(10, 60 * S))


def test_up_to_the_threshold_alerts_go_out_in_their_groups() -> None:
    w = World(rules=(DIGESTED,))
    w.raise_(*(alert(f"a{i}", location=f"L{i}") for i in range(10)))
    messages = w.advance(30 * S)
    assert len(messages) == 10
    assert {m.purpose for m in messages} == {"alert"}


def test_more_than_the_threshold_within_the_window_become_one_digest_listing_them_all() -> None:
    # Given 25 stockouts at 25 locations within 5 s
    w = World(rules=(DIGESTED,))
    for i in range(25):
        w.raise_(alert(f"a{i}", location=f"L{i}"))
        w.advance(S / 5, step=S / 5)
    # When the window closes
    messages = w.advance(60 * S)
    # Then one digest lists all 25 (the first ten left their groups before being told)
    [digest] = messages
    assert digest.purpose == "digest"
    assert keys(digest) == {f"a{i}" for i in range(25)}
    assert digest.rule_id == DIGESTED.rule_id
    assert w.state.groups == {}


def test_a_digest_is_per_kind() -> None:
    w = World(rules=(DIGESTED,))
    w.raise_(*(alert(f"s{i}", kind="stockout", location=f"L{i}") for i in range(11)))
    w.raise_(*(alert(f"v{i}", kind="count_variance", location=f"L{i}") for i in range(3)))
    messages = w.advance(60 * S)
    digests = [m for m in messages if m.purpose == "digest"]
    assert [keys(m) for m in digests] == [{f"s{i}" for i in range(11)}]
    assert sorted(k for m in messages if m.purpose == "alert" for k in keys(m)) == [
        "v0",
        "v1",
        "v2",
    ]


def test_a_storm_that_lasts_gets_one_digest_per_window() -> None:
    w = World(rules=(DIGESTED,))
    for second in range(150):
        w.raise_(alert(f"a{second}", location="L1"))
        w.advance(S)
    w.advance(120 * S)
    digests = [m for m in w.sent if m.purpose == "digest"]
    assert len(digests) == 3
    told = [k for m in w.sent for k in keys(m)]
    assert sorted(told) == sorted(f"a{i}" for i in range(150))


def test_resolutions_of_digested_alerts_are_listed_together_not_one_by_one() -> None:
    w = World(rules=(DIGESTED,))
    storm = [alert(f"a{i}", location=f"L{i}") for i in range(20)]
    w.raise_(*storm)
    w.advance(60 * S)
    # When all of them clear
    assert w.resolve(*storm) == []
    # Then one "resolved" message lists the 20, a window later
    [resolved] = w.advance(60 * S)
    assert resolved.purpose == "resolved"
    assert keys(resolved) == {a.dedup_key for a in storm}
    assert {r.dedup_key for r in resolved.resolutions} == keys(resolved)


def test_an_alert_resolved_while_waiting_in_a_digest_is_left_out_of_it() -> None:
    w = World(rules=(DIGESTED,))
    storm = [alert(f"a{i}", location=f"L{i}") for i in range(12)]
    w.raise_(*storm)
    w.resolve(storm[0])
    [digest] = w.advance(60 * S)
    assert "a0" not in keys(digest) and len(digest.alerts) == 11


def test_a_storm_of_5000_alerts_yields_few_messages_and_every_critical_one_alone() -> None:
    # Given a rule with a digest (10 per 60 s) grouping by location, and a chat rate limit
    w = World(
        Configuration(
            rules=(DIGESTED,),
            rate_limits={"chat": RateLimit(30, timedelta(minutes=1))},
        )
    )
    # When 5,000 alerts of two kinds arrive in 10 s across 200 locations, 20 of them critical
    criticals = set()
    for i in range(5000):
        w.now += S * 10 / 5000
        if i % 250 == 7:
            w.raise_(critical(f"crit{i}", kind="site_outage", location=f"L{i % 200}"))
            criticals.add(f"crit{i}")
        else:
            kind = "stockout" if i % 2 else "count_variance"
            w.raise_(alert(f"{kind}{i}", kind=kind, location=f"L{i % 200}"))
        if i % 100 == 0:
            w.tick()
    # Then each critical alert went out at once, on its own
    alone = [m for m in w.sent if m.purpose == "alert" and keys(m) <= criticals]
    assert sorted(k for m in alone for k in keys(m)) == sorted(criticals)
    assert all(len(m.alerts) == 1 for m in alone)
    # And after the storm settles, the other 4,980 came in at most 10 messages
    w.advance(5 * 60 * S)
    others = [m for m in w.sent if not keys(m) <= criticals]
    assert len(others) <= 10
    told = set().union(*(keys(m) for m in others))
    assert len(told) == 4980


def test_critical_alerts_are_never_put_in_a_digest() -> None:
    w = World(rules=(DIGESTED,))
    w.raise_(*(alert(f"a{i}", location=f"L{i}") for i in range(11)))
    [message] = w.raise_(critical("c1", kind="stockout"))
    assert (message.purpose, keys(message)) == ("alert", {"c1"})


def test_resolution_of_an_unknown_alert_is_reported_not_an_error() -> None:
    w = World(rules=(DIGESTED,))
    stray = alert("never-seen")
    outcome = w.dispatcher.resolve(resolution(stray), w.state)
    assert outcome.messages == []
    assert [s.reason for s in outcome.suppressed] == ["unknown_alert"]
