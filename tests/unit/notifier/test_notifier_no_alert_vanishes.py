"""The promise behind everything else: an alert that is routed and not suppressed always
reaches its channels in some message (alert, group, digest or overflow), whatever the
rules' timers, digests, quiet hours and rate limits, and whatever order alerts arrive and
resolve in; and state ends empty once everything resolved and settled."""

from datetime import time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notifier_world import World, alert, rule

from stockwire.notifier.domain.dispatcher import Configuration
from stockwire.notifier.domain.quiet_hours import QuietHours
from stockwire.notifier.domain.rate_limits import RateLimit
from stockwire.notifier.domain.rules import Digest, Timing

S = timedelta(seconds=1)

events = st.lists(
    st.tuples(
        st.integers(0, 30),  # which alert
        st.sampled_from(["stockout", "count_variance"]),
        st.sampled_from(["L1", "L2", "L3"]),
        st.sampled_from(["info", "warning", "critical"]),
        st.integers(0, 120),  # seconds to wait after it
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=events,
    group_wait=st.integers(0, 60),
    digest=st.none()
    | st.builds(Digest, st.integers(1, 5), st.integers(10, 300).map(lambda s: s * S)),
    limit=st.none()
    | st.builds(RateLimit, st.integers(1, 3), st.integers(10, 600).map(lambda s: s * S)),
    quiet=st.booleans(),
)
def test_every_routed_alert_reaches_every_channel_of_its_rule(
    events, group_wait, digest, limit, quiet
) -> None:
    the_rule = rule(
        "ops",
        channels=("chat", "email"),
        group_by=("location",),
        timing=Timing(group_wait * S, 60 * S, 3600 * S),
        digest=digest,
        quiet_hours=QuietHours(time(13, 10), time(13, 40), "Europe/Berlin") if quiet else None,
    )
    w = World(Configuration(rules=(the_rule,), rate_limits={"chat": limit} if limit else {}))
    raised: set[str] = set()
    for index, kind, location, severity, wait in events:
        key = f"{kind}-{index}"
        w.raise_(alert(key, kind, severity, at=w.now, location=location))
        raised.add(key)
        w.advance(wait * S, step=10 * S)
    w.advance(timedelta(hours=3), step=30 * S)
    for channel in ("chat", "email"):
        told = {a.dedup_key for m in w.sent if m.channel == channel for a in m.alerts}
        assert raised <= told, f"{channel} never told {raised - told}"


@settings(max_examples=100, deadline=None)
@given(events=events, resolve_order=st.randoms(use_true_random=False))
def test_when_everything_resolves_the_state_empties_and_every_told_alert_got_a_follow_up(
    events, resolve_order
) -> None:
    the_rule = rule(
        "ops",
        group_by=("location",),
        digest=Digest(3, 60 * S),
        timing=Timing(10 * S, 60 * S, 600 * S),
    )
    w = World(rules=(the_rule,))
    alerts = {}
    for index, kind, location, severity, wait in events:
        a = alert(f"{kind}-{index}", kind, severity, location=location)
        alerts[a.dedup_key] = a
        w.raise_(a)
        w.advance(wait * S, step=10 * S)
    keys = list(alerts)
    resolve_order.shuffle(keys)
    for key in keys:
        w.resolve(alerts[key])
        w.advance(5 * S, step=5 * S)
    w.advance(timedelta(hours=1), step=30 * S)
    told = {a.dedup_key for m in w.sent if m.purpose != "resolved" for a in m.alerts}
    followed_up = {r.dedup_key for m in w.sent for r in m.resolutions}
    assert told == followed_up
    assert w.state.alerts == {} and w.state.groups == {} and w.state.digests == {}
