"""Matchers: the one way rules, silences and inhibitions select alerts.

A matcher accepts a set of values for one attribute; negated, it accepts every other value,
including an attribute the alert leaves out. All matchers of a list must accept the alert.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from stockwire.runtime.domain_errors import Invalid

from .alerts import Alert, attribute_problem

MAX_VALUES = 256


@dataclass(frozen=True)
class Matcher:
    attribute: str
    values: frozenset[str]
    negate: bool = False

    def __post_init__(self) -> None:
        problem = attribute_problem(self.attribute)
        if problem:
            raise Invalid("matchers.attribute", problem)
        if not self.values:
            raise Invalid("matchers.values", f"{self.attribute}: give at least one value")
        if len(self.values) > MAX_VALUES:
            raise Invalid("matchers.values", f"{self.attribute}: at most {MAX_VALUES} values")
        if any(not value for value in self.values):
            raise Invalid("matchers.values", f"{self.attribute}: a value must not be empty")

    def accepts(self, alert: Alert) -> bool:
        value = alert.attribute(self.attribute)
        found = value is not None and value in self.values
        return found != self.negate


def match_all(matchers: Iterable[Matcher], alert: Alert) -> bool:
    """True when every matcher accepts ``alert`` (so no matcher at all accepts everything)."""
    return all(matcher.accepts(alert) for matcher in matchers)
