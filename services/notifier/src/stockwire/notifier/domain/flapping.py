"""Flap detection: an alert that keeps firing and resolving is held until it settles.

Each firing<->resolved change is recorded (the first raise is not a change). More than
``max_changes`` changes within ``window`` make the alert flap; it is then held, both its
notifications and its "resolved" follow-ups, until no change happened for ``window``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from stockwire.runtime.domain_errors import Invalid, Problem


@dataclass(frozen=True)
class FlapPolicy:
    window: timedelta
    max_changes: int

    def __post_init__(self) -> None:
        problems = []
        if self.window <= timedelta(0):
            problems.append(Problem("flap.window", "must be positive"))
        if self.max_changes < 1:
            problems.append(Problem("flap.max_changes", "must be at least 1"))
        if problems:
            raise Invalid.of(problems)

    def record(self, changes: list[datetime], now: datetime) -> None:
        """Add a change at ``now`` and forget those older than the window."""
        changes.append(now)
        self.forget_old(changes, now)

    def forget_old(self, changes: list[datetime], now: datetime) -> None:
        changes[:] = [at for at in changes if now - at < self.window]

    def too_many(self, changes: list[datetime], now: datetime) -> bool:
        return sum(1 for at in changes if now - at < self.window) > self.max_changes

    def settled(self, changes: list[datetime], now: datetime) -> bool:
        return not changes or now - max(changes) >= self.window
