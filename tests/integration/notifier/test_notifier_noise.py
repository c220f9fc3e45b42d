"""Noise control through the notifier's real wiring, over HTTP, the real broker and real
local receivers: silences, inhibition, grouping, digests, rate limits, escalation and
acknowledgement, email, secrets kept out of logs and answers, and hostile input.

Rules, silences and inhibitions are global in the shared test database, so every one here
is scoped by random locations: no test sees another's alerts.
"""

import asyncio
import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from notifier_refs import (
    CONSUMER_JOIN_S,
    chat_channel,
    eventually,
    publish,
    ref,
    rule_for,
    stockout,
)

from stockwire.contracts.stock import StockAlertResolved
from stockwire.contracts.topics import NOTIFIER_ACKNOWLEDGEMENTS
from stockwire.contracts.vocabulary import AlertKind, AlertSeverity
from stockwire.devstack.receivers import ChatReceiver, ReceivedRequest, SmtpSink
from stockwire.notifier import handlers
from stockwire.notifier.bootstrap import links_of
from stockwire.notifier.domain.alerts import Alert, Resolution
from stockwire.notifier.handlers import Incoming, Messenger
from stockwire.notifier.settings import NotifierSettings
from stockwire.notifier.unit_of_work import NotifierUnitOfWork
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import Settings

QUIET_S = 2.0
"""How long "nothing arrived" is watched for, after a later marker alert did arrive."""


def mentions(request: ReceivedRequest, text: str) -> bool:
    return text in request.body.decode()


async def firing_alert(client: httpx.AsyncClient, location: str) -> dict[str, Any] | None:
    items = (await client.get("/api/v1/alerts")).json()["items"]
    return next((a for a in items if a["location"] == location), None)


async def held_as(client: httpx.AsyncClient, location: str) -> str | None:
    alert = await firing_alert(client, location)
    return alert["held"] if alert else None


async def marker_through(
    writer: httpx.AsyncClient, producer: AIOKafkaProducer, channel: str, chat: ChatReceiver
) -> None:
    """Publish one more alert, routed to ``channel``, and wait until it arrives: anything
    published before it has been consumed and decided by then."""
    place = ref("MARK")
    await rule_for(writer, place, channel)
    before = len(chat.requests)
    await publish(producer, stockout(place))
    await chat.wait_for(before + 1, within_s=CONSUMER_JOIN_S)
    await asyncio.sleep(QUIET_S)


async def test_a_silence_mutes_a_warning_until_it_is_deleted(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    # Given a rule for a van and a silence on that van for an hour
    van = ref("VAN")
    channel = await chat_channel(writer, chat)
    await rule_for(writer, van, channel)
    silence = await writer.post(
        "/api/v1/silences",
        json={
            "matchers": [{"attribute": "location", "values": [van]}],
            "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "created_by": "noc",
            "comment": "van in the workshop",
        },
    )
    assert silence.status_code == 201, silence.text
    assert silence.json()["active"] is True

    # When a warning fires there
    await publish(producer, stockout(van))
    await marker_through(writer, producer, channel, chat)

    # Then nothing about it is delivered, and it is held as silenced
    assert not any(mentions(r, van) for r in chat.requests)
    assert await eventually(lambda: held_as(writer, van), "silenced") == "silenced"

    # When the silence is deleted, the held alert is told
    ended = await writer.delete(f"/api/v1/silences/{silence.json()['silence_id']}")
    assert ended.status_code == 200, ended.text
    assert ended.json()["active"] is False

    async def told() -> list[ReceivedRequest]:
        return [r for r in chat.requests if mentions(r, van)]

    assert len(await eventually(told, None)) == 1
    assert await held_as(writer, van) is None


async def test_a_site_outage_inhibits_stockout_warnings_at_the_same_site(
    writer: httpx.AsyncClient,
    chat: ChatReceiver,
    producer: AIOKafkaProducer,
    notifier_service: tuple[FastAPI, ServiceRuntime],
    notifier_settings: NotifierSettings,
) -> None:
    # Given an inhibition (a critical site_outage mutes stockout warnings at its location),
    # a rule sending stockouts at two sites to chat, and an outage firing at the first.
    # No topic carries a site_outage yet (stock's kinds are closed; assets' topic does not
    # exist), so the outage enters through the use case the alert consumer calls.
    down, up = ref("POP"), ref("POP")
    channel = await chat_channel(writer, chat)
    for site in (down, up):
        await rule_for(
            writer,
            site,
            channel,
            matchers=[
                {"attribute": "location", "values": [site]},
                {"attribute": "kind", "values": ["stockout"]},
            ],
        )
    inhibition = await writer.post(
        "/api/v1/inhibitions",
        json={
            "name": ref("outage-mutes-stockouts"),
            "source": [
                {"attribute": "kind", "values": ["site_outage"]},
                {"attribute": "severity", "values": ["critical"]},
            ],
            "target": [
                {"attribute": "kind", "values": ["stockout"]},
                {"attribute": "severity", "values": ["warning"]},
            ],
            "equal": ["location"],
        },
    )
    assert inhibition.status_code == 201, inhibition.text
    _, runtime = notifier_service
    messenger = Messenger(notifier_settings, links_of(notifier_settings))
    outage = Alert(
        dedup_key=f"site_outage:{down}",
        alert_id=uuid.uuid4(),
        kind="site_outage",
        severity=AlertSeverity.CRITICAL,
        summary=f"{down} is down",
        raised_at=datetime.now(UTC),
        producer="network",
        location=down,
    )
    await handlers.receive(
        [Incoming(outage)], NotifierUnitOfWork(runtime.sessions, runtime.outbox), messenger
    )

    try:
        # When stockout warnings fire at both sites
        await publish(producer, stockout(down))
        await publish(producer, stockout(up))

        # Then only the site that is up is told; the other's is held as inhibited
        [told] = await chat.wait_for(1, within_s=CONSUMER_JOIN_S)
        await asyncio.sleep(QUIET_S)
        assert mentions(told, up)
        assert not any(mentions(r, down) for r in chat.requests)
        assert await eventually(lambda: held_as(writer, down), "inhibited") == "inhibited"

        # When the outage clears, the held warning is told
        cleared = Resolution(
            dedup_key=outage.dedup_key,
            kind="site_outage",
            summary=f"{down} is back",
            resolved_at=datetime.now(UTC),
            location=down,
        )
        await handlers.receive(
            [Incoming(cleared)], NotifierUnitOfWork(runtime.sessions, runtime.outbox), messenger
        )
        [_, released] = await chat.wait_for(2, within_s=10)
        assert mentions(released, down)
    finally:
        deleted = await writer.delete(f"/api/v1/inhibitions/{inhibition.json()['inhibition_id']}")
        assert deleted.status_code == 204


async def test_three_warnings_of_one_group_arrive_as_one_message(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    # Given a rule grouping by kind, waiting a second for the group to fill
    vans = [ref("VAN") for _ in range(3)]
    channel = await chat_channel(writer, chat)
    await rule_for(
        writer,
        vans[0],
        channel,
        matchers=[{"attribute": "location", "values": vans}],
        group_by=["kind"],
        timing={"group_wait_s": 1, "group_interval_s": 60, "repeat_interval_s": 3600},
    )

    # When three stockouts fire
    for van in vans:
        await publish(producer, stockout(van))

    # Then one message lists all three
    [message] = await chat.wait_for(1, within_s=CONSUMER_JOIN_S)
    await asyncio.sleep(QUIET_S)
    assert len(chat.requests) == 1
    assert all(mentions(message, van) for van in vans)

    async def logged() -> list[tuple[str, int]]:
        answer = await writer.get("/api/v1/deliveries", params={"channel": channel})
        return [(d["purpose"], len(d["dedup_keys"])) for d in answer.json()["items"]]

    assert await eventually(logged, [("group", 3)])


async def test_more_alerts_of_one_kind_than_the_digest_threshold_become_one_digest(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    # Given a rule whose digest opens beyond 2 stockouts within 3 s, each van its own group
    vans = [ref("VAN") for _ in range(5)]
    channel = await chat_channel(writer, chat)
    await rule_for(
        writer,
        vans[0],
        channel,
        matchers=[{"attribute": "location", "values": vans}],
        group_by=["location"],
        timing={"group_wait_s": 2, "group_interval_s": 60, "repeat_interval_s": 3600},
        digest={"threshold": 2, "window_s": 3},
    )

    # When five fire together
    for van in vans:
        await publish(producer, stockout(van))

    # Then one digest lists all five, and nothing else arrives
    [digest] = await chat.wait_for(1, within_s=CONSUMER_JOIN_S)
    await asyncio.sleep(QUIET_S)
    assert len(chat.requests) == 1
    assert all(mentions(digest, van) for van in vans)

    async def logged() -> list[tuple[str, int]]:
        answer = await writer.get("/api/v1/deliveries", params={"channel": channel})
        return [(d["purpose"], len(d["dedup_keys"])) for d in answer.json()["items"]]

    assert await eventually(logged, [("digest", 5)])


async def test_a_rate_limited_channel_gets_one_message_then_one_overflow_losing_nothing(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    # Given a channel taking one message per 2 s, and a rule with a group per van
    vans = [ref("VAN") for _ in range(3)]
    channel = await chat_channel(writer, chat, rate_limit={"messages": 1, "per_s": 2})
    await rule_for(
        writer,
        vans[0],
        channel,
        matchers=[{"attribute": "location", "values": vans}],
        group_by=["location"],
    )

    # When three warnings fire at once
    for van in vans:
        await publish(producer, stockout(van))

    # Then the channel gets one message, then one overflow listing the other two
    first, overflow = await chat.wait_for(2, within_s=CONSUMER_JOIN_S)
    await asyncio.sleep(QUIET_S)
    assert len(chat.requests) == 2
    assert overflow.received_at - first.received_at >= 1.5
    assert sorted(sum(mentions(r, van) for r in (first, overflow)) for van in vans) == [1, 1, 1]

    async def purposes() -> list[str]:
        answer = await writer.get("/api/v1/deliveries", params={"channel": channel})
        return sorted(d["purpose"] for d in answer.json()["items"])

    assert await eventually(purposes, ["alert", "overflow"])


async def acknowledgement_of(settings: Settings, dedup_key: str) -> dict[str, Any] | None:
    """The payload of the acknowledgement of ``dedup_key`` on its topic, read from the
    start; None if none arrives within 20 s."""
    topic = NOTIFIER_ACKNOWLEDGEMENTS.name
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(
            [TopicPartition(topic, p) for p in range(NOTIFIER_ACKNOWLEDGEMENTS.partitions)]
        )
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    payload: dict[str, Any] = json.loads(record.value or b"{}")["payload"]
                    if payload.get("dedup_key") == dedup_key:
                        return payload
    finally:
        await consumer.stop()
    return None


async def test_an_unacknowledged_critical_alert_escalates_to_the_next_channel(
    writer: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    async with ChatReceiver() as first, ChatReceiver() as second:
        # Given a rule to a first channel, escalating to a second after 1 s
        site = ref("POP")
        first_name = await chat_channel(writer, first)
        second_name = await chat_channel(writer, second)
        await rule_for(
            writer, site, first_name, escalation=[{"after_s": 1, "channels": [second_name]}]
        )

        # When a critical alert fires there and nobody acknowledges it
        await publish(producer, stockout(site, AlertSeverity.CRITICAL))
        [told] = await first.wait_for(1, within_s=CONSUMER_JOIN_S)

        # Then the second channel is told too, about a second later
        [escalated] = await second.wait_for(1, within_s=10)
        assert mentions(escalated, site)
        assert escalated.received_at - told.received_at >= 0.8


async def test_an_acknowledged_critical_alert_does_not_escalate_and_the_ack_is_published(
    writer: httpx.AsyncClient, producer: AIOKafkaProducer, settings: Settings
) -> None:
    async with ChatReceiver() as first, ChatReceiver() as second:
        # Given a rule to a first channel, escalating to a second after 2 s
        site = ref("POP")
        first_name = await chat_channel(writer, first)
        second_name = await chat_channel(writer, second)
        await rule_for(
            writer, site, first_name, escalation=[{"after_s": 2, "channels": [second_name]}]
        )
        alert = stockout(site, AlertSeverity.CRITICAL)
        await publish(producer, alert)
        await first.wait_for(1, within_s=CONSUMER_JOIN_S)

        # When it is acknowledged over the API before the step is due
        answer = await writer.post(
            f"/api/v1/alerts/{alert.dedup_key}/ack",
            json={"acknowledged_by": "alice", "note": "on my way"},
        )

        # Then the second channel hears nothing, and the ack is on its topic
        assert answer.status_code == 200, answer.text
        await asyncio.sleep(4)
        assert second.requests == []
        published = await acknowledgement_of(settings, alert.dedup_key)
        assert published is not None
        assert published["acknowledged_by"] == "alice"
        assert published["via"] == "api"
        assert published["note"] == "on my way"
        assert published["kind"] == "stockout"


async def test_an_email_channel_sends_text_and_html_to_its_recipient(
    writer: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    smtp_sink: SmtpSink,
) -> None:
    # Given an email channel with a recipient, and a rule to it
    van = ref("VAN")
    name = ref("mail").lower()
    recipient = f"{name}@ops.example.net"
    answer = await writer.put(
        f"/api/v1/channels/{name}", json={"type": "email", "recipients": [recipient]}
    )
    assert answer.status_code == 200, answer.text
    await rule_for(writer, van, name)

    # When a stockout fires there
    await publish(producer, stockout(van))

    # Then one email reaches the recipient, in text and HTML, about that van
    async def mails() -> list[Any]:
        return [m for m in smtp_sink.messages if recipient in m.rcpt_tos]

    [mail] = await eventually(mails, None)
    plain = mail.message.get_body(("plain",)).get_content()
    html = mail.message.get_body(("html",)).get_content()
    assert van in plain and "ONT-G240" in plain
    assert van in html and "<" in html
    # And the attempt is counted once it has ended, just after the mail server has the mail
    sent = f'stockwire_notifier_delivery_attempts_total{{channel="{name}",outcome="sent"}} 1.0'

    async def counted() -> bool:
        return sent in (await writer.get("/metrics")).text

    assert await eventually(counted, True)


async def test_a_channel_secret_never_reaches_the_logs_or_any_answer(
    writer: httpx.AsyncClient, producer: AIOKafkaProducer, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a channel whose URL carries a secret (password, path and header) and whose
    # receiver keeps failing, and the logs at DEBUG, Apprise's and urllib3's included
    secret = "s3cr3t" + uuid.uuid4().hex
    caplog.set_level(logging.DEBUG)
    for name in ("apprise", "urllib3", "httpx", "httpcore", "stockwire"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with ChatReceiver() as broken:
        broken.fail_next(100, status=500)
        name = ref("leaky").lower()
        url = f"json://svc:{secret}@127.0.0.1:{broken.port}/{secret}?+X-Token={secret}"
        answer = await writer.put(f"/api/v1/channels/{name}", json={"type": "json", "url": url})
        assert answer.status_code == 200, answer.text
        van = ref("VAN")
        await rule_for(writer, van, name)

        # When an alert is sent there, and fails until it is dead
        await publish(producer, stockout(van))

        async def dead() -> list[dict[str, Any]]:
            params = {"channel": name, "status": "dead"}
            found: list[dict[str, Any]] = (
                await writer.get("/api/v1/deliveries", params=params)
            ).json()["items"]
            return found

        [delivery] = await eventually(dead, None)
        assert broken.requests and all(secret in r.path for r in broken.requests)

        # Then the secret is in no log record and no answer
        test_send = await writer.post(
            f"/api/v1/channels/{name}/test", json={"kind": "stockout", "severity": "warning"}
        )
        answers = [
            answer,
            test_send,
            await writer.get("/api/v1/channels"),
            await writer.get(f"/api/v1/channels/{name}"),
            await writer.get("/api/v1/deliveries", params={"channel": name}),
            await writer.get(f"/api/v1/deliveries/{delivery['delivery_id']}"),
            await writer.put(
                f"/api/v1/channels/{name}",
                json={"type": "slack", "url": f"json://svc:{secret}@bad host/{secret}"},
            ),
        ]
    assert test_send.json()["ok"] is False
    assert answers[-1].status_code == 422
    assert [a.request.url.path for a in answers if secret in a.text] == []
    assert any("delivery" in r.getMessage() for r in caplog.records)
    leaked = [r.getMessage() for r in caplog.records if secret in r.getMessage()]
    assert leaked == []
    assert secret not in caplog.text


# ------------------------------------------------------------------ hostile input


async def test_acknowledging_an_unknown_alert_is_not_found(writer: httpx.AsyncClient) -> None:
    answer = await writer.post(
        f"/api/v1/alerts/stockout:NOPE@{ref('NOWHERE')}/ack", json={"acknowledged_by": "alice"}
    )

    assert answer.status_code == 404, answer.text


async def test_acknowledging_a_resolved_alert_is_a_conflict(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    van = ref("VAN")
    channel = await chat_channel(writer, chat)
    await rule_for(writer, van, channel)
    alert = stockout(van)
    await publish(producer, alert)
    await chat.wait_for(1, within_s=CONSUMER_JOIN_S)
    await publish(
        producer,
        StockAlertResolved(
            kind=AlertKind.STOCKOUT,
            dedup_key=alert.dedup_key,
            summary=f"ONT-G240 is available again at {van}",
            sku="ONT-G240",
            location=van,
            resolved_at=datetime.now(UTC),
        ),
    )
    await chat.wait_for(2, within_s=20)

    answer = await writer.post(
        f"/api/v1/alerts/{alert.dedup_key}/ack", json={"acknowledged_by": "alice"}
    )

    assert answer.status_code == 409, answer.text
    assert answer.json()["problems"][0]["reason"]


async def test_a_silence_ending_in_the_past_is_refused(writer: httpx.AsyncClient) -> None:
    answer = await writer.post(
        "/api/v1/silences",
        json={
            "matchers": [{"attribute": "location", "values": [ref("VAN")]}],
            "ends_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "created_by": "noc",
        },
    )

    assert answer.status_code == 422, answer.text
    assert any(p["field"].endswith("ends_at") for p in answer.json()["problems"])


@pytest.mark.parametrize(
    "matchers",
    [
        [{"attribute": "colour", "values": ["red"]}],
        [{"attribute": "location", "values": []}],
        [{"attribute": "location"}],
        [{"attribute": "location", "values": ["VAN-1"], "regex": ".*"}],
        [{"attribute": "label:", "values": ["x"]}],
        [],
        "location=VAN-1",
    ],
)
async def test_a_silence_with_malformed_matchers_is_refused_with_the_reason(
    writer: httpx.AsyncClient, matchers: Any
) -> None:
    answer = await writer.post(
        "/api/v1/silences",
        json={
            "matchers": matchers,
            "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "created_by": "noc",
        },
    )

    assert answer.status_code == 422, answer.text
    problems = answer.json()["problems"]
    assert problems and all(p["reason"] and "matchers" in p["field"] for p in problems)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/silences", {"surprise": 1}),
        ("/api/v1/alerts/stockout:X@Y/ack", {"acknowledged_by": "a", "surprise": 1}),
        ("/api/v1/inhibitions", {"surprise": 1}),
    ],
)
async def test_unknown_fields_are_refused(
    writer: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    answer = await writer.post(path, json=body)

    assert answer.status_code == 422, answer.text
    assert any(p["field"].endswith("surprise") for p in answer.json()["problems"])


async def test_an_unknown_field_on_a_channel_is_refused(writer: httpx.AsyncClient) -> None:
    answer = await writer.put(
        f"/api/v1/channels/{ref('x').lower()}",
        json={"type": "json", "url": "json://127.0.0.1:9/hook", "password": "x"},
    )

    assert answer.status_code == 422, answer.text


async def test_an_oversized_body_is_refused_before_it_is_read(
    writer: httpx.AsyncClient,
) -> None:
    comment = "x" * (2 * 1024 * 1024)
    answer = await writer.post(
        "/api/v1/silences",
        json={
            "matchers": [{"attribute": "location", "values": ["VAN-1"]}],
            "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "created_by": "noc",
            "comment": comment,
        },
    )

    assert answer.status_code == 413, answer.text


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "notifier-writer-token"],
)
async def test_a_bad_token_is_refused(
    notifier_service: tuple[FastAPI, ServiceRuntime], authorization: str
) -> None:
    transport = httpx.ASGITransport(app=notifier_service[0])
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://notifier.test",
        headers={"Authorization": authorization},
    ) as client:
        listed = await client.get("/api/v1/channels")
        acked = await client.post("/api/v1/alerts/stockout:X@Y/ack", json={"acknowledged_by": "a"})

    assert listed.status_code == 401, listed.text
    assert acked.status_code == 401, acked.text
