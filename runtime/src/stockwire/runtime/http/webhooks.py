"""Webhook intake: events other systems POST, proved by an HMAC of the raw body (or, for
senders that cannot sign, a shared secret as a bearer token) and written to a topic
through the outbox, once.

A sender holds a shared secret and sends ``X-Stockwire-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body. A sender that also sends ``X-Stockwire-Timestamp: <Unix
seconds>`` signs ``<timestamp>.<body>`` instead, and the call is refused once the
timestamp is more than ``STOCKWIRE_WEBHOOK_TIMESTAMP_TOLERANCE_S`` from our clock, which
bounds how long a captured request can be replayed;
``STOCKWIRE_WEBHOOK_REQUIRE_TIMESTAMP=true`` refuses calls without one. Digests are
compared in constant time.

Senders that cannot sign a body (Prometheus Alertmanager, LibreNMS) send the shared
secret itself, ``Authorization: Bearer <secret>`` (:func:`verify_bearer_secret`), also
compared in constant time; :func:`verify_caller` takes either, the signature when one is
sent. Only over TLS: a bearer secret, unlike a signature, is replayable by whoever reads
the request.

A verified event keeps the sender's ``event_id`` on its way into the outbox
(:func:`add_once`): a retried call is stored once and answered ``duplicate``, a different
event under an id already used is a 409, and a retry after the outbox forgot the id is
de-duplicated by the consumers' inboxes. :func:`add_all_once` does the same for the
several events of one call (an Alertmanager group), in one transaction, answering each.
"""

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from http import HTTPStatus
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Header
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope
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
from stockwire.runtime.outbox import DuplicateEventId, Staged
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import Settings

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

_webhook_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="WebhookSecret",
    description="The webhook's shared secret itself, for senders that cannot sign the body "
    "(not a Stockwire API token). A call signed with X-Stockwire-Signature needs none.",
)
BearerSecret = Annotated[HTTPAuthorizationCredentials | None, Depends(_webhook_bearer)]
"""The ``Authorization: Bearer <secret>`` a webhook route takes (None: not sent)."""

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


def verify_bearer_secret(secret: str, presented: str | None) -> None:
    """A 401 unless ``presented`` (the bearer credentials sent) is ``secret``. Digests of
    both are compared in constant time, so neither the secret's content nor its length
    shows in the time an answer takes."""
    if presented is None:
        raise _unauthorized(
            f"send Authorization: Bearer <the webhook secret>, or sign the body "
            f"({SIGNATURE_HEADER})"
        )
    expected = hashlib.sha256(secret.encode()).digest()
    if not hmac.compare_digest(expected, hashlib.sha256(presented.encode()).digest()):
        raise _unauthorized("the bearer secret is not this webhook's")


def configured_secret(secret: SecretStr | None, setting: str) -> str:
    """The webhook's secret; a 503 while ``setting`` (its variable's name) is unset: a
    webhook without a secret is off, not open."""
    if secret is None:
        raise ApiError(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "not_configured",
            f"this webhook is off: {setting} is not set",
        )
    return secret.get_secret_value()


def verify_caller(
    secret: str,
    body: bytes,
    *,
    bearer: HTTPAuthorizationCredentials | None,
    signature: str | None,
    timestamp: str | None,
    settings: Settings,
) -> None:
    """A 401 unless the call is signed with ``secret`` (:func:`verify_signature`, when
    ``X-Stockwire-Signature`` is sent) or carries it as its bearer token
    (:func:`verify_bearer_secret`)."""
    if signature is not None:
        verify_signature(
            secret,
            body,
            signature,
            timestamp,
            now=time.time(),
            tolerance_s=settings.webhook_timestamp_tolerance_s,
            require_timestamp=settings.webhook_require_timestamp,
        )
    else:
        verify_bearer_secret(secret, bearer.credentials if bearer is not None else None)


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


class Outcome(StrEnum):
    """What became of one event a webhook call carried."""

    ACCEPTED = "accepted"
    """Written to the outbox now."""
    DUPLICATE = "duplicate"
    """Its id was already accepted for the same event: not written again."""
    CONFLICT = "conflict"
    """Its id was already accepted for a different event: not written."""


class SameEvent(StrEnum):
    """When an event whose id was already accepted is the same event (a duplicate)."""

    ENVELOPE = "envelope"
    """The whole envelope is the same: for senders that choose their own ids."""
    TYPE_AND_KEY = "type_and_key"
    """The same event type and key: for ids derived from the sender's own identity of an
    occurrence, whose wording may change between repeats (an Alertmanager alert sent
    again every repeat_interval with a fresh value in its description)."""


@dataclass(frozen=True)
class Incoming:
    """One event received from another system, to be written under its own id."""

    event_id: uuid.UUID
    payload: Event
    producer: str
    occurred_at: datetime
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None


ADD_ATTEMPTS = 3
"""A concurrent call writing one of the same ids between our read and our write makes us
read again; beyond this many times something else is wrong."""


async def add_all_once(
    runtime: ServiceRuntime,
    topic: TopicSpec,
    events: Sequence[Incoming],
    *,
    same: SameEvent = SameEvent.ENVELOPE,
) -> list[Outcome]:
    """Write to ``topic`` through the outbox, in one transaction, each event whose id is
    not there yet (ids repeated within ``events`` count as there once the first is), and
    answer each in order: accepted, duplicate or conflict (``same`` says which of the
    last two a repeated id is). Each keeps its id, producer, correlation and time."""
    staged = [
        runtime.outbox.stage(
            event.payload,
            topic=topic,
            event_id=event.event_id,
            producer=event.producer,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            occurred_at=event.occurred_at,
        )
        for event in events
    ]
    for attempt in range(1, ADD_ATTEMPTS + 1):
        try:
            async with runtime.sessions.begin() as session:
                known = await _stored(session, {row.event_id for row in staged})
                outcomes: list[Outcome] = []
                new: list[Staged] = []
                for row in staged:
                    earlier = known.get(row.event_id)
                    if earlier is None:
                        known[row.event_id] = _Stored.of(row)
                        new.append(row)
                        outcomes.append(Outcome.ACCEPTED)
                    elif earlier.same_as(row, same):
                        outcomes.append(Outcome.DUPLICATE)
                    else:
                        outcomes.append(Outcome.CONFLICT)
                await runtime.outbox.insert(session, new)
            return outcomes
        except DuplicateEventId:
            # A concurrent call committed one of these ids after we read: read again.
            if attempt == ADD_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Stored:
    topic: str
    key: str
    event_type: str
    envelope: Any
    """The envelope, parsed."""

    @classmethod
    def of(cls, row: Staged) -> "_Stored":
        return cls(row.topic, row.key, row.event_type, json.loads(row.envelope))

    def same_as(self, row: Staged, same: SameEvent) -> bool:
        if same is SameEvent.ENVELOPE:
            return bool(self.envelope == json.loads(row.envelope))
        return (self.topic, self.key, self.event_type) == (row.topic, row.key, row.event_type)


async def _stored(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, _Stored]:
    """The outbox's rows with these ids."""
    rows = await session.execute(
        sa.text(
            "SELECT event_id, topic, key, event_type, envelope::text AS envelope FROM outbox "
            "WHERE event_id = ANY(:ids)"
        ),
        {"ids": list(ids)},
    )
    return {
        row.event_id: _Stored(row.topic, row.key, row.event_type, json.loads(row.envelope))
        for row in rows
    }


async def add_once(
    runtime: ServiceRuntime, topic: TopicSpec, received: Envelope, payload: Event
) -> AcceptedOut:
    """Write the event to ``topic`` through the outbox as received (its id, producer,
    correlation and time kept); a repeat of its id is answered, not written again:
    ``duplicate`` if it is the same event, a 409 if the id names a different one."""
    [outcome] = await add_all_once(
        runtime,
        topic,
        [
            Incoming(
                event_id=received.event_id,
                payload=payload,
                producer=received.producer,
                occurred_at=received.occurred_at,
                correlation_id=received.correlation_id,
                causation_id=received.causation_id,
            )
        ],
    )
    if outcome is Outcome.CONFLICT:
        raise ApiError(
            HTTPStatus.CONFLICT,
            "conflict",
            f"event_id {received.event_id} was already accepted for a different event",
            [ProblemOut(field="event_id", reason="already used by a different event")],
        )
    return AcceptedOut(
        event_id=received.event_id,
        event_type=received.event_type,
        duplicate=outcome is Outcome.DUPLICATE,
    )
