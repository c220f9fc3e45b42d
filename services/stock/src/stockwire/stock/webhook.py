"""The FSM webhook: field-service-management systems POST job events over HTTP.

The body is one event exactly as it travels on ``fsm.job-events.v1``: a full envelope
(``contracts/schemas/envelope.json``) whose payload is an ``fsm.*`` job event; any file
under ``contracts/examples/fsm.job-events.v1/`` is a valid body. A valid event is written
to that topic through the outbox, keeping the sender's ``event_id``, so a retried call
is stored once and, if it comes after the outbox forgot it, de-duplicated by the
consumers' inboxes.

No bearer token: the caller proves it holds the shared secret
(``STOCKWIRE_FSM_WEBHOOK_SECRET``) with ``X-Stockwire-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body. A sender that also sends ``X-Stockwire-Timestamp: <Unix
seconds>`` signs ``<timestamp>.<body>`` instead, and the call is refused once the
timestamp is more than :data:`TIMESTAMP_TOLERANCE_S` away from our clock, which bounds
how long a captured request can be replayed.
"""

import hashlib
import hmac
import logging
import re
import time
import uuid
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.topics import FSM_JOB_EVENTS
from stockwire.runtime.outbox import DuplicateEventId
from stockwire.runtime.service import ServiceRuntime
from stockwire.stock.api_queries import ApiError, ErrorOut, ProblemOut, ShapedErrorsRoute
from stockwire.stock.settings import StockSettings
from stockwire.stock.tables import MESSAGING

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Stockwire-Signature"
TIMESTAMP_HEADER = "X-Stockwire-Timestamp"
TIMESTAMP_TOLERANCE_S = 300
MAX_BODY_BYTES = 256 * 1024
"""An FSM job event is a few kilobytes; anything near this is not one."""

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class AcceptedOut(BaseModel):
    event_id: uuid.UUID
    event_type: str
    duplicate: bool = Field(
        description="True when this event id was already accepted with the same content."
    )


router = APIRouter(
    tags=["webhooks"],
    route_class=ShapedErrorsRoute,
    responses={
        code: {"model": ErrorOut} for code in (401, 409, 413, 422, HTTPStatus.SERVICE_UNAVAILABLE)
    },
)


@router.post(
    "/webhooks/fsm",
    status_code=HTTPStatus.ACCEPTED,
    summary="Receive one FSM job event (HMAC-signed, no bearer token)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Envelope.model_json_schema()}},
        },
        "parameters": [
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                "description": "HMAC-SHA256 of the body (or of '<timestamp>.<body>').",
            },
            {
                "name": TIMESTAMP_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "integer"},
                "description": "Unix seconds; when sent, it is signed with the body.",
            },
        ],
    },
)
async def receive_fsm_event(request: Request) -> AcceptedOut:
    """202 once the event is in the outbox (also for a repeat of an accepted event);
    401 for a missing or wrong signature, 409 for an event id already used by a different
    event, 413 for a body over 256 KiB, 422 naming the field for anything that is not a
    valid FSM job event, 503 when no secret is configured. Nothing is written unless 202."""
    secret = _secret(request)
    body = await _read_body(request)
    verify_signature(
        secret,
        body,
        request.headers.get(SIGNATURE_HEADER),
        request.headers.get(TIMESTAMP_HEADER),
        now=time.time(),
    )
    received, payload = parse_event(body)
    runtime: ServiceRuntime = request.app.state.runtime
    return await _stage(runtime, received, payload)


def _secret(request: Request) -> str:
    settings = request.app.state.settings
    secret = settings.fsm_webhook_secret if isinstance(settings, StockSettings) else None
    if not secret:
        raise ApiError(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "not_configured",
            "the FSM webhook is off: STOCKWIRE_FSM_WEBHOOK_SECRET is not set",
        )
    return secret.get_secret_value()


async def _read_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "too_large",
                f"an FSM event may be at most {MAX_BODY_BYTES} bytes",
                [ProblemOut(field="body", reason="too large")],
            )
    return bytes(body)


def verify_signature(
    secret: str, body: bytes, signature: str | None, timestamp: str | None, *, now: float
) -> None:
    """Raise a 401 unless ``signature`` is the HMAC-SHA256 of the body under ``secret``
    (of ``<timestamp>.<body>`` when a timestamp is sent, which must also be recent)."""
    if signature is None:
        raise _unauthorized(f"send {SIGNATURE_HEADER}: sha256=<HMAC-SHA256 of the body>")
    match = _SIGNATURE.fullmatch(signature.strip())
    if match is None:
        raise _unauthorized(f"{SIGNATURE_HEADER} must be sha256=<64 hex digits>")
    signed = body
    if timestamp is not None:
        if _TIMESTAMP.fullmatch(timestamp.strip()) is None:
            raise _unauthorized(f"{TIMESTAMP_HEADER} must be Unix time in whole seconds")
        if abs(now - int(timestamp)) > TIMESTAMP_TOLERANCE_S:
            raise _unauthorized(
                f"{TIMESTAMP_HEADER} is more than {TIMESTAMP_TOLERANCE_S} s from our clock"
            )
        signed = timestamp.strip().encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), match.group(1).lower().encode()):
        raise _unauthorized("the signature does not match the body")


def _unauthorized(detail: str) -> ApiError:
    log.warning("FSM webhook call refused: %s", detail)
    return ApiError(HTTPStatus.UNAUTHORIZED, "unauthorized", detail)


def parse_event(body: bytes) -> tuple[Envelope, Event]:
    """The envelope and its payload, both validated strictly (we write them to a topic);
    otherwise a 422 naming the fields at fault."""
    try:
        received = Envelope.model_validate_json(body)
    except ValidationError as error:
        raise _invalid(error, prefix=()) from None
    model = FSM_JOB_EVENTS.payload_model(received.event_type)
    if model is None:
        known = ", ".join(sorted(payload.event_type for payload in FSM_JOB_EVENTS.payloads))
        raise _invalid_field("event_type", f"is not an FSM job event; expected one of {known}")
    if received.schema_version != model.schema_version:
        raise _invalid_field(
            "schema_version",
            f"{received.event_type} is at schema_version {model.schema_version} on "
            f"{FSM_JOB_EVENTS.name}",
        )
    try:
        payload = model.model_validate(received.payload)
    except ValidationError as error:
        raise _invalid(error, prefix=("payload",)) from None
    where = _unstorable({"producer": received.producer, "payload": payload.model_dump()})
    if where is not None:
        raise _invalid_field(where, "must not contain NUL characters")
    return received, payload


def _invalid(error: ValidationError, prefix: tuple[str, ...]) -> ApiError:
    problems = []
    for item in error.errors():
        if item["type"] == "json_invalid":
            problems.append(ProblemOut(field="body", reason=f"is not JSON: {item['msg']}"))
            continue
        path = [*prefix, *(str(part) for part in item["loc"])]
        reason = item["msg"].removeprefix("Value error, ")
        problems.append(ProblemOut(field=".".join(path) or "body", reason=reason))
    detail = "; ".join(f"{p.field}: {p.reason}" for p in problems)
    return ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid", detail, problems)


def _invalid_field(field: str, reason: str) -> ApiError:
    return ApiError(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "invalid",
        f"{field}: {reason}",
        [ProblemOut(field=field, reason=reason)],
    )


def _unstorable(value: Any, path: str = "") -> str | None:
    """The path of the first string PostgreSQL's jsonb cannot hold (one with a NUL), if any.
    (JSON with an unpaired surrogate does not parse, so none reaches here.)"""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return None
    for key, item in items:
        where = _unstorable(item, f"{path}.{key}" if path else str(key))
        if where is not None:
            return where
    return None


async def _stage(runtime: ServiceRuntime, received: Envelope, payload: Event) -> AcceptedOut:
    """Write the event to the outbox as received; a repeat of its id is answered, not
    written again: 202 if it is the same event, 409 if the id names a different one."""
    as_sent = {
        "event_id": received.event_id,
        "producer": received.producer,
        "correlation_id": received.correlation_id,
        "causation_id": received.causation_id,
        "occurred_at": received.occurred_at,
    }
    try:
        async with runtime.sessions.begin() as session:
            await runtime.outbox.add(session, payload, topic=FSM_JOB_EVENTS, **as_sent)
    except DuplicateEventId:
        outbox = MESSAGING.outbox
        async with runtime.engine.connect() as conn:
            stored = await conn.scalar(
                sa.select(outbox.c.envelope).where(outbox.c.event_id == received.event_id)
            )
        if stored is None:
            # The row was purged between the insert and this read: a 500, and the sender
            # retries.
            raise
        if stored != wrap(payload, **as_sent).model_dump(mode="json"):
            raise ApiError(
                HTTPStatus.CONFLICT,
                "conflict",
                f"event_id {received.event_id} was already accepted for a different event",
                [ProblemOut(field="event_id", reason="already used by a different event")],
            ) from None
        return AcceptedOut(
            event_id=received.event_id, event_type=received.event_type, duplicate=True
        )
    return AcceptedOut(event_id=received.event_id, event_type=received.event_type, duplicate=False)
