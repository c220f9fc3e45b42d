"""Routing rules: which alerts go to which channels and people, and how noise is shaped.

Every rule is checked whole when built: a bad one raises :class:`Invalid` naming each field
at fault with the reason, so the HTTP API answers 422 with all of them at once.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from stockwire.runtime.domain_errors import Invalid, Problem

from .alerts import Alert, attribute_problem
from .matching import Matcher, match_all
from .quiet_hours import QuietHours

MAX_NAME = 200
MAX_CHANNELS = 32
MAX_RECIPIENTS = 256
MAX_DURATION = timedelta(days=30)


@dataclass(frozen=True)
class Timing:
    """Alertmanager's timers: the first notification of a group waits ``group_wait``; a later
    change waits until ``group_interval`` after the last one; a group still firing is told
    again after ``repeat_interval``."""

    group_wait: timedelta = timedelta(seconds=30)
    group_interval: timedelta = timedelta(minutes=5)
    repeat_interval: timedelta = timedelta(hours=4)

    def __post_init__(self) -> None:
        problems = []
        if self.group_wait < timedelta(0):
            problems.append(Problem("timing.group_wait", "must not be negative"))
        if self.group_interval <= timedelta(0):
            problems.append(Problem("timing.group_interval", "must be positive"))
        if self.repeat_interval <= timedelta(0):
            problems.append(Problem("timing.repeat_interval", "must be positive"))
        elif self.repeat_interval < self.group_interval:
            problems.append(Problem("timing.repeat_interval", "must be at least group_interval"))
        for name in ("group_wait", "group_interval", "repeat_interval"):
            if getattr(self, name) > MAX_DURATION:
                problems.append(Problem(f"timing.{name}", "must be at most 30 days"))
        if problems:
            raise Invalid.of(problems)


@dataclass(frozen=True)
class Digest:
    """More than ``threshold`` alerts of one kind within ``window`` become one message."""

    threshold: int
    window: timedelta

    def __post_init__(self) -> None:
        problems = []
        if self.threshold < 1:
            problems.append(Problem("digest.threshold", "must be at least 1"))
        if self.window <= timedelta(0):
            problems.append(Problem("digest.window", "must be positive"))
        elif self.window > MAX_DURATION:
            problems.append(Problem("digest.window", "must be at most 30 days"))
        if problems:
            raise Invalid.of(problems)


@dataclass(frozen=True)
class EscalationStep:
    """Unacknowledged ``after`` the alert was first sent, tell ``channels`` too."""

    after: timedelta
    channels: tuple[str, ...]

    def __post_init__(self) -> None:
        problems = []
        if self.after <= timedelta(0):
            problems.append(Problem("escalation.after", "must be positive"))
        elif self.after > MAX_DURATION:
            problems.append(Problem("escalation.after", "must be at most 30 days"))
        problems += _name_list_problems("escalation.channels", self.channels, MAX_CHANNELS)
        if problems:
            raise Invalid.of(problems)


def _name_list_problems(field_name: str, names: Sequence[str], limit: int) -> list[Problem]:
    problems = []
    if not names:
        problems.append(Problem(field_name, "give at least one"))
    if len(names) > limit:
        problems.append(Problem(field_name, f"at most {limit}"))
    if any(not name or name != name.strip() for name in names):
        problems.append(Problem(field_name, "names must be non-empty, without outer spaces"))
    if len(set(names)) != len(names):
        problems.append(Problem(field_name, "names must not repeat"))
    return problems


@dataclass(frozen=True)
class Rule:
    rule_id: UUID
    name: str
    position: int
    matchers: tuple[Matcher, ...]
    channels: tuple[str, ...]
    recipients: tuple[str, ...] = ()
    stop: bool = False
    group_by: tuple[str, ...] = ()
    timing: Timing = Timing()
    digest: Digest | None = None
    quiet_hours: QuietHours | None = None
    escalation: tuple[EscalationStep, ...] = ()
    enabled: bool = True

    def __post_init__(self) -> None:
        problems = check_rule(self)
        if problems:
            raise Invalid.of(problems)

    def matches(self, alert: Alert) -> bool:
        return self.enabled and match_all(self.matchers, alert)

    def group_key(self, alert: Alert) -> str:
        """The group an alert joins within this rule: the values of ``group_by``."""
        return "|".join(f"{name}={alert.attribute(name) or ''}" for name in self.group_by)


def check_rule(rule: Rule) -> list[Problem]:
    """Every problem of ``rule`` that its parts (already checked) cannot see alone."""
    problems = []
    if not rule.name.strip():
        problems.append(Problem("name", "must not be blank"))
    elif len(rule.name) > MAX_NAME:
        problems.append(Problem("name", f"at most {MAX_NAME} characters"))
    if rule.position < 0:
        problems.append(Problem("position", "must not be negative"))
    problems += _name_list_problems("channels", rule.channels, MAX_CHANNELS)
    if len(rule.recipients) > MAX_RECIPIENTS:
        problems.append(Problem("recipients", f"at most {MAX_RECIPIENTS}"))
    if any(not r.strip() for r in rule.recipients):
        problems.append(Problem("recipients", "a recipient must not be blank"))
    if len(set(rule.recipients)) != len(rule.recipients):
        problems.append(Problem("recipients", "recipients must not repeat"))
    for name in rule.group_by:
        problem = attribute_problem(name)
        if problem:
            problems.append(Problem("group_by", problem))
    if len(set(rule.group_by)) != len(rule.group_by):
        problems.append(Problem("group_by", "attributes must not repeat"))
    problems += _escalation_problems(rule.escalation)
    return problems


def _escalation_problems(steps: Iterable[EscalationStep]) -> list[Problem]:
    problems = []
    previous: timedelta | None = None
    for index, step in enumerate(steps):
        if previous is not None and step.after <= previous:
            problems.append(
                Problem(
                    f"escalation[{index}].after",
                    f"must be later than the step before ({previous})",
                )
            )
        previous = step.after
    return problems


def route(alert: Alert, rules: Iterable[Rule]) -> list[Rule]:
    """The enabled rules ``alert`` matches, in position order (then id, so the order is
    total), up to and including the first matching rule that stops further matching."""
    matched = []
    for rule in sorted(rules, key=lambda r: (r.position, str(r.rule_id))):
        if rule.matches(alert):
            matched.append(rule)
            if rule.stop:
                break
    return matched
