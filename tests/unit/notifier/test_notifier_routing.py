"""Routing: rules are tried in position order, disabled ones skipped, and a matching rule
with ``stop`` ends the search; every attribute a matcher names is compared."""

from datetime import timedelta

import pytest
from notifier_world import World, alert, critical, match, rule

from stockwire.notifier.domain.rules import EscalationStep, route


def test_matching_rules_come_in_position_order_whatever_order_they_are_given() -> None:
    # Given three catch-all rules listed out of order
    late, first, middle = rule("late", 20), rule("first", 0), rule("middle", 10)
    # When an alert is routed
    matched = route(alert(), [late, first, middle])
    # Then they come back in position order
    assert [r.name for r in matched] == ["first", "middle", "late"]


def test_a_matching_rule_with_stop_ends_the_search() -> None:
    # Given a stopping rule for stockouts between two catch-alls
    general = rule("general", 0)
    stockouts = rule("stockouts", 1, (match("kind", "stockout"),), stop=True)
    fallback = rule("fallback", 2)
    # When a stockout and a count variance are routed
    # Then the stockout stops at the stopping rule, the variance goes on to the fallback
    assert [r.name for r in route(alert(kind="stockout"), [fallback, stockouts, general])] == [
        "general",
        "stockouts",
    ]
    assert [
        r.name for r in route(alert(kind="count_variance"), [fallback, stockouts, general])
    ] == [
        "general",
        "fallback",
    ]


def test_a_stopping_rule_that_does_not_match_does_not_stop_anything() -> None:
    stopper = rule("stopper", 0, (match("region", "north"),), stop=True)
    after = rule("after", 1)
    assert [r.name for r in route(alert(region="south"), [stopper, after])] == ["after"]


def test_a_disabled_rule_never_matches_nor_stops() -> None:
    disabled = rule("off", 0, stop=True, enabled=False)
    on = rule("on", 1)
    assert [r.name for r in route(alert(), [disabled, on])] == ["on"]


@pytest.mark.parametrize(
    ("attribute", "context", "value"),
    [
        ("kind", {}, "stockout"),
        ("severity", {}, "warning"),
        ("region", {"region": "north"}, "north"),
        ("location", {"location": "VAN-7"}, "VAN-7"),
        ("location_kind", {"location_kind": "technician_van"}, "technician_van"),
        ("category", {"category": "ont"}, "ont"),
        ("sku", {"sku": "ONT-G2"}, "ONT-G2"),
        ("producer", {"producer": "assets"}, "assets"),
        ("label:team", {"labels": {"team": "fiber"}}, "fiber"),
    ],
)
def test_every_matcher_attribute_selects_on_its_value(attribute, context, value) -> None:
    # Given an alert carrying the attribute, and one carrying another value or none
    selected = alert(**context)
    only = rule("only", 0, (match(attribute, value),))
    # Then a matcher on that value accepts the first and refuses an alert without it
    assert route(selected, [only]) == [only]
    other = alert(kind="other_kind", severity="info", producer="elsewhere")
    assert route(other, [only]) == []
    # And negated it does the opposite
    negated = rule("not", 0, (match(attribute, value, negate=True),))
    assert route(selected, [negated]) == []
    assert route(other, [negated]) == [negated]


def test_all_matchers_of_a_rule_must_accept_the_alert() -> None:
    both = rule("both", 0, (match("kind", "stockout"), match("region", "north", "east")))
    assert route(alert(region="east"), [both]) == [both]
    assert route(alert(region="west"), [both]) == []
    assert route(alert(kind="count_variance", region="east"), [both]) == []


def test_a_missing_label_does_not_match_a_label_matcher() -> None:
    by_team = rule("team", 0, (match("label:team", "fiber"),))
    assert route(alert(labels={"other": "fiber"}), [by_team]) == []


def test_dry_run_lists_matched_rules_channels_and_what_would_happen_without_changing_state() -> (
    None
):
    # Given a grouping rule and a stopping critical rule with an escalation chain
    pager = rule(
        "pager",
        0,
        (match("severity", "critical"),),
        ("pager",),
        stop=True,
        escalation=(EscalationStep(timedelta(minutes=10), ("phone",)),),
    )
    chat = rule("chat", 1, channels=("chat", "email"), recipients=("ops@example.net",))
    world = World(rules=(pager, chat))
    # When an example warning and an example critical alert are dry-run
    warning = world.dry_run(alert(location="VAN-1"))
    outage = world.dry_run(critical())
    # Then the warning would be grouped by the chat rule, due after group_wait
    assert [(d.name, d.channels, d.action) for d in warning.decisions] == [
        ("chat", ("chat", "email"), "grouped")
    ]
    assert warning.decisions[0].due_at == world.now + timedelta(seconds=30)
    assert warning.decisions[0].recipients == ("ops@example.net",)
    assert warning.messages == () and warning.suppressed is None
    # And the critical one goes at once to the pager only, and would escalate
    assert [(d.name, d.action, d.escalates) for d in outage.decisions] == [
        ("pager", "immediate", True)
    ]
    assert [m.channel for m in outage.messages] == ["pager"]
    # And nothing was recorded
    assert world.state.alerts == {} and world.state.groups == {}


def test_dry_run_explains_an_alert_that_matches_no_rule() -> None:
    world = World(rules=(rule("north", 0, (match("region", "north"),)),))
    result = world.dry_run(alert(region="south"))
    assert result.decisions == ()
    assert result.suppressed is not None and result.suppressed.reason == "no_route"


def test_an_alert_no_rule_matches_is_reported_not_silently_dropped() -> None:
    world = World(rules=(rule("north", 0, (match("region", "north"),)),))
    assert world.raise_(alert("k1", region="south")) == []
    assert [(s.dedup_key, s.reason) for s in world.suppressed] == [("k1", "no_route")]
