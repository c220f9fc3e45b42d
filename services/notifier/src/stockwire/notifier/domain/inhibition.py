"""Inhibition: a firing alert that makes others pointless (a site outage makes the low-stock
warnings at that site noise).

A source inhibits a target only when both match their side, they share the values of every
``equal`` attribute (an attribute neither says is not "equal"), and they are not the same
alert: an alert matching both sides must not silence itself.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from stockwire.runtime.domain_errors import Invalid, Problem

from .alerts import Alert, attribute_problem
from .matching import Matcher, match_all


@dataclass(frozen=True)
class Inhibition:
    inhibition_id: UUID
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not self.source:
            problems.append(Problem("source", "give at least one matcher"))
        if not self.target:
            problems.append(Problem("target", "give at least one matcher"))
        for name in self.equal:
            problem = attribute_problem(name)
            if problem:
                problems.append(Problem("equal", problem))
        if problems:
            raise Invalid.of(problems)

    def inhibits(self, source: Alert, target: Alert) -> bool:
        if source.dedup_key == target.dedup_key:
            return False
        if not (match_all(self.source, source) and match_all(self.target, target)):
            return False
        for name in self.equal:
            value = source.attribute(name)
            if value is None or value != target.attribute(name):
                return False
        return True


def inhibitor(
    target: Alert, firing: Iterable[Alert], inhibitions: Iterable[Inhibition]
) -> Alert | None:
    """The first firing alert that inhibits ``target``, if any."""
    rules = [i for i in inhibitions if match_all(i.target, target)]
    if not rules:
        return None
    for source in firing:
        if any(rule.inhibits(source, target) for rule in rules):
            return source
    return None
