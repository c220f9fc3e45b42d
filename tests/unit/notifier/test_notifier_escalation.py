"""Escalation: a critical alert nobody acknowledged goes to each next step of its rule's
chain; acknowledgement or resolution stops it."""

from datetime import timedelta

import pytest
from notifier_world import World, alert, critical, keys, rule

from stockwire.notifier.domain.rules import EscalationStep
from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound

M = timedelta(minutes=1)
CHAIN = rule(
    "pager",
    channels=("chat",),
    recipients=("@oncall",),
    escalation=(EscalationStep(10 * M, ("pager",)), EscalationStep(30 * M, ("phone", "email"))),
)


def test_an_unacknowledged_critical_alert_escalates_step_by_step() -> None:
    w = World(rules=(CHAIN,))
    [first] = w.raise_(critical("c"))
    assert first.channel == "chat"
    # Nothing before 10 minutes
    assert w.advance(10 * M - timedelta(seconds=1)) == []
    [step1] = w.advance(timedelta(seconds=1))
    assert (step1.purpose, step1.channel, step1.step, step1.thread_key) == (
        "escalation",
        "pager",
        1,
        "c",
    )
    assert step1.recipients == ("@oncall",)
    step2 = w.advance(20 * M, step=M)
    assert sorted((m.channel, m.step) for m in step2) == [("email", 2), ("phone", 2)]
    # The chain is done: nothing more
    assert w.advance(60 * M, step=M) == []


def test_acknowledgement_stops_the_escalation_and_records_who_and_when() -> None:
    w = World(rules=(CHAIN,))
    w.raise_(critical("c"))
    w.advance(5 * M, step=M)
    w.acknowledge("c", by="ana")
    assert w.advance(60 * M, step=M) == []
    state = w.state.alerts["c"]
    assert (state.acknowledged_by, state.acknowledged_at) == ("ana", w.now - 60 * M)


def test_acknowledging_twice_keeps_the_first_acknowledgement() -> None:
    w = World(rules=(CHAIN,))
    w.raise_(critical("c"))
    w.acknowledge("c", by="ana")
    w.now += M
    outcome = w.acknowledge("c", by="bo")
    assert w.state.alerts["c"].acknowledged_by == "ana"
    assert outcome.changes.alerts == set()


def test_resolution_stops_the_escalation_and_tells_every_channel_it_reached() -> None:
    w = World(rules=(CHAIN,))
    c = critical("c")
    w.raise_(c)
    w.advance(10 * M, step=M)  # escalated to the pager
    follow_ups = w.resolve(c)
    assert sorted((m.channel, m.purpose, m.thread_key) for m in follow_ups) == [
        ("chat", "resolved", "c"),
        ("pager", "resolved", "c"),
    ]
    assert w.advance(60 * M, step=M) == []


def test_a_late_tick_fires_every_step_already_due_in_order() -> None:
    w = World(rules=(CHAIN,))
    w.raise_(critical("c"))
    w.now += 45 * M
    assert [(m.channel, m.step) for m in w.tick()] == [("pager", 1), ("phone", 2), ("email", 2)]


def test_warnings_never_escalate() -> None:
    w = World(rules=(CHAIN,))
    w.raise_(alert("w"))
    assert {m.purpose for m in w.advance(60 * M, step=M)} == {"alert"}


def test_acknowledging_an_unknown_alert_is_not_found() -> None:
    w = World(rules=(CHAIN,))
    with pytest.raises(NotFound):
        w.acknowledge("nope")


def test_acknowledging_a_resolved_alert_is_a_conflict() -> None:
    w = World(rules=(CHAIN,))
    c = critical("c")
    w.raise_(c)
    w.resolve(c)
    with pytest.raises(Conflict) as error:
        w.acknowledge("c")
    assert "already resolved" in error.value.reason


def test_an_acknowledgement_needs_someone() -> None:
    w = World(rules=(CHAIN,))
    w.raise_(critical("c"))
    with pytest.raises(Invalid):
        w.acknowledge("c", by=" ")


def test_next_wakeup_is_the_next_escalation_step() -> None:
    w = World(rules=(CHAIN,))
    w.raise_(critical("c"))
    assert w.dispatcher.next_wakeup(w.state) == w.now + 10 * M
    assert keys(w.advance(10 * M, step=10 * M)[0]) == {"c"}
