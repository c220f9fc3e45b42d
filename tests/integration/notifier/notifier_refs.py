"""What the notifier's integration tests share: tokens and secrets, and the helpers that
publish alerts and make channels and rules (imported by file name, like stock's
``stock_refs``, so it cannot be mistaken for another directory's conftest)."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import wrap
from stockwire.contracts.stock import StockAlertRaised
from stockwire.contracts.topics import topic_for
from stockwire.contracts.vocabulary import AlertKind, AlertSeverity
from stockwire.devstack.receivers import ChatReceiver

WRITER_TOKEN = "notifier-writer-token"
READER_TOKEN = "notifier-reader-token"
LINK_SECRET = "a-link-secret-for-tests"


CONSUMER_JOIN_S = 40.0
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], expected: T | None) -> T:
    """``check()`` once it equals ``expected`` (or, with None, is not empty), within 10 s:
    a delivery is recorded just after the receiver has it."""
    for _ in range(100):
        found = await check()
        if (found == expected) if expected is not None else found:
            return found
        await asyncio.sleep(0.1)
    return found


def ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


async def publish(producer: AIOKafkaProducer, payload: Event) -> None:
    spec = topic_for(type(payload))
    envelope = wrap(payload, producer="stock")
    await producer.send_and_wait(
        spec.name, value=envelope.model_dump_json().encode(), key=spec.key_for(payload).encode()
    )


def stockout(location: str, severity: AlertSeverity = AlertSeverity.WARNING) -> StockAlertRaised:
    return StockAlertRaised(
        alert_id=uuid.uuid4(),
        kind=AlertKind.STOCKOUT,
        severity=severity,
        dedup_key=f"stockout:ONT-G240@{location}",
        summary=f"ONT-G240 is out of stock at {location}",
        sku="ONT-G240",
        location=location,
        region="TX-NORTH",
        figures={"available": Decimal(0), "was_available": Decimal(2)},
        link="http://stock.example/api/v1/balances?sku=ONT-G240",
        raised_at=datetime.now(UTC),
    )


async def chat_channel(writer: httpx.AsyncClient, chat: ChatReceiver, **extra: Any) -> str:
    name = ref("chat").lower()
    answer = await writer.put(
        f"/api/v1/channels/{name}", json={"type": "json", "url": chat.json_url(), **extra}
    )
    assert answer.status_code == 200, answer.text
    return name


async def rule_for(writer: httpx.AsyncClient, location: str, channel: str, **extra: Any) -> None:
    body = {
        "name": ref("rule"),
        "position": 10,
        "matchers": [{"attribute": "location", "values": [location]}],
        "channels": [channel],
        "timing": {"group_wait_s": 0, "group_interval_s": 1, "repeat_interval_s": 3600},
        **extra,
    }
    answer = await writer.post("/api/v1/rules", json=body)
    assert answer.status_code == 201, answer.text
