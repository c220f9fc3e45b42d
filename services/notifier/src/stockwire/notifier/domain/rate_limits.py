"""Per-channel rate limits, and the overflow that keeps what a full channel could not take.

A channel takes at most ``messages`` messages in any ``per`` window (sliding). A non-critical
message beyond that is folded into the channel's overflow, which goes out as one "overflow"
message as soon as the window has room again: nothing is dropped. Critical messages always
go out, and count against the window.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stockwire.runtime.domain_errors import Invalid, Problem

from .alerts import Alert, Resolution


@dataclass(frozen=True)
class RateLimit:
    messages: int
    per: timedelta

    def __post_init__(self) -> None:
        problems = []
        if self.messages < 1:
            problems.append(Problem("rate_limit.messages", "must be at least 1"))
        if self.per <= timedelta(0):
            problems.append(Problem("rate_limit.per", "must be positive"))
        if problems:
            raise Invalid.of(problems)


@dataclass
class ChannelState:
    """One channel's recent sends and what waits in its overflow (persisted per channel)."""

    channel: str
    sent: list[datetime] = field(default_factory=list)
    overflow: list[Alert] = field(default_factory=list)
    overflow_resolutions: list[Resolution] = field(default_factory=list)
    overflow_recipients: list[str] = field(default_factory=list)

    def has_room(self, limit: RateLimit | None, now: datetime) -> bool:
        if limit is None:
            return True
        self.sent = [at for at in self.sent if now - at < limit.per]
        return len(self.sent) < limit.messages

    def record_send(self, limit: RateLimit | None, now: datetime) -> None:
        if limit is not None:
            self.sent.append(now)

    @property
    def overflowing(self) -> bool:
        return bool(self.overflow or self.overflow_resolutions)

    def fold(
        self,
        alerts: tuple[Alert, ...],
        resolutions: tuple[Resolution, ...],
        recipients: tuple[str, ...],
    ) -> None:
        held = {a.dedup_key for a in self.overflow}
        self.overflow += [a for a in alerts if a.dedup_key not in held]
        self.overflow_resolutions += resolutions
        self.overflow_recipients += [r for r in recipients if r not in self.overflow_recipients]

    def discard(self, dedup_key: str) -> bool:
        """Take an alert out of the overflow (it resolved before being told); True if held."""
        before = len(self.overflow)
        self.overflow = [a for a in self.overflow if a.dedup_key != dedup_key]
        return len(self.overflow) != before

    def next_room(self, limit: RateLimit | None) -> datetime | None:
        """When the window next has room, if it is full now."""
        if limit is None or len(self.sent) < limit.messages:
            return None
        return sorted(self.sent)[len(self.sent) - limit.messages] + limit.per

    @property
    def empty(self) -> bool:
        return not self.sent and not self.overflowing
