"""Groups, with Alertmanager's timing: the alerts of one rule that share the values of its
``group_by`` are told together.

A new group's first notification waits ``group_wait`` (so the alerts of one incident arrive
together); an alert joining a group already told waits until ``group_interval`` after the
last notification; a group still firing is told again after ``repeat_interval``.
"""

from dataclasses import dataclass, field
from datetime import datetime

from .alerts import Alert
from .rules import Timing


@dataclass
class GroupState:
    """One group's firing members and its schedule (persisted per (rule_id, group_key))."""

    rule_id: str
    group_key: str
    members: list[Alert] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    due_at: datetime | None = None
    last_flush_at: datetime | None = None

    def add(self, alert: Alert, timing: Timing, now: datetime) -> None:
        self.members.append(alert)
        self.pending.append(alert.dedup_key)
        if self.last_flush_at is None:
            self.due_at = self.due_at or now + timing.group_wait
            return
        change_due = max(now, self.last_flush_at + timing.group_interval)
        self.due_at = min(self.due_at, change_due) if self.due_at else change_due

    def remove(self, dedup_key: str, timing: Timing) -> bool:
        """Drop a member (resolved, or moved to a digest); True if it was still untold."""
        untold = dedup_key in self.pending
        self.members = [a for a in self.members if a.dedup_key != dedup_key]
        self.pending = [key for key in self.pending if key != dedup_key]
        if not self.pending:
            self.due_at = (
                self.last_flush_at + timing.repeat_interval
                if self.last_flush_at and self.members
                else None
            )
        return untold

    def take(self, timing: Timing, now: datetime) -> tuple[Alert, ...]:
        """The alerts a flush now tells: the untold ones, or all of them on a repeat."""
        told = set(self.pending)
        alerts = tuple(a for a in self.members if a.dedup_key in told) or tuple(self.members)
        self.pending = []
        self.last_flush_at = now
        self.due_at = now + timing.repeat_interval if self.members else None
        return alerts

    @property
    def empty(self) -> bool:
        return not self.members
