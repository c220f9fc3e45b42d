"""The FSM webhook through the real app and a real PostgreSQL: only a correctly signed,
valid job event reaches the outbox of fsm.job-events.v1, and only once per event id."""

import asyncio
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.contracts.envelope import Envelope, read_payload
from stockwire.contracts.fsm import PartsIssued
from stockwire.contracts.topics import FSM_JOB_EVENTS
from stockwire.runtime.db import ensure_database
from stockwire.runtime.http.app import create_app
from stockwire.runtime.service import ServiceRuntime, build_runtime
from stockwire.runtime.settings import Settings
from stockwire.stock.settings import StockSettings
from stockwire.stock.tables import MESSAGING, metadata
from stockwire.stock.webhook import MAX_BODY_BYTES, fsm_webhook_router

SERVICE = "stock_webhooktest"
SECRET = f"fsm-secret-{uuid.uuid4().hex}"
PATH = "/api/v1/webhooks/fsm"
EXAMPLES = sorted(
    (Path(__file__).parents[3] / "contracts/examples" / FSM_JOB_EVENTS.name).rglob("*.json")
)


def _app(runtime: ServiceRuntime) -> FastAPI:
    assert isinstance(runtime.settings, StockSettings)
    return create_app(
        runtime,
        title="Stockwire stock (webhook under test)",
        description="",
        routers=[fsm_webhook_router(runtime, runtime.settings)],
        body_limits={PATH: MAX_BODY_BYTES},
    )


@pytest.fixture(scope="module")
async def stock(settings: Settings) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """The webhook in an app whose runtime (outbox relay included) is started."""
    await ensure_database(settings, SERVICE)
    stock_settings = StockSettings(**settings.model_dump(), fsm_webhook_secret=SECRET)
    runtime = build_runtime(SERVICE, stock_settings, MESSAGING)
    async with runtime.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    app = _app(runtime)
    async with app.router.lifespan_context(app):
        yield app, runtime


@pytest.fixture(scope="module")
def engine(stock: tuple[FastAPI, ServiceRuntime]) -> AsyncEngine:
    return stock[1].engine


@pytest.fixture(scope="module")
async def fsm(stock: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    """An FSM system: it holds the shared secret but no bearer token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stock[0]), base_url="http://stock.test"
    ) as client:
        yield client


def sign(body: bytes, secret: str = SECRET, timestamp: str | None = None) -> str:
    signed = body if timestamp is None else timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def parts_issued(job_id: str | None = None, **overrides: object) -> dict[str, object]:
    event_id = str(uuid.uuid4())
    return {
        "event_id": event_id,
        "event_type": "fsm.parts.issued",
        "schema_version": 1,
        "occurred_at": "2025-06-12T08:14:05-05:00",
        "producer": "fsm-acme",
        "correlation_id": event_id,
        "causation_id": None,
        "payload": {
            "job_id": job_id or f"JOB-{uuid.uuid4().hex[:10]}",
            "technician_id": "TECH-0231",
            "from_location": "VAN-TX-017",
            "lines": [{"sku": "ONT-NOKIA-G240W", "quantity": "1", "serials": ["ALCLF1234567"]}],
        },
        **overrides,
    }


def encode(event: dict[str, object]) -> bytes:
    return json.dumps(event).encode()


async def post(
    client: httpx.AsyncClient, body: bytes, signature: str | None = None, **headers: str
) -> httpx.Response:
    sent = {"Content-Type": "application/json", **headers}
    if signature is not None:
        sent["X-Stockwire-Signature"] = signature
    return await client.post(PATH, content=body, headers=sent)


async def outbox_rows(engine: AsyncEngine, key: str) -> list[sa.Row]:
    outbox = MESSAGING.outbox
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.select(outbox).where(outbox.c.key == key).order_by(outbox.c.id)
        )
        return list(result)


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [problem["field"] for problem in response.json()["problems"]]


# Accepted ---------------------------------------------------------------------------------


async def test_a_signed_job_event_is_staged_once_on_the_fsm_topic_keyed_by_job(fsm, engine):
    event = parts_issued()
    body = encode(event)

    response = await post(fsm, body, sign(body))

    assert response.status_code == 202, response.text
    assert response.json() == {
        "event_id": event["event_id"],
        "event_type": "fsm.parts.issued",
        "duplicate": False,
    }
    [row] = await outbox_rows(engine, event["payload"]["job_id"])
    assert (row.topic, row.event_type, str(row.event_id)) == (
        FSM_JOB_EVENTS.name,
        "fsm.parts.issued",
        event["event_id"],
    )
    staged = Envelope.model_validate(row.envelope)
    assert (str(staged.correlation_id), staged.producer) == (event["event_id"], "fsm-acme")
    assert staged.occurred_at.isoformat() == "2025-06-12T08:14:05-05:00"
    assert read_payload(staged, PartsIssued).lines[0].serials == ("ALCLF1234567",)


async def test_a_signed_job_event_is_staged_in_the_callers_trace(fsm, engine):
    # Given an FSM system calling inside a trace of its own
    trace_id = secrets.token_hex(16)
    event = parts_issued()
    body = encode(event)

    # When it posts a job event
    response = await post(
        fsm, body, sign(body), traceparent=f"00-{trace_id}-{secrets.token_hex(8)}-01"
    )

    # Then the event goes to the topic in that trace, so stock's consumer and whatever it
    # causes (an alert, the chat message about it) continue it
    assert response.status_code == 202, response.text
    [row] = await outbox_rows(engine, event["payload"]["job_id"])
    assert row.headers["traceparent"].split("-")[1] == trace_id


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
async def test_every_checked_in_fsm_example_is_accepted(fsm, engine, example):
    event = json.loads(example.read_text())
    event["event_id"] = str(uuid.uuid4())
    event["payload"]["job_id"] = f"JOB-{uuid.uuid4().hex[:10]}"
    body = encode(event)

    response = await post(fsm, body, sign(body))

    assert response.status_code == 202, response.text
    assert len(await outbox_rows(engine, event["payload"]["job_id"])) == 1


async def test_a_recent_timestamped_signature_is_accepted(fsm, engine):
    event = parts_issued()
    body = encode(event)
    now = str(int(time.time()))

    response = await post(fsm, body, sign(body, timestamp=now), **{"X-Stockwire-Timestamp": now})

    assert response.status_code == 202, response.text
    assert len(await outbox_rows(engine, event["payload"]["job_id"])) == 1


async def test_an_uppercase_hex_signature_is_accepted(fsm):
    body = encode(parts_issued())

    response = await post(fsm, body, "sha256=" + sign(body).removeprefix("sha256=").upper())

    assert response.status_code == 202, response.text


# Refused signatures -----------------------------------------------------------------------


def signed_then(event: dict[str, object], change: str) -> tuple[bytes, str]:
    """A body and a signature that no longer belong together."""
    body = encode(event)
    good = sign(body)
    if change == "wrong secret":
        return body, sign(body, secret="not-the-shared-secret")
    if change == "tampered body":
        return body.replace(b'"quantity": "1"', b'"quantity": "9"'), good
    if change == "other event's signature":
        return body, sign(encode(parts_issued()))
    if change == "garbled hex":
        return body, good[:-1] + ("0" if good[-1] != "0" else "1")
    if change == "not hex":
        return body, "sha256=" + "z" * 64
    if change == "other algorithm":
        return body, "sha1=" + hashlib.sha1(body).hexdigest()
    if change == "bare hex":
        return body, good.removeprefix("sha256=")
    if change == "non-ascii":
        return body, "sha256=" + "é" * 64
    raise AssertionError(change)


@pytest.mark.parametrize(
    "change",
    [
        "wrong secret",
        "tampered body",
        "other event's signature",
        "garbled hex",
        "not hex",
        "other algorithm",
        "bare hex",
        "non-ascii",
    ],
)
async def test_a_call_whose_signature_does_not_fit_is_401_and_writes_nothing(fsm, engine, change):
    event = parts_issued()
    body, signature = signed_then(event, change)

    response = await fsm.post(
        PATH,
        content=body,
        headers={"Content-Type": "application/json", "X-Stockwire-Signature": signature.encode()},
    )

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert await outbox_rows(engine, event["payload"]["job_id"]) == []


async def test_a_call_without_a_signature_is_401_and_writes_nothing(fsm, engine):
    event = parts_issued()

    response = await post(fsm, encode(event))

    assert response.status_code == 401
    assert "X-Stockwire-Signature" in response.json()["detail"]
    assert await outbox_rows(engine, event["payload"]["job_id"]) == []


async def test_a_bearer_token_is_no_substitute_for_the_signature(fsm):
    response = await post(fsm, encode(parts_issued()), Authorization="Bearer anything")

    assert response.status_code == 401


async def test_an_invalid_body_with_a_bad_signature_is_401_not_422(fsm):
    response = await post(fsm, b"{not json", "sha256=" + "0" * 64)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "case", ["stale", "from the future", "not a number", "signed without it", "other timestamp"]
)
async def test_a_timestamp_that_is_old_or_not_signed_is_401(fsm, engine, case):
    event = parts_issued()
    body = encode(event)
    now = int(time.time())
    timestamp, signature = {
        "stale": (str(now - 301), sign(body, timestamp=str(now - 301))),
        "from the future": (str(now + 301), sign(body, timestamp=str(now + 301))),
        "not a number": ("yesterday", sign(body, timestamp="yesterday")),
        "signed without it": (str(now), sign(body)),
        "other timestamp": (str(now), sign(body, timestamp=str(now - 1))),
    }[case]

    response = await post(fsm, body, signature, **{"X-Stockwire-Timestamp": timestamp})

    assert response.status_code == 401
    assert await outbox_rows(engine, event["payload"]["job_id"]) == []


# Invalid events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b"[]", "body"),
        (b"\xff\xfe", "body"),
        (b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "body"),
    ],
)
async def test_a_body_that_is_not_an_envelope_is_422(fsm, body, field):
    response = await post(fsm, body, sign(body))

    assert problem_fields(response) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_type": "fsm.job.teleported"}, "event_type"),
        ({"event_type": "catalog.item.upserted"}, "event_type"),
        ({"schema_version": 2}, "schema_version"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"occurred_at": "2025-06-12T08:14:05"}, "occurred_at"),
        ({"producer": ""}, "producer"),
        ({"producer": "fsm\x00"}, "producer"),
        ({"trace": "abc"}, "trace"),
        ({"payload": {"job_id": "J-1"}}, "payload.from_location"),
    ],
)
async def test_an_envelope_that_breaks_the_contract_is_422_naming_the_field(
    fsm, engine, change, field
):
    event = parts_issued() | change
    body = encode(event)

    response = await post(fsm, body, sign(body))

    assert field in problem_fields(response)
    assert response.json()["error"] == "invalid"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "payload.lines"),
        ({"lines": [{"sku": "ONT-1", "quantity": "-1"}]}, "payload.lines.0.quantity"),
        ({"lines": [{"sku": "ONT-1", "quantity": "2", "serials": ["S1"]}]}, "payload.lines.0"),
        ({"job_id": ""}, "payload.job_id"),
        ({"job_id": "J\x00B"}, "payload.job_id"),
        ({"technician_id": "T\ud800"}, "body"),
        ({"priority": "high"}, "payload.priority"),
    ],
)
async def test_a_payload_that_breaks_the_contract_is_422_and_writes_nothing(
    fsm, engine, change, field
):
    event = parts_issued()
    job_id = event["payload"]["job_id"]
    event["payload"] = event["payload"] | change
    body = json.dumps(event).encode()

    response = await post(fsm, body, sign(body))

    assert problem_fields(response)[0] == field
    assert await outbox_rows(engine, job_id) == []


async def test_a_body_over_the_limit_is_413(fsm):
    event = parts_issued()
    event["payload"]["lines"] = [{"sku": "X" * 60, "quantity": "1"}] * 5_000
    body = encode(event)

    response = await post(fsm, body, sign(body))

    assert response.status_code == 413


# Repeats ----------------------------------------------------------------------------------


async def test_a_retried_event_is_accepted_again_but_staged_once(fsm, engine):
    event = parts_issued()
    body = encode(event)

    first = await post(fsm, body, sign(body))
    again = await post(fsm, body, sign(body))

    assert (first.status_code, again.status_code) == (202, 202)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert again.json()["event_id"] == event["event_id"]
    assert len(await outbox_rows(engine, event["payload"]["job_id"])) == 1


async def test_a_retry_with_the_same_event_in_other_json_formatting_is_a_duplicate(fsm, engine):
    event = parts_issued()
    compact = json.dumps(event, separators=(",", ":")).encode()
    spaced = json.dumps(event, indent=2, sort_keys=True).encode()

    await post(fsm, compact, sign(compact))
    again = await post(fsm, spaced, sign(spaced))

    assert again.status_code == 202
    assert again.json()["duplicate"] is True
    assert len(await outbox_rows(engine, event["payload"]["job_id"])) == 1


async def test_concurrent_retries_stage_the_event_once(fsm, engine):
    event = parts_issued()
    body = encode(event)

    answers = await asyncio.gather(*(post(fsm, body, sign(body)) for _ in range(8)))

    assert {answer.status_code for answer in answers} == {202}
    assert [answer.json()["duplicate"] for answer in answers].count(False) == 1
    assert len(await outbox_rows(engine, event["payload"]["job_id"])) == 1


async def test_an_event_id_reused_for_a_different_event_is_409_and_keeps_the_first(fsm, engine):
    first = parts_issued()
    other = parts_issued(job_id=first["payload"]["job_id"], event_id=first["event_id"])
    other["payload"]["lines"][0]["quantity"] = "2"
    other["payload"]["lines"][0]["serials"] = ["S-A", "S-B"]

    await post(fsm, encode(first), sign(encode(first)))
    response = await post(fsm, encode(other), sign(encode(other)))

    assert response.status_code == 409
    assert response.json()["problems"] == [
        {"field": "event_id", "reason": "already used by a different event"}
    ]
    [row] = await outbox_rows(engine, first["payload"]["job_id"])
    assert row.envelope["payload"]["lines"][0]["quantity"] == "1"


# Configuration ----------------------------------------------------------------------------


async def test_the_webhook_is_off_without_a_secret(settings, engine):
    runtime = build_runtime(
        SERVICE, StockSettings(**(settings.model_dump() | {"fsm_webhook_secret": None})), MESSAGING
    )
    event = parts_issued()
    body = encode(event)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_app(runtime)), base_url="http://stock.test"
        ) as client:
            response = await post(client, body, sign(body))
    finally:
        await runtime.engine.dispose()

    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"
    assert await outbox_rows(engine, event["payload"]["job_id"]) == []


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    payload=st.dictionaries(
        st.sampled_from(["job_id", "technician_id", "from_location", "lines", "extra"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=10)
        | st.lists(
            st.dictionaries(
                st.sampled_from(["sku", "quantity", "serials", "lot"]),
                st.none() | st.text(max_size=5) | st.integers() | st.lists(st.text(max_size=3)),
            ),
            max_size=2,
        ),
    )
)
async def test_no_signed_body_whatsoever_gets_a_server_error(fsm, payload):
    event = parts_issued()
    event["payload"] = payload
    body = json.dumps(event).encode()

    response = await post(fsm, body, sign(body))

    assert response.status_code in (202, 422), response.text


async def test_with_timestamps_required_an_unstamped_call_is_401_and_a_stamped_one_202(
    settings, engine
):
    runtime = build_runtime(
        SERVICE,
        StockSettings(
            **(settings.model_dump() | {"fsm_webhook_secret": SECRET})
            | {"webhook_require_timestamp": True}
        ),
        MESSAGING,
    )
    unstamped, stamped = parts_issued(), parts_issued()
    now = str(int(time.time()))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_app(runtime)), base_url="http://stock.test"
        ) as client:
            refused = await post(client, encode(unstamped), sign(encode(unstamped)))
            body = encode(stamped)
            accepted = await post(
                client, body, sign(body, timestamp=now), **{"X-Stockwire-Timestamp": now}
            )
    finally:
        await runtime.engine.dispose()

    assert refused.status_code == 401
    assert "X-Stockwire-Timestamp" in refused.json()["detail"]
    assert accepted.status_code == 202, accepted.text
    assert await outbox_rows(engine, unstamped["payload"]["job_id"]) == []
    assert len(await outbox_rows(engine, stamped["payload"]["job_id"])) == 1
