"""SIGKILL the notifier while its deliveries are pending and in flight; after a restart
every alert still reaches the chat receiver, and only the deliveries in flight at the kill
can arrive twice.

The notifier runs as a real process (``python -m stockwire.notifier``) on its own database
and consumer groups; the receiver is a local Apprise JSON webhook that answers slowly and
refuses the first requests, so deliveries queue up, wait in backoff and are in flight when
the process dies.
"""

import asyncio
import hashlib
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from stockwire.contracts.envelope import wrap
from stockwire.contracts.stock import StockAlertRaised
from stockwire.contracts.topics import topic_for
from stockwire.contracts.vocabulary import AlertKind, AlertSeverity
from stockwire.devstack.receivers import ChatReceiver
from stockwire.runtime.db import asyncpg_dsn, drop_database
from stockwire.runtime.harness import ServiceProcess, migrate
from stockwire.runtime.settings import Settings

pytestmark = pytest.mark.slow

READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
ALERTS = 200
CONCURRENCY = 4
LEASE_S = 6.0
SEND_TIMEOUT_S = 4.0
ANSWER_DELAY_S = 0.3
REFUSED_FIRST = 8
KILL_AFTER = 40


def alert(run: str, n: int) -> StockAlertRaised:
    key = f"{run}:{n}"
    return StockAlertRaised(
        alert_id=uuid.uuid4(),
        kind=AlertKind.STOCKOUT,
        severity=AlertSeverity.CRITICAL if n % 25 == 3 else AlertSeverity.WARNING,
        dedup_key=key,
        summary=f"ONT-G240 is out of stock at VAN-{n:04d} [{key}]",
        sku="ONT-G240",
        location=f"VAN-{run}-{n:04d}",
        labels={"run": run},
        figures={"available": Decimal(0)},
        raised_at=datetime.now(UTC),
    )


async def publish(settings: Settings, alerts: list[StockAlertRaised]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=10
    )
    await producer.start()
    try:
        spec = topic_for(StockAlertRaised)
        acks = [
            await producer.send(
                spec.name,
                wrap(payload, producer="stock").model_dump_json().encode(),
                key=spec.key_for(payload).encode(),
            )
            for payload in alerts
        ]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


async def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def configure(url: str, token: str, run: str, chat: ChatReceiver) -> None:
    """A JSON webhook channel on the receiver, and a rule telling each alert on its own."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        answer = await client.put(
            "/api/v1/channels/crash-chat", json={"type": "json", "url": chat.json_url()}
        )
        assert answer.status_code == 200, answer.text
        answer = await client.post(
            "/api/v1/rules",
            json={
                "name": f"crash {run}",
                "position": 10,
                "matchers": [{"attribute": "label:run", "values": [run]}],
                "channels": ["crash-chat"],
                "group_by": ["location"],
                "timing": {"group_wait_s": 0, "group_interval_s": 1, "repeat_interval_s": 86400},
            },
        )
        assert answer.status_code == 201, answer.text


async def test_pending_deliveries_survive_a_sigkill_and_only_those_in_flight_arrive_twice(
    settings: Settings, unused_tcp_port: int, tmp_path: Path
) -> None:
    # Given a notifier whose chat receiver answers slowly and refuses its first requests
    run = f"crash-{uuid.uuid4().hex[:8]}"
    token = uuid.uuid4().hex
    prefix = f"{settings.database_prefix}{run.replace('-', '_')}_"
    env = {
        **os.environ,
        "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "STOCKWIRE_DATABASE_URL": settings.database_url.get_secret_value(),
        "STOCKWIRE_DATABASE_PREFIX": prefix,
        "STOCKWIRE_CONSUMER_GROUP_PREFIX": f"{run}-",
        "STOCKWIRE_API_TOKENS": json.dumps(
            [
                {
                    "name": "test",
                    "sha256": hashlib.sha256(token.encode()).hexdigest(),
                    "scopes": ["read", "write"],
                }
            ]
        ),
        "STOCKWIRE_NOTIFIER_DELIVERY_CONCURRENCY": str(CONCURRENCY),
        "STOCKWIRE_NOTIFIER_DELIVERY_LEASE_S": str(LEASE_S),
        "STOCKWIRE_NOTIFIER_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S),
        "STOCKWIRE_NOTIFIER_RETRY_INITIAL_S": "0.5",
        "STOCKWIRE_NOTIFIER_RETRY_MAX_S": "2",
        "STOCKWIRE_NOTIFIER_DELIVERY_ATTEMPTS": "20",
    }
    service = ServiceProcess.service(
        "notifier", port=unused_tcp_port, log_path=tmp_path / "notifier.log", env=env
    )
    await migrate("notifier", tmp_path / "notifier-migrate.log", env)
    dsn = asyncpg_dsn(
        settings.model_copy(update={"database_prefix": prefix}).service_url("notifier")
    )
    db = await asyncpg.connect(dsn)
    alerts = [alert(run, n) for n in range(ALERTS)]
    keys = {payload.dedup_key for payload in alerts}
    try:
        async with ChatReceiver(delay_s=ANSWER_DELAY_S) as chat:
            chat.fail_next(REFUSED_FIRST, status=503)
            await service.start()
            await service.wait_ready(READY_TIMEOUT_S)
            await configure(f"http://127.0.0.1:{unused_tcp_port}", token, run, chat)

            # When every alert is decided and many deliveries are pending or in flight,
            # the process is killed
            await publish(settings, alerts)
            await wait_until(lambda: len(chat.requests) >= KILL_AFTER, 90, "some deliveries")
            service.check()
            await service.kill()
            row = await db.fetchrow(
                "SELECT count(*) AS pending, "
                "count(*) FILTER (WHERE lease_until > now()) AS in_flight "
                "FROM deliveries WHERE status = 'pending'"
            )
            assert row is not None
            pending, in_flight = row["pending"], row["in_flight"]
            assert pending >= ALERTS // 4, "the kill came too late to leave much pending"
            assert in_flight <= CONCURRENCY
            received_before = len(chat.requests)

            # And it is started again
            await service.start()
            await service.wait_ready(READY_TIMEOUT_S)

            def told() -> Counter[str]:
                return Counter(
                    key
                    for request in chat.delivered
                    for key in re.findall(rf"\[({re.escape(run)}:\d+)\]", request.text or "")
                )

            await wait_until(lambda: set(told()) >= keys, 120, "every alert to be told")
            await asyncio.sleep(LEASE_S + 1)

            # Then every alert reached the receiver (none lost), and only deliveries in
            # flight at the kill arrived twice
            counts = told()
            assert set(counts) == keys
            duplicates = sum(n - 1 for n in counts.values())
            assert duplicates <= in_flight
            assert len(chat.requests) > received_before
            sent = await db.fetchval(
                "SELECT count(*) FROM deliveries WHERE status = 'sent' AND $1 = ANY(dedup_keys)",
                alerts[0].dedup_key,
            )
            assert sent == 1
    finally:
        await service.stop(STOP_TIMEOUT_S)
        await db.close()
        await drop_database(settings, dsn.rsplit("/", 1)[-1])
