"""What the engine hands the delivery adapter, and what it chose not to send.

Rendering and sending are adapters: a message only says which alerts go to which channel
and why, and which conversation it belongs to (``thread_key``) so the channel can thread
a follow-up where it supports it (email: In-Reply-To).
"""

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from .alerts import Alert, Resolution

Purpose = Literal["alert", "group", "digest", "resolved", "escalation", "overflow"]

SuppressionReason = Literal[
    "duplicate",
    "silenced",
    "inhibited",
    "flapping",
    "no_route",
    "rule_removed",
    "unknown_alert",
    "already_resolved",
]


@dataclass(frozen=True)
class Message:
    """One message to one channel.

    ``resolutions`` carries the resolutions a "resolved" or "overflow" message reports;
    ``step`` the escalation step (1-based) an "escalation" message fires.
    """

    channel: str
    recipients: tuple[str, ...]
    purpose: Purpose
    alerts: tuple[Alert, ...]
    rule_id: UUID | None
    thread_key: str | None
    resolutions: tuple[Resolution, ...] = ()
    step: int | None = None


@dataclass(frozen=True)
class Suppressed:
    """An alert (or resolution) the engine kept back, and why, for the caller to log."""

    dedup_key: str
    reason: SuppressionReason
    detail: str | None = None
