"""The monitoring webhooks through assets' real wiring and a real PostgreSQL: what
Alertmanager, Zabbix and LibreNMS post, as they post it, reaches the outbox of
monitoring.device-events.v1 once per device event, and nothing else does."""

import asyncio
import copy
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from assets_refs import WRITER_TOKEN, ref
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.assets.bootstrap import bootstrap
from stockwire.assets.settings import AssetsSettings
from stockwire.contracts.envelope import Envelope, read_payload
from stockwire.contracts.network import DeviceEvent, DeviceFailed
from stockwire.contracts.topics import NETWORK_DEVICE_EVENTS
from stockwire.runtime.service import ServiceRuntime

SECRET = f"monitoring-{uuid.uuid4().hex}"
SAMPLES = Path(__file__).parents[2] / "unit" / "assets" / "monitoring"
ALERTMANAGER = "/api/v1/webhooks/alertmanager"
ZABBIX = "/api/v1/webhooks/zabbix"
LIBRENMS = "/api/v1/webhooks/librenms"


@pytest.fixture(scope="module")
async def intake(assets_settings: AssetsSettings) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """Assets with the monitoring secret set, HTTP only, its runtime started."""
    settings = assets_settings.model_copy(
        update={"assets_monitoring_webhook_secret": SecretStr(SECRET)}
    )
    app, runtime = bootstrap(settings, consumers=False)
    async with app.router.lifespan_context(app):
        yield app, runtime


@pytest.fixture(scope="module")
def engine(intake: tuple[FastAPI, ServiceRuntime]) -> AsyncEngine:
    return intake[1].engine


@pytest.fixture(scope="module")
async def monitoring(intake: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    """A monitoring system: it holds the shared secret, and no API token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake[0]), base_url="http://assets.test"
    ) as client:
        yield client


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return loaded


def fingerprint() -> str:
    return secrets.token_hex(8)


def firing_group() -> tuple[dict[str, Any], str, str]:
    """The sample firing group with fresh serials and fingerprints: the body, the failed
    ONT's serial and the degraded one's."""
    body = sample("alertmanager_firing")
    down, rx_low, cpu = body["alerts"]
    down["labels"]["serial"] = ref("ALCL")
    rx_low["labels"]["serial_number"] = ref("ALCL")
    for alert in (down, rx_low, cpu):
        alert["fingerprint"] = fingerprint()
    return body, down["labels"]["serial"], rx_low["labels"]["serial_number"]


def resolution_of(group: dict[str, Any]) -> dict[str, Any]:
    """The group's first alert, resolved, as Alertmanager sends it."""
    body = copy.deepcopy(group)
    alert = body["alerts"][0]
    alert |= {"status": "resolved", "endsAt": "2025-06-13T04:58:10.004271923Z"}
    body |= {"status": "resolved", "alerts": [alert]}
    return body


async def post(
    client: httpx.AsyncClient,
    path: str,
    body: dict[str, Any] | bytes,
    secret: str | None = SECRET,
    **headers: str,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **headers}
    if secret is not None:
        sent["Authorization"] = f"Bearer {secret}"
    return await client.post(path, content=content, headers=sent)


async def staged(engine: AsyncEngine, serial: str) -> list[Envelope]:
    """What reached the outbox for the device, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT envelope::text FROM outbox WHERE topic = :topic AND key = :serial "
                "ORDER BY id"
            ),
            {"topic": NETWORK_DEVICE_EVENTS.name, "serial": serial},
        )
        return [Envelope.model_validate_json(row[0]) for row in rows]


def outcomes(response: httpx.Response) -> list[str]:
    assert response.status_code == 202, response.text
    return [outcome["outcome"] for outcome in response.json()["outcomes"]]


# Alertmanager -------------------------------------------------------------------------------


async def test_a_firing_group_stages_one_event_per_device_keyed_by_serial(monitoring, engine):
    body, failed, degraded = firing_group()

    response = await post(monitoring, ALERTMANAGER, body)

    assert outcomes(response) == ["accepted", "accepted", "skipped"]
    answer = response.json()
    assert (answer["source"], answer["accepted"], answer["skipped"]) == ("alertmanager", 2, 1)
    assert answer["outcomes"][2]["reason"].startswith("no serial")
    [event] = await staged(engine, failed)
    assert (event.event_type, event.producer, str(event.event_id)) == (
        "monitoring.device.failed",
        "alertmanager",
        answer["outcomes"][0]["event_id"],
    )
    assert event.occurred_at.isoformat() == "2025-06-13T02:17:44.512946+00:00"
    assert event.payload == {
        "serial": failed,
        "mac": "e0:1f:2b:3c:4d:5e",
        "site": "CUST-099317",
        "severity": "critical",
        "source": "alertmanager",
        "detail": "OntDown: ONT ALCLB2C4D6E8 is down (LOS)",
        "firmware_version": "3FE49568IJHK15",
        "observed_at": "2025-06-13T02:17:44.512946Z",
    }
    assert read_payload(event, DeviceFailed).serial == failed
    [other] = await staged(engine, degraded)
    assert other.event_type == "monitoring.device.degraded"


async def test_a_resolved_alert_stages_a_recovery_after_the_failure(monitoring, engine):
    body, failed, _ = firing_group()
    await post(monitoring, ALERTMANAGER, body)

    response = await post(monitoring, ALERTMANAGER, resolution_of(body))

    assert outcomes(response) == ["accepted"]
    events = await staged(engine, failed)
    assert [e.event_type for e in events] == [
        "monitoring.device.failed",
        "monitoring.device.recovered",
    ]
    assert events[1].payload["observed_at"] == "2025-06-13T04:58:10.004271Z"


async def test_a_repeated_notification_is_answered_duplicate_and_staged_once(monitoring, engine):
    body, failed, degraded = firing_group()
    first = await post(monitoring, ALERTMANAGER, body)
    repeat = copy.deepcopy(body)
    repeat["alerts"][0]["annotations"]["summary"] = "ONT is down (LOS) for 4h now"

    again = await post(monitoring, ALERTMANAGER, repeat)

    assert outcomes(again) == ["duplicate", "duplicate", "skipped"]
    assert again.json()["outcomes"][0]["event_id"] == first.json()["outcomes"][0]["event_id"]
    assert len(await staged(engine, failed)) == 1
    assert len(await staged(engine, degraded)) == 1


async def test_the_same_alert_twice_in_one_group_is_staged_once(monitoring, engine):
    body, failed, _ = firing_group()
    body["alerts"].append(copy.deepcopy(body["alerts"][0]))

    response = await post(monitoring, ALERTMANAGER, body)

    assert outcomes(response) == ["accepted", "accepted", "skipped", "duplicate"]
    assert len(await staged(engine, failed)) == 1


async def test_concurrent_copies_of_a_notification_stage_it_once(monitoring, engine):
    body, failed, _ = firing_group()

    answers = await asyncio.gather(*(post(monitoring, ALERTMANAGER, body) for _ in range(4)))

    firsts = sorted(outcomes(answer)[0] for answer in answers)
    assert firsts == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert len(await staged(engine, failed)) == 1


async def test_an_id_already_used_for_another_device_is_a_conflict_and_the_rest_accepted(
    monitoring, engine
):
    body, failed, _ = firing_group()
    await post(monitoring, ALERTMANAGER, body)
    clash = copy.deepcopy(body)
    clash["alerts"][0]["labels"]["serial"] = other = ref("ALCL")
    clash["alerts"][1]["fingerprint"] = fingerprint()
    clash["alerts"][1]["labels"]["serial_number"] = fresh = ref("ALCL")

    response = await post(monitoring, ALERTMANAGER, clash)

    assert outcomes(response) == ["conflict", "accepted", "skipped"]
    assert response.json()["conflict"] == 1
    assert await staged(engine, other) == []
    assert len(await staged(engine, failed)) == 1
    assert len(await staged(engine, fresh)) == 1


async def test_a_truncated_group_accepts_what_came_and_says_what_did_not(monitoring, engine):
    body, failed, _ = firing_group()
    body["truncatedAlerts"] = 7

    response = await post(monitoring, ALERTMANAGER, body)

    assert outcomes(response) == ["accepted", "accepted", "skipped"]
    assert response.json()["truncated_alerts"] == 7
    assert len(await staged(engine, failed)) == 1


async def test_a_signed_call_needs_no_bearer_secret(monitoring, engine):
    body, failed, _ = firing_group()
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()

    response = await post(
        monitoring, ALERTMANAGER, raw, secret=None, **{"X-Stockwire-Signature": signature}
    )

    assert outcomes(response)[0] == "accepted"
    assert len(await staged(engine, failed)) == 1


# Refused: nothing written -------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-the-monitoring-secret",
        f"Bearer {WRITER_TOKEN}",
        f"Basic {SECRET}",
        f"Bearer {SECRET}x",
        "Bearer",
    ],
    ids=["none", "wrong secret", "api token", "basic", "longer", "empty bearer"],
)
async def test_a_call_without_the_secret_is_401_and_writes_nothing(
    monitoring, engine, authorization
):
    body, failed, _ = firing_group()
    headers = {"Authorization": authorization} if authorization else {}

    response = await post(monitoring, ALERTMANAGER, body, secret=None, **headers)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert await staged(engine, failed) == []


async def test_a_wrong_signature_is_401_even_with_the_bearer_secret(monitoring, engine):
    body, failed, _ = firing_group()

    response = await post(
        monitoring, ALERTMANAGER, body, **{"X-Stockwire-Signature": "sha256=" + "0" * 64}
    )

    assert response.status_code == 401, response.text
    assert await staged(engine, failed) == []


async def test_payload_version_3_is_422_naming_the_version_and_writes_nothing(monitoring, engine):
    body, failed, _ = firing_group()
    body["version"] = "3"

    response = await post(monitoring, ALERTMANAGER, body)

    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["field"] == "version"
    assert (
        problem["reason"] == "is '3'; this webhook reads Alertmanager's payload version \"4\" only"
    )
    assert await staged(engine, failed) == []


def malformed(change: str) -> tuple[bytes, str, str]:
    """A group gone wrong one way: its body, the serial it names and the field at fault."""
    body, failed, _ = firing_group()
    alert = body["alerts"][0]
    field = f"alerts.0.{change}"
    if change == "not json":
        return json.dumps(body).encode()[:-1], failed, "body"
    if change == "a list":
        return json.dumps([body]).encode(), failed, "body"
    if change == "alerts":
        del body["alerts"]
        field = "alerts"
    elif change == "status":
        alert["status"] = "pending"
    elif change == "labels":
        alert["labels"]["pon_port"] = 12
        field = "alerts.0.labels.pon_port"
    elif change == "startsAt":
        alert["startsAt"] = "yesterday"
    elif change == "fingerprint":
        alert["fingerprint"] = "not-a-hash"
    elif change == "truncatedAlerts":
        body["truncatedAlerts"] = -1
        field = "truncatedAlerts"
    return json.dumps(body).encode(), failed, field


@pytest.mark.parametrize(
    "change",
    [
        "not json",
        "a list",
        "alerts",
        "status",
        "labels",
        "startsAt",
        "fingerprint",
        "truncatedAlerts",
    ],
)
async def test_a_malformed_group_is_422_naming_the_field_and_writes_nothing(
    monitoring, engine, change
):
    body, failed, field = malformed(change)

    response = await post(monitoring, ALERTMANAGER, body)

    assert response.status_code == 422, response.text
    assert field in [problem["field"] for problem in response.json()["problems"]]
    assert await staged(engine, failed) == []


@pytest.mark.parametrize(
    ("path", "cap"),
    [(ALERTMANAGER, 1024 * 1024), (ZABBIX, 64 * 1024), (LIBRENMS, 256 * 1024)],
)
async def test_a_body_over_the_cap_is_413_and_writes_nothing(monitoring, engine, path, cap):
    body, failed, _ = firing_group()
    body["alerts"][0]["annotations"]["description"] = "x" * cap

    response = await post(monitoring, path, body)

    assert response.status_code == 413, response.text
    assert await staged(engine, failed) == []


async def test_an_alertmanager_group_near_its_cap_is_read(monitoring, engine):
    body, failed, _ = firing_group()
    body["alerts"][0]["annotations"]["description"] = "x" * (900 * 1024)

    response = await post(monitoring, ALERTMANAGER, body)

    assert outcomes(response)[0] == "accepted"
    assert len(await staged(engine, failed)) == 1


async def test_without_a_configured_secret_the_webhooks_are_off_with_503(assets_settings):
    app, _ = bootstrap(assets_settings, consumers=False)
    body, _, _ = firing_group()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://assets.test"
    ) as client:
        for path, sent in (
            (ALERTMANAGER, body),
            (ZABBIX, sample("zabbix_problem")),
            (LIBRENMS, sample("librenms_active")),
        ):
            response = await post(client, path, sent)

            assert response.status_code == 503, response.text
            assert response.json()["error"] == "not_configured"
            assert "STOCKWIRE_ASSETS_MONITORING_WEBHOOK_SECRET" in response.json()["detail"]


# Zabbix -------------------------------------------------------------------------------------


def zabbix_pair() -> tuple[dict[str, Any], dict[str, Any], str]:
    """A fresh problem, its recovery, and the serial their tags name."""
    serial, event_id = ref("FOC"), str(secrets.randbelow(10**12))
    tags = [{"tag": "serial", "value": serial}, {"tag": "site", "value": "POP-TX-AUS-02"}]
    problem = sample("zabbix_problem") | {"event_id": event_id, "event_tags": tags}
    recovery = sample("zabbix_recovery") | {"event_id": event_id, "event_tags": tags}
    return problem, recovery, serial


async def test_a_zabbix_problem_and_its_recovery_stage_a_failure_then_a_recovery(
    monitoring, engine
):
    problem, recovery, serial = zabbix_pair()

    first = await post(monitoring, ZABBIX, problem)
    second = await post(monitoring, ZABBIX, recovery)
    again = await post(monitoring, ZABBIX, recovery)

    assert (outcomes(first), outcomes(second), outcomes(again)) == (
        ["accepted"],
        ["accepted"],
        ["duplicate"],
    )
    events = await staged(engine, serial)
    assert [(e.event_type, e.producer) for e in events] == [
        ("monitoring.device.failed", "zabbix"),
        ("monitoring.device.recovered", "zabbix"),
    ]
    assert events[0].payload["site"] == "POP-TX-AUS-02"
    assert events[0].payload["severity"] == "major"


async def test_a_zabbix_problem_update_is_skipped_and_writes_nothing(monitoring, engine):
    problem, _, serial = zabbix_pair()

    response = await post(monitoring, ZABBIX, problem | {"event_update_status": 1})

    assert outcomes(response) == ["skipped"]
    assert await staged(engine, serial) == []


async def test_a_zabbix_event_with_a_wrong_value_is_422_and_writes_nothing(monitoring, engine):
    problem, _, serial = zabbix_pair()

    response = await post(monitoring, ZABBIX, problem | {"event_value": "1"})

    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["problems"]] == ["event_value"]
    assert await staged(engine, serial) == []


# LibreNMS -----------------------------------------------------------------------------------


def librenms_pair() -> tuple[dict[str, Any], dict[str, Any], str]:
    serial, uid = ref("ALCL"), secrets.randbelow(10**9)
    active = sample("librenms_active")
    recovered = sample("librenms_recovered")
    active |= {"uid": uid, "device": active["device"] | {"serial": serial}}
    recovered |= {"uid": uid + 1, "device": recovered["device"] | {"serial": serial}}
    return active, recovered, serial


async def test_a_librenms_alert_and_its_recovery_stage_a_failure_then_a_recovery(
    monitoring, engine
):
    active, recovered, serial = librenms_pair()

    first = await post(monitoring, LIBRENMS, active)
    repeat = await post(monitoring, LIBRENMS, active)
    second = await post(monitoring, LIBRENMS, recovered)

    assert (outcomes(first), outcomes(repeat), outcomes(second)) == (
        ["accepted"],
        ["duplicate"],
        ["accepted"],
    )
    events = await staged(engine, serial)
    assert [e.event_type for e in events] == [
        "monitoring.device.failed",
        "monitoring.device.recovered",
    ]
    failed = read_payload(events[0], DeviceEvent)
    assert (failed.site, failed.firmware_version, failed.source) == (
        "CUST-099317",
        "3FE49568IJHK15",
        "librenms",
    )
    assert events[0].occurred_at.isoformat() == "2025-06-13T02:17:44+00:00"


async def test_an_acknowledged_librenms_alert_is_skipped_and_writes_nothing(monitoring, engine):
    active, _, serial = librenms_pair()

    response = await post(monitoring, LIBRENMS, active | {"state": 2})

    assert outcomes(response) == ["skipped"]
    assert await staged(engine, serial) == []
