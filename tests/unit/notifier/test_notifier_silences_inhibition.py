"""Silences mute matching alerts until they expire; a firing source alert inhibits matching
targets that share its ``equal`` attributes. Both apply to critical alerts too."""

import uuid
from datetime import timedelta

from notifier_world import T0, World, alert, critical, keys, match, rule

from stockwire.notifier.domain.dispatcher import Configuration
from stockwire.notifier.domain.inhibition import Inhibition
from stockwire.notifier.domain.silences import Silence

S = timedelta(seconds=1)
EVERYTHING = rule("everything")
OUTAGE_HIDES_STOCKOUTS = Inhibition(
    uuid.uuid4(),
    source=(match("kind", "site_outage"),),
    target=(match("kind", "stockout"), match("severity", "warning")),
    equal=("location",),
)


def silence(*matchers, hours: int = 1, starts=T0) -> Silence:
    return Silence(
        uuid.uuid4(), matchers, starts, starts + timedelta(hours=hours), "ana", "maintenance"
    )


def test_a_silenced_alert_sends_nothing_and_is_reported() -> None:
    w = World(rules=(EVERYTHING,), silences=(silence(match("location", "VAN-1")),))
    w.raise_(alert("a", location="VAN-1"), alert("b", location="VAN-2"))
    messages = w.advance(30 * S)
    assert [keys(m) for m in messages] == [{"b"}]
    assert [(s.dedup_key, s.reason) for s in w.suppressed] == [("a", "silenced")]


def test_a_silence_mutes_critical_alerts_too() -> None:
    w = World(rules=(EVERYTHING,), silences=(silence(match("kind", "site_outage")),))
    assert w.raise_(critical("c")) == []


def test_an_alert_still_firing_when_its_silence_expires_is_told_then() -> None:
    # Given a one-hour silence over VAN-1 and an alert there
    w = World(rules=(EVERYTHING,), silences=(silence(match("location", "VAN-1")),))
    w.raise_(alert("a", location="VAN-1"))
    # Then nothing goes out during the hour
    assert w.advance(timedelta(minutes=59), step=60 * S) == []
    # And once it expired the alert is grouped and told
    messages = w.advance(timedelta(minutes=2), step=S)
    assert [keys(m) for m in messages] == [{"a"}]


def test_a_silence_that_has_not_started_mutes_nothing() -> None:
    later = silence(match("location", "VAN-1"), starts=T0 + timedelta(hours=1))
    w = World(rules=(EVERYTHING,), silences=(later,))
    w.raise_(alert("a", location="VAN-1"))
    assert [keys(m) for m in w.advance(30 * S)] == [{"a"}]


def test_an_alert_raised_after_the_silence_expired_goes_out() -> None:
    w = World(rules=(EVERYTHING,), silences=(silence(match("location", "VAN-1")),))
    w.now = T0 + timedelta(hours=1)
    w.raise_(alert("a", location="VAN-1"))
    assert [keys(m) for m in w.advance(30 * S)] == [{"a"}]


def test_a_site_outage_inhibits_stockout_warnings_at_that_site_only() -> None:
    w = World(rules=(EVERYTHING,), inhibitions=(OUTAGE_HIDES_STOCKOUTS,))
    [outage] = w.raise_(critical("outage-X", location="X"))
    w.raise_(alert("stock-X", location="X"), alert("stock-Y", location="Y"))
    told = set().union(*(keys(m) for m in w.advance(30 * S)))
    assert told == {"stock-Y"}
    assert ("stock-X", "inhibited", "outage-X") in [
        (s.dedup_key, s.reason, s.detail) for s in w.suppressed
    ]
    assert keys(outage) == {"outage-X"}


def test_inhibition_needs_the_equal_attributes_present_on_both() -> None:
    w = World(rules=(EVERYTHING,), inhibitions=(OUTAGE_HIDES_STOCKOUTS,))
    w.raise_(critical("outage"))  # no location
    w.raise_(alert("stock"))  # no location either
    assert {k for m in w.advance(30 * S) for k in keys(m)} == {"stock"}


def test_a_critical_stockout_is_not_a_warning_target_and_is_not_inhibited() -> None:
    w = World(rules=(EVERYTHING,), inhibitions=(OUTAGE_HIDES_STOCKOUTS,))
    w.raise_(critical("outage", location="X"))
    [message] = w.raise_(critical("stock", kind="stockout", location="X"))
    assert keys(message) == {"stock"}


def test_an_alert_matching_both_sides_does_not_inhibit_itself() -> None:
    both_sides = Inhibition(
        uuid.uuid4(), (match("kind", "stockout"),), (match("kind", "stockout"),), ("location",)
    )
    w = World(rules=(EVERYTHING,), inhibitions=(both_sides,))
    w.raise_(alert("a", location="X"))
    assert [keys(m) for m in w.advance(30 * S)] == [{"a"}]


def test_a_resolved_source_no_longer_inhibits_and_the_held_target_is_told() -> None:
    w = World(Configuration(rules=(EVERYTHING,), inhibitions=(OUTAGE_HIDES_STOCKOUTS,)))
    outage = critical("outage", location="X")
    w.raise_(outage)
    w.raise_(alert("stock", location="X"))
    w.advance(60 * S)
    assert not any("stock" in keys(m) for m in w.sent)
    w.resolve(outage)
    # The next tick releases it into its group, which then waits group_wait
    assert w.tick() == []
    assert [keys(m) for m in w.advance(30 * S)] == [{"stock"}]
