"""The FSM webhook: field-service-management systems POST job events over HTTP.

The body is one event exactly as it travels on ``fsm.job-events.v1``: a full envelope
(``contracts/schemas/envelope.json``) whose payload is an ``fsm.*`` job event; any file
under ``contracts/examples/fsm.job-events.v1/`` is a valid body. No bearer token: the
caller signs the body with the shared secret (``STOCKWIRE_FSM_WEBHOOK_SECRET``). The
signature, the timestamp window and writing the event to its topic once, keeping the
sender's ``event_id``, are the runtime's signed-webhook intake
(:mod:`stockwire.runtime.http.webhooks`).
"""

import time
from http import HTTPStatus

from fastapi import APIRouter, Request

from stockwire.contracts.envelope import Envelope
from stockwire.contracts.topics import FSM_JOB_EVENTS
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.webhooks import (
    AcceptedOut,
    Signature,
    Timestamp,
    add_once,
    configured_secret,
    parse_event,
    verify_signature,
)
from stockwire.runtime.service import ServiceRuntime
from stockwire.stock.settings import StockSettings

PATH = "/webhooks/fsm"
MAX_BODY_BYTES = 256 * 1024
"""An FSM job event is a few kilobytes; anything near this is not one."""


def fsm_webhook_router(runtime: ServiceRuntime, settings: StockSettings) -> APIRouter:
    router = APIRouter(tags=["webhooks"], responses=error_responses(401, 409, 413, 422, 503))

    @router.post(
        PATH,
        status_code=HTTPStatus.ACCEPTED,
        summary="Receive one FSM job event (HMAC-signed, no bearer token)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": Envelope.model_json_schema()}},
            }
        },
    )
    async def receive_fsm_event(
        request: Request, signature: Signature = None, timestamp: Timestamp = None
    ) -> AcceptedOut:
        """202 once the event is in the outbox (also for a repeat of an accepted event);
        401 for a missing or wrong signature, 409 for an event id already used by a
        different event, 413 for a body over 256 KiB, 422 naming the field for anything
        that is not a valid FSM job event, 503 when no secret is configured. Nothing is
        written unless 202."""
        secret = configured_secret(settings.fsm_webhook_secret, "STOCKWIRE_FSM_WEBHOOK_SECRET")
        body = await request.body()
        verify_signature(
            secret,
            body,
            signature,
            timestamp,
            now=time.time(),
            tolerance_s=settings.webhook_timestamp_tolerance_s,
            require_timestamp=settings.webhook_require_timestamp,
        )
        received, payload = parse_event(body, FSM_JOB_EVENTS)
        return await add_once(runtime, FSM_JOB_EVENTS, received, payload)

    return router
