"""Silences: someone's decision to mute matching alerts for a while.

A silence always ends (``ends_at``), so a forgotten one cannot mute an alert forever, and it
needs at least one matcher, so it cannot mute everything by accident.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from stockwire.runtime.domain_errors import Invalid, Problem

from .alerts import Alert, require_aware
from .matching import Matcher, match_all

MAX_COMMENT = 1000


@dataclass(frozen=True)
class Silence:
    silence_id: UUID
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str = ""

    def __post_init__(self) -> None:
        require_aware("starts_at", self.starts_at)
        require_aware("ends_at", self.ends_at)
        problems = []
        if not self.matchers:
            problems.append(Problem("matchers", "give at least one (a silence never mutes all)"))
        if self.ends_at <= self.starts_at:
            problems.append(Problem("ends_at", "must be after starts_at"))
        if not self.created_by.strip():
            problems.append(Problem("created_by", "must not be blank"))
        if len(self.comment) > MAX_COMMENT:
            problems.append(Problem("comment", f"at most {MAX_COMMENT} characters"))
        if problems:
            raise Invalid.of(problems)

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def mutes(self, alert: Alert, now: datetime) -> bool:
        return self.active(now) and match_all(self.matchers, alert)
