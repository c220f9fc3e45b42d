"""Bad configuration is refused when built, with every field at fault and why, so the
HTTP API can answer 422 with the reasons."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from notifier_world import T0, match, rule

from stockwire.notifier.domain.flapping import FlapPolicy
from stockwire.notifier.domain.inhibition import Inhibition
from stockwire.notifier.domain.matching import Matcher
from stockwire.notifier.domain.quiet_hours import QuietHours
from stockwire.notifier.domain.rate_limits import RateLimit
from stockwire.notifier.domain.rules import Digest, EscalationStep, Timing
from stockwire.notifier.domain.silences import Silence
from stockwire.runtime.domain_errors import Invalid

S = timedelta(seconds=1)


def problems(error: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {p.field: p.reason for p in error.value.problems}


@pytest.mark.parametrize(
    ("build", "field", "reason"),
    [
        (lambda: rule(channels=()), "channels", "give at least one"),
        (lambda: rule(channels=("chat", "chat")), "channels", "names must not repeat"),
        (lambda: rule(channels=(" chat",)), "channels", "without outer spaces"),
        (lambda: rule(name="  "), "name", "must not be blank"),
        (lambda: rule(name="x" * 201), "name", "at most 200"),
        (lambda: rule(position=-1), "position", "must not be negative"),
        (lambda: rule(recipients=("a@x", "a@x")), "recipients", "must not repeat"),
        (lambda: rule(recipients=("",)), "recipients", "must not be blank"),
        (lambda: rule(group_by=("colour",)), "group_by", "unknown attribute 'colour'"),
        (lambda: rule(group_by=("label:",)), "group_by", "label name"),
        (lambda: rule(group_by=("sku", "sku")), "group_by", "must not repeat"),
        (lambda: Timing(group_wait=-S), "timing.group_wait", "must not be negative"),
        (lambda: Timing(group_interval=0 * S), "timing.group_interval", "must be positive"),
        (lambda: Timing(repeat_interval=-S), "timing.repeat_interval", "must be positive"),
        (
            lambda: Timing(group_interval=60 * S, repeat_interval=30 * S),
            "timing.repeat_interval",
            "at least group_interval",
        ),
        (lambda: Timing(group_wait=timedelta(days=31)), "timing.group_wait", "at most 30 days"),
        (lambda: Digest(0, 60 * S), "digest.threshold", "at least 1"),
        (lambda: Digest(10, 0 * S), "digest.window", "must be positive"),
        (
            lambda: QuietHours(time(22), time(6), "Mars/Olympus_Mons"),
            "quiet_hours.timezone",
            "unknown IANA time zone",
        ),
        (
            lambda: QuietHours(time(22), time(6), "../../etc/passwd"),
            "quiet_hours.timezone",
            "unknown IANA time zone",
        ),
        (lambda: QuietHours(time(6), time(6), "UTC"), "quiet_hours.end", "must differ"),
        (lambda: EscalationStep(0 * S, ("phone",)), "escalation.after", "must be positive"),
        (lambda: EscalationStep(60 * S, ()), "escalation.channels", "give at least one"),
        (
            lambda: rule(
                escalation=(
                    EscalationStep(600 * S, ("phone",)),
                    EscalationStep(600 * S, ("manager",)),
                )
            ),
            "escalation[1].after",
            "later than the step before",
        ),
        (lambda: Matcher("colour", frozenset({"red"})), "matchers.attribute", "unknown"),
        (lambda: Matcher("kind", frozenset()), "matchers.values", "at least one value"),
        (lambda: Matcher("kind", frozenset({""})), "matchers.values", "must not be empty"),
        (
            lambda: Matcher("kind", frozenset(str(i) for i in range(257))),
            "matchers.values",
            "at most 256",
        ),
        (lambda: RateLimit(0, 60 * S), "rate_limit.messages", "at least 1"),
        (lambda: RateLimit(5, 0 * S), "rate_limit.per", "must be positive"),
        (lambda: FlapPolicy(0 * S, 3), "flap.window", "must be positive"),
        (lambda: FlapPolicy(60 * S, 0), "flap.max_changes", "at least 1"),
        (
            lambda: Silence(uuid.uuid4(), (match("kind", "x"),), T0, T0, "ana"),
            "ends_at",
            "after starts_at",
        ),
        (
            lambda: Silence(uuid.uuid4(), (), T0, T0 + S, "ana"),
            "matchers",
            "never mutes all",
        ),
        (
            lambda: Silence(uuid.uuid4(), (match("kind", "x"),), datetime(2026, 1, 1), T0, "ana"),
            "starts_at",
            "time zone",
        ),
        (
            lambda: Inhibition(uuid.uuid4(), (), (match("kind", "x"),)),
            "source",
            "at least one matcher",
        ),
        (
            lambda: Inhibition(
                uuid.uuid4(), (match("kind", "a"),), (match("kind", "b"),), ("size",)
            ),
            "equal",
            "unknown attribute",
        ),
    ],
)
def test_bad_configuration_is_refused_with_the_field_and_the_reason(build, field, reason) -> None:
    with pytest.raises(Invalid) as error:
        build()
    found = problems(error)
    assert field in found, found
    assert reason in found[field]


def test_every_problem_of_a_rule_is_reported_at_once() -> None:
    # Given a rule wrong in three ways
    with pytest.raises(Invalid) as error:
        rule(name="", position=-5, channels=())
    # Then all three come back in one error, readable as one detail line
    assert set(problems(error)) == {"name", "position", "channels"}
    assert "channels: give at least one" in str(error.value)


def test_quiet_hours_refuse_zoned_wall_times() -> None:
    with pytest.raises(Invalid) as error:
        QuietHours(time(22, tzinfo=UTC), time(6), "UTC")
    assert error.value.field == "quiet_hours"


def test_a_good_rule_with_every_option_is_accepted() -> None:
    built = rule(
        matchers=(match("kind", "stockout"), match("label:team", "fiber")),
        channels=("chat", "email"),
        recipients=("ops@example.net", "@oncall"),
        stop=True,
        group_by=("region", "label:team"),
        digest=Digest(10, 60 * S),
        quiet_hours=QuietHours(time(22), time(6), "Europe/Berlin"),
        escalation=(EscalationStep(300 * S, ("pager",)), EscalationStep(900 * S, ("phone",))),
    )
    assert built.channels == ("chat", "email")
