"""Alerts on a real alert topic reach a real local chat receiver through the notifier's
real wiring: routing, the delivery log, resolved follow-ups, acknowledgement by link,
retries and the dead letter's fallback, and bad input refused with the reason."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from notifier_refs import (
    CONSUMER_JOIN_S,
    LINK_SECRET,
    chat_channel,
    eventually,
    publish,
    ref,
    rule_for,
    stockout,
)

from stockwire.contracts.catalog import LocationUpserted
from stockwire.contracts.stock import StockAlertResolved
from stockwire.contracts.vocabulary import AlertKind, AlertSeverity, LocationKind
from stockwire.devstack.receivers import ChatReceiver
from stockwire.notifier.tables import CATALOG_COPY, deliveries, delivery_attempts
from stockwire.runtime.purging import purge_older


async def test_a_stockout_reaches_chat_and_its_resolution_follows(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    van = ref("VAN")
    channel = await chat_channel(writer, chat)
    await rule_for(writer, van, channel)

    await publish(producer, stockout(van))
    [message] = await chat.wait_for(1, within_s=CONSUMER_JOIN_S)

    assert van in (message.text or "")
    assert "ONT-G240" in (message.text or "")
    await publish(
        producer,
        StockAlertResolved(
            kind=AlertKind.STOCKOUT,
            dedup_key=f"stockout:ONT-G240@{van}",
            summary=f"ONT-G240 is available again at {van}",
            sku="ONT-G240",
            location=van,
            resolved_at=datetime.now(UTC),
        ),
    )
    _, follow_up = await chat.wait_for(2, within_s=20)
    assert "resolved" in (follow_up.text or "").lower() or "resolved" in str(follow_up.json)

    async def logged() -> list[tuple[str, str]]:
        answer = await writer.get("/api/v1/deliveries", params={"channel": channel})
        return [(d["purpose"], d["status"]) for d in answer.json()["items"]]

    assert await eventually(logged, [("resolved", "sent"), ("alert", "sent")])


async def test_the_same_alert_twice_is_told_once(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    van = ref("VAN")
    channel = await chat_channel(writer, chat)
    await rule_for(writer, van, channel)

    await publish(producer, stockout(van))
    await publish(producer, stockout(van))
    await chat.wait_for(1, within_s=CONSUMER_JOIN_S)

    marker = stockout(ref("VAN"))
    await rule_for(writer, marker.location, channel)
    await publish(producer, marker)
    await chat.wait_for(2, within_s=20)
    assert sum(van in (r.text or "") for r in chat.delivered) == 1


async def test_a_critical_alert_is_acknowledged_by_the_signed_link_in_its_message(
    writer: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    chat: ChatReceiver,
    producer: AIOKafkaProducer,
) -> None:
    site = ref("POP")
    channel = await chat_channel(writer, chat)
    await rule_for(writer, site, channel)

    await publish(producer, stockout(site, AlertSeverity.CRITICAL))
    [message] = await chat.wait_for(1, within_s=CONSUMER_JOIN_S)
    link = next(word for word in (message.text or "").split() if "/api/v1/ack/" in word)
    path = link[link.index("/api/v1/ack/") :].rstrip(")>.,")

    answer = await anonymous.get(path)

    assert answer.status_code == 200, answer.text
    firing = (await writer.get("/api/v1/alerts")).json()["items"]
    [alert] = [a for a in firing if a["location"] == site]
    assert alert["acknowledged_by"] == "link"
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await anonymous.get(forged)).status_code == 422
    assert LINK_SECRET not in message.body.decode()


async def test_a_receiver_that_keeps_failing_gets_a_dead_letter_told_to_the_fallback(
    writer: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    async with ChatReceiver() as broken, ChatReceiver() as fallback:
        fallback_name = await chat_channel(writer, fallback)
        channel = await chat_channel(writer, broken, fallback=fallback_name)
        broken.fail_next(100, status=503)
        van = ref("VAN")
        await rule_for(writer, van, channel)

        await publish(producer, stockout(van))
        [told] = await fallback.wait_for(1, within_s=CONSUMER_JOIN_S)

        assert channel in (told.text or "")

        async def dead_ones() -> list[dict[str, Any]]:
            params = {"channel": channel, "status": "dead"}
            items: list[dict[str, Any]] = (
                await writer.get("/api/v1/deliveries", params=params)
            ).json()["items"]
            return items

        [dead] = await eventually(dead_ones, None)
        detail = (await writer.get(f"/api/v1/deliveries/{dead['delivery_id']}")).json()
        assert [a["ok"] for a in detail["attempt_log"]] == [False, False, False]
        assert all("503" in (a["error"] or "") for a in detail["attempt_log"])


async def test_a_channel_answer_never_shows_its_secret(writer: httpx.AsyncClient) -> None:
    name = ref("mm").lower()
    secret = "s3cr3t" + uuid.uuid4().hex

    answer = await writer.put(
        f"/api/v1/channels/{name}",
        json={"type": "mattermost", "url": f"mmost://chat.example/{secret}"},
    )

    assert answer.status_code == 200, answer.text
    assert secret not in answer.text
    assert secret not in (await writer.get("/api/v1/channels")).text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channels": []}, "channels"),
        ({"channels": ["no-such-channel"]}, "channels"),
        ({"timing": {"group_interval_s": 600, "repeat_interval_s": 60}}, "timing.repeat_interval"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}}, None),
        ({"matchers": [{"attribute": "colour", "values": ["red"]}]}, None),
        (
            {
                "escalation": [
                    {"after_s": 600, "channels": ["x"]},
                    {"after_s": 60, "channels": ["x"]},
                ]
            },
            None,
        ),
        ({"position": -1}, "position"),
    ],
)
async def test_a_bad_rule_is_refused_with_the_reason(
    writer: httpx.AsyncClient, chat: ChatReceiver, change: dict[str, Any], field: str | None
) -> None:
    channel = await chat_channel(writer, chat)
    body = {"name": ref("rule"), "position": 1, "channels": [channel], **change}

    answer = await writer.post("/api/v1/rules", json=body)

    assert answer.status_code == 422, answer.text
    problems = answer.json()["problems"]
    assert problems and all(p["reason"] for p in problems)
    if field:
        assert any(field in p["field"] for p in problems), problems


async def test_rules_need_a_token_with_write_scope(
    anonymous: httpx.AsyncClient, reader: httpx.AsyncClient
) -> None:
    body = {"name": "r", "position": 1, "channels": ["x"]}
    assert (await anonymous.post("/api/v1/rules", json=body)).status_code == 401
    assert (await reader.post("/api/v1/rules", json=body)).status_code == 403


async def test_the_delivery_log_is_purged_of_old_sent_deliveries_but_never_of_pending_ones(
    notifier_service: tuple[Any, Any],
) -> None:
    engine = notifier_service[1].engine
    old = datetime.now(UTC) - timedelta(days=40)
    channel = ref("purge").lower()
    rows = [
        {"status": status, "created_at": old, "delivery_id": uuid.uuid4()}
        for status in ("sent", "dead", "pending")
    ]
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(deliveries),
            [
                {
                    **row,
                    "channel": channel,
                    "purpose": "alert",
                    "recipients": [],
                    "dedup_keys": [],
                    "title": "t",
                    "text": "t",
                    "tone": "info",
                    "attempts": 1,
                    "next_attempt_at": old,
                    "trace": {},
                }
                for row in rows
            ],
        )
        await conn.execute(
            sa.insert(delivery_attempts).values(
                delivery_id=rows[0]["delivery_id"],
                attempt=1,
                started_at=old,
                ok=True,
                latency_ms=1.0,
            )
        )

    await purge_older(
        engine, deliveries, "created_at", timedelta(days=30), only="status <> 'pending'"
    )

    async with engine.connect() as conn:
        left = (
            (
                await conn.execute(
                    sa.select(deliveries.c.status).where(deliveries.c.channel == channel)
                )
            )
            .scalars()
            .all()
        )
        attempts = await conn.scalar(
            sa.select(sa.func.count()).where(
                delivery_attempts.c.delivery_id == rows[0]["delivery_id"]
            )
        )
    assert left == ["pending"]
    assert attempts == 0


async def test_a_rule_on_region_and_location_kind_matches_what_the_catalog_copy_says(
    writer: httpx.AsyncClient,
    chat: ChatReceiver,
    producer: AIOKafkaProducer,
    notifier_service: tuple[Any, Any],
) -> None:
    van, region = ref("VAN"), ref("REGION")
    await publish(
        producer,
        LocationUpserted(
            code=van,
            name=f"Van {van}",
            kind=LocationKind.TECHNICIAN_VAN,
            region=region,
            active=True,
            version=1,
            updated_at=datetime.now(UTC),
        ),
    )
    channel = await chat_channel(writer, chat)
    await rule_for(
        writer,
        van,
        channel,
        matchers=[
            {"attribute": "region", "values": [region]},
            {"attribute": "location_kind", "values": ["technician_van"]},
        ],
    )
    locations = CATALOG_COPY.locations

    async def copied() -> bool:
        async with notifier_service[1].engine.connect() as conn:
            found = await conn.scalar(sa.select(locations.c.region).where(locations.c.code == van))
        return found == region

    assert await eventually(copied, True)
    alert = stockout(van)

    await publish(producer, alert.model_copy(update={"region": None}))

    [message] = await chat.wait_for(1, within_s=CONSUMER_JOIN_S)
    assert van in (message.text or "")


async def test_the_dry_run_names_the_rules_and_channels_an_example_alert_would_reach(
    writer: httpx.AsyncClient, reader: httpx.AsyncClient, chat: ChatReceiver
) -> None:
    site = ref("POP")
    channel = await chat_channel(writer, chat)
    await rule_for(writer, site, channel)
    example = {"kind": "stockout", "severity": "critical", "location": site, "dedup_key": site}

    answer = await reader.post("/api/v1/dry-run", json=example)

    assert answer.status_code == 200, answer.text
    [rule] = answer.json()["rules"]
    assert rule["channels"] == [channel]
    assert rule["outcome"] == "immediate"
    assert answer.json()["suppressed"] is None
    assert chat.delivered == []
    elsewhere = await reader.post("/api/v1/dry-run", json={**example, "location": ref("POP")})
    assert elsewhere.json()["rules"] == [] or all(
        r["channels"] != [channel] for r in elsewhere.json()["rules"]
    )


async def test_an_acknowledgement_over_the_api_is_listed_and_kept_once(
    writer: httpx.AsyncClient, chat: ChatReceiver, producer: AIOKafkaProducer
) -> None:
    site = ref("POP")
    channel = await chat_channel(writer, chat)
    await rule_for(writer, site, channel)
    alert = stockout(site, AlertSeverity.CRITICAL)
    await publish(producer, alert)
    await chat.wait_for(1, within_s=CONSUMER_JOIN_S)
    path = f"/api/v1/alerts/{alert.dedup_key}/ack"

    first = await writer.post(path, json={"acknowledged_by": "noc-anna", "note": "on it"})
    second = await writer.post(path, json={"acknowledged_by": "noc-bob"})

    assert first.status_code == second.status_code == 200
    assert second.json()["acknowledged_by"] == "noc-anna"
    listed = await writer.get("/api/v1/acknowledgements", params={"dedup_key": alert.dedup_key})
    assert [(a["acknowledged_by"], a["via"], a["note"]) for a in listed.json()["items"]] == [
        ("noc-anna", "api", "on it")
    ]
    firing = (await writer.get("/api/v1/alerts")).json()["items"]
    [state] = [a for a in firing if a["dedup_key"] == alert.dedup_key]
    assert state["acknowledged_by"] == "noc-anna"
