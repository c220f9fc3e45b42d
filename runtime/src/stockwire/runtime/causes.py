"""What a unit of work publishes, staged in the flow of the event that caused it.

A consumer applies a whole batch in one transaction under one consumer span. An event
caused by one of the batch's events (named by its ``source_event_id``) carries that
event's correlation id, names it as its cause and continues its trace, so a flow stays
traceable through a batch of many: from a field event, through the alert it caused, to
the chat message the notifier sends. The events of an HTTP request share one new
correlation and the request's own trace.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from stockwire.contracts.base import Event
from stockwire.contracts.ids import new_id
from stockwire.runtime.consumer import Received
from stockwire.runtime.outbox import OutboxWriter, Staged


class Causes:
    """The events a transaction applies (none for an HTTP request), by event id."""

    def __init__(self, received: Sequence[Received] = ()) -> None:
        self._by_id = {each.envelope.event_id: each for each in received}
        self._request = new_id() if not received else None

    def stage(
        self,
        outbox: OutboxWriter,
        payload: Event,
        source: uuid.UUID | None,
        *,
        occurred_at: datetime,
    ) -> Staged:
        """The outbox row of ``payload``, caused by the applied event ``source`` (if it is
        one of them)."""
        cause = self._by_id.get(source) if source is not None else None
        envelope = cause.envelope if cause else None
        return outbox.stage(
            payload,
            occurred_at=occurred_at,
            correlation_id=envelope.correlation_id if envelope else self._request,
            causation_id=envelope.event_id if envelope else None,
            trace=cause.trace if cause else None,
        )
