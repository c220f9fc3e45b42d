"""Signed-webhook intake: events other systems POST, proved by an HMAC of the raw body
and written to a topic through the outbox, once.

A sender holds a shared secret and sends ``X-Stockwire-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body. A sender that also sends ``X-Stockwire-Timestamp: <Unix
seconds>`` signs ``<timestamp>.<body>`` instead, and the call is refused once the
timestamp is more than ``STOCKWIRE_WEBHOOK_TIMESTAMP_TOLERANCE_S`` from our clock, which
bounds how long a captured request can be replayed;
``STOCKWIRE_WEBHOOK_REQUIRE_TIMESTAMP=true`` refuses calls without one. Digests are
compared in constant time.

A verified event keeps the sender's ``event_id`` on its way into the outbox
(:func:`add_once`): a retried call is stored once and answered ``duplicate``, a different
event under an id already used is a 409, and a retry after the outbox forgot the id is
de-duplicated by the consumers' inboxes.
"""

import hashlib
import hmac
import json
import logging
import re
import uuid
from http import HTTPStatus
from typing import Annotated

import sqlalchemy as sa
from fastapi import Header
from pydantic import BaseModel, Field, ValidationError

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.topics import TopicSpec
from stockwire.runtime.http.openapi import not_nullable
from stockwire.runtime.http.problems import (
    ApiError,
    ProblemOut,
    invalid,
    invalid_request,
    problems_of,
)
from stockwire.runtime.http.text import unstorable_at
from stockwire.runtime.outbox import DuplicateEventId
from stockwire.runtime.service import ServiceRuntime

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Stockwire-Signature"
TIMESTAMP_HEADER = "X-Stockwire-Timestamp"
SIGNATURE_PATTERN = "^sha256=[0-9a-fA-F]{64}$"
TIMESTAMP_PATTERN = "^[0-9]{1,12}$"

Signature = Annotated[
    str | None,
    Header(
        alias=SIGNATURE_HEADER,
        description="sha256=<HMAC-SHA256 of the body, or of '<timestamp>.<body>'>, 64 hex "
        "digits; anything else, or none, is a 401 (its form is checked with the signature, "
        "so a caller without the secret learns nothing from a 422).",
        json_schema_extra=not_nullable,
    ),
]
Timestamp = Annotated[
    str | None,
    Header(
        alias=TIMESTAMP_HEADER,
        description="Unix seconds; when sent, it is signed with the body and must be recent "
        "(a 401 otherwise).",
        json_schema_extra=not_nullable,
    ),
]

_SIGNATURE = re.compile(SIGNATURE_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


class AcceptedOut(BaseModel):
    event_id: uuid.UUID
    event_type: str
    duplicate: bool = Field(
        description="True when this event id was already accepted with the same content."
    )


def verify_signature(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float,
    tolerance_s: float,
    require_timestamp: bool,
) -> None:
    """A 401 unless ``signature`` is the HMAC-SHA256 of the body under ``secret`` (of
    ``<timestamp>.<body>`` when a timestamp is sent, which must then be recent)."""
    if signature is None:
        raise _unauthorized(f"send {SIGNATURE_HEADER}: sha256=<HMAC-SHA256 of the body>")
    match = _SIGNATURE.fullmatch(signature.strip())
    if match is None:
        raise _unauthorized(f"{SIGNATURE_HEADER} must be sha256=<64 hex digits>")
    signed = body
    if timestamp is None:
        if require_timestamp:
            raise _unauthorized(f"send {TIMESTAMP_HEADER}: <Unix seconds>, and sign it too")
    else:
        if _TIMESTAMP.fullmatch(timestamp.strip()) is None:
            raise _unauthorized(f"{TIMESTAMP_HEADER} must be Unix time in whole seconds")
        if abs(now - int(timestamp)) > tolerance_s:
            raise _unauthorized(
                f"{TIMESTAMP_HEADER} is more than {tolerance_s:.0f} s from our clock"
            )
        signed = timestamp.strip().encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    sent = signature.strip().removeprefix("sha256=").lower()
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise _unauthorized("the signature does not match the body")


def _unauthorized(detail: str) -> ApiError:
    log.warning("webhook call refused: %s", detail)
    return ApiError(HTTPStatus.UNAUTHORIZED, "unauthorized", detail)


def parse_event(body: bytes, topic: TopicSpec) -> tuple[Envelope, Event]:
    """The envelope and payload of one event of ``topic``, both validated strictly (we are
    about to write them to a topic); otherwise a 422 naming the fields at fault."""
    try:
        received = Envelope.model_validate_json(body)
    except ValidationError as error:
        raise invalid_request(problems_of(error.errors())) from None
    model = topic.payload_model(received.event_type)
    if model is None:
        known = ", ".join(sorted(payload.event_type for payload in topic.payloads))
        raise invalid("event_type", f"is not an event of {topic.name}; expected one of {known}")
    if received.schema_version != model.schema_version:
        raise invalid(
            "schema_version",
            f"{received.event_type} is at schema_version {model.schema_version} on {topic.name}",
        )
    try:
        payload = model.model_validate(received.payload)
    except ValidationError as error:
        raise invalid_request(problems_of(error.errors(), within=("payload",))) from None
    where = unstorable_at({"producer": received.producer, "payload": payload.model_dump()})
    if where is not None:
        raise invalid(where, "must not contain NUL characters")
    return received, payload


async def add_once(
    runtime: ServiceRuntime, topic: TopicSpec, received: Envelope, payload: Event
) -> AcceptedOut:
    """Write the event to ``topic`` through the outbox as received (its id, producer,
    correlation and time kept); a repeat of its id is answered, not written again:
    ``duplicate`` if it is the same event, a 409 if the id names a different one."""
    accepted = AcceptedOut(
        event_id=received.event_id, event_type=received.event_type, duplicate=False
    )
    try:
        async with runtime.sessions.begin() as session:
            await runtime.outbox.add(
                session,
                payload,
                topic=topic,
                event_id=received.event_id,
                producer=received.producer,
                correlation_id=received.correlation_id,
                causation_id=received.causation_id,
                occurred_at=received.occurred_at,
            )
    except DuplicateEventId:
        async with runtime.engine.connect() as conn:
            stored = await conn.scalar(
                sa.text("SELECT envelope::text FROM outbox WHERE event_id = :id"),
                {"id": received.event_id},
            )
        if stored is None:
            # The row was purged between the insert and this read: the sender retries.
            raise
        as_sent = wrap(
            payload,
            event_id=received.event_id,
            producer=received.producer,
            correlation_id=received.correlation_id,
            causation_id=received.causation_id,
            occurred_at=received.occurred_at,
        )
        if json.loads(stored) != as_sent.model_dump(mode="json"):
            raise ApiError(
                HTTPStatus.CONFLICT,
                "conflict",
                f"event_id {received.event_id} was already accepted for a different event",
                [ProblemOut(field="event_id", reason="already used by a different event")],
            ) from None
        return accepted.model_copy(update={"duplicate": True})
    return accepted
