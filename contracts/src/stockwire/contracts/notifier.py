"""Notifier payloads: acknowledgements, so other services can see who took an alert on.

Keyed by the alert's ``dedup_key``, so one condition's acknowledgements stay in order.
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from stockwire.contracts.alerts import AlertKindName, DedupKey
from stockwire.contracts.base import Event

__all__ = ["AcknowledgedVia", "AlertAcknowledged"]


class AcknowledgedVia(StrEnum):
    API = "api"
    """A person or tool called the notifier's HTTP API with a token."""
    LINK = "link"
    """A person followed the signed link in an alert message."""


class AlertAcknowledged(Event):
    """A person has taken on the alert with this ``dedup_key``: its escalation stops."""

    event_type = "notifier.alert.acknowledged"

    dedup_key: DedupKey
    kind: AlertKindName
    producer: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    """The service that raised the alert."""
    acknowledged_by: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    acknowledged_at: AwareDatetime
    via: AcknowledgedVia
    note: str | None = Field(default=None, max_length=500)
