"""The envelope every message travels in, and the tolerant reader for it.

The Kafka key is the aggregate id (see the topic registry); trace context travels in
Kafka headers, not in the envelope.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import to_json

from stockwire.contracts.base import Event
from stockwire.contracts.ids import new_id

E = TypeVar("E", bound=Event)


class Envelope(BaseModel):
    """Metadata common to every event, with the event's payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(
        description="Unique id of this event; consumers de-duplicate on it."
    )
    event_type: str = Field(description="Names the payload model, e.g. catalog.item.upserted.")
    schema_version: int = Field(ge=1, description="Version of the payload schema.")
    occurred_at: AwareDatetime = Field(description="When the fact happened, with a time zone.")
    producer: str = Field(min_length=1, description="Service or system that wrote the event.")
    correlation_id: uuid.UUID = Field(description="Shared by every event of one business flow.")
    causation_id: uuid.UUID | None = Field(
        default=None, description="event_id of the event that caused this one, if any."
    )
    payload: dict[str, Any] = Field(description="The event's payload; its schema is event_type's.")


def wrap(
    payload: Event,
    *,
    producer: str,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """Put ``payload`` in a new envelope; a new flow starts when no correlation id is given.

    The envelope is the one :func:`envelope_json` writes, read back strictly."""
    written = envelope_json(
        payload,
        event_id=event_id or new_id(),
        producer=producer,
        occurred_at=occurred_at or datetime.now(UTC),
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    return Envelope.model_validate_json(written)


def envelope_json(
    payload: Event,
    *,
    event_id: uuid.UUID,
    producer: str,
    occurred_at: datetime,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
) -> bytes:
    """A new envelope around ``payload`` as JSON, in one serializer pass: the payload
    (already a validated model) is not dumped to a dict and validated again inside an
    :class:`Envelope`, which was the larger half of the cost of writing an event. The
    envelope's own constraints are checked here instead; a test checks that the bytes are
    what the :class:`Envelope` model writes. A new flow starts when no correlation id is
    given."""
    if not producer:
        raise ValueError("an envelope needs a producer")
    if occurred_at.utcoffset() is None:
        raise ValueError("occurred_at needs a time zone")
    return to_json(
        {
            "event_id": event_id,
            "event_type": payload.event_type,
            "schema_version": payload.schema_version,
            "occurred_at": occurred_at,
            "producer": producer,
            "correlation_id": correlation_id or event_id,
            "causation_id": causation_id,
            "payload": payload,
        }
    )


def read_envelope(raw: bytes | str) -> Envelope:
    """Parse an envelope tolerantly: fields added by newer producers are ignored."""
    return Envelope.model_validate_json(raw, extra="ignore")


def read_payload(envelope: Envelope, model: type[E]) -> E:
    """Parse an envelope's payload tolerantly into ``model``."""
    return model.model_validate(envelope.payload, extra="ignore")
