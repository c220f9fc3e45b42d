"""What the notifier remembers of each alert, keyed by its ``dedup_key``: whether it fires,
where it was sent, whether it is held and why, its escalation and acknowledgement.

Where it was sent (its routes) is what makes "resolved" follow-ups exact: a route whose
alert is still waiting in a group, digest or overflow when it resolves was never told, so
it gets no follow-up.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .alerts import Alert, Resolution
from .escalation import EscalationState

Status = Literal["firing", "resolved"]
Hold = Literal["silenced", "inhibited", "flapping"]


@dataclass
class RouteRecord:
    """One channel of one rule the alert went (or is waiting to go) to."""

    rule_id: str
    channel: str
    recipients: list[str]
    group_key: str


@dataclass
class AlertState:
    alert: Alert
    status: Status
    first_raised_at: datetime
    last_raised_at: datetime
    occurrences: int = 1
    changes: list[datetime] = field(default_factory=list)
    held: Hold | None = None
    routes: list[RouteRecord] = field(default_factory=list)
    escalations: list[EscalationState] = field(default_factory=list)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolution: Resolution | None = None
    resolution_held: bool = False

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    @property
    def wants_tick(self) -> bool:
        """True when a tick may act on this alert (a hold to re-check, an escalation)."""
        return self.held is not None or (self.firing and bool(self.escalations))
