"""Digests: when more than ``threshold`` alerts of one kind reach a rule within its
``window``, they stop going out one by one (or group by group) and are listed in ONE message
per (rule, kind) per window, across the rule's groups.

The alerts told in a digest are remembered, so their resolutions are listed together too,
in one "resolved" message per window, instead of one follow-up each.
"""

from dataclasses import dataclass, field
from datetime import datetime

from .alerts import Alert, Resolution
from .rules import Digest


@dataclass
class DigestState:
    """One (rule_id, kind)'s recent arrivals and open digest (persisted per that pair)."""

    rule_id: str
    kind: str
    arrivals: list[datetime] = field(default_factory=list)
    held: list[Alert] = field(default_factory=list)
    closes_at: datetime | None = None
    told: list[str] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    resolved_due_at: datetime | None = None

    def arrive(self, digest: Digest, now: datetime) -> bool:
        """Count an arrival at ``now``; True if it (and its kind) now goes into the digest."""
        self.arrivals = [at for at in self.arrivals if now - at < digest.window]
        self.arrivals.append(now)
        return self.is_open or len(self.arrivals) > digest.threshold

    @property
    def is_open(self) -> bool:
        return self.closes_at is not None

    def open(self, digest: Digest, now: datetime) -> None:
        self.closes_at = now + digest.window

    def hold(self, alert: Alert) -> None:
        self.held.append(alert)

    def take(self) -> tuple[Alert, ...]:
        alerts = tuple(self.held)
        self.told += [a.dedup_key for a in alerts]
        self.held = []
        self.closes_at = None
        return alerts

    def discard(self, dedup_key: str) -> bool:
        """Take a resolved alert out of the open digest; True if it was held there."""
        before = len(self.held)
        self.held = [a for a in self.held if a.dedup_key != dedup_key]
        return len(self.held) != before

    def resolve_told(
        self, alert: Alert, resolution: Resolution, digest: Digest, now: datetime
    ) -> bool:
        """List the resolution of an alert told in a digest; False if it was not."""
        if alert.dedup_key not in self.told:
            return False
        self.told.remove(alert.dedup_key)
        self.resolved.append(alert)
        self.resolutions.append(resolution)
        self.resolved_due_at = self.resolved_due_at or now + digest.window
        return True

    def take_resolved(self) -> tuple[tuple[Alert, ...], tuple[Resolution, ...]]:
        taken = tuple(self.resolved), tuple(self.resolutions)
        self.resolved, self.resolutions, self.resolved_due_at = [], [], None
        return taken

    def forget_old(self, digest: Digest | None, now: datetime) -> None:
        if digest is not None:
            self.arrivals = [at for at in self.arrivals if now - at < digest.window]

    @property
    def empty(self) -> bool:
        return not (self.arrivals or self.held or self.told or self.resolved or self.is_open)
