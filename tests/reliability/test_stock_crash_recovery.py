"""SIGKILL the stock service mid-batch under load; after a restart nothing is lost or doubled.

The service runs as a real process (``python -m stockwire.stock``) on its own database and
its own consumer groups, so nothing else in the test session touches what it applies.
"""

import asyncio
import os
import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from stockwire.contracts.base import Event
from stockwire.contracts.catalog import (
    CatalogItemUpserted,
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    LocationKind,
    LocationUpserted,
    TrackingMode,
)
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.fsm import PartLine, PartsIssued
from stockwire.contracts.receipts import GoodsReceived, ReceiptLine
from stockwire.contracts.topics import topic_for
from stockwire.runtime.db import asyncpg_dsn, drop_database
from stockwire.runtime.harness import ServiceProcess, migrate
from stockwire.runtime.settings import Settings

pytestmark = pytest.mark.slow

READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
SEED_QUANTITY = Decimal(100_000)
ISSUES = 12_000
DUPLICATE_SHARE = 0.1


def item(sku: str) -> CatalogItemUpserted:
    return CatalogItemUpserted(
        sku=sku,
        name="SFP+ 10G LR optic",
        manufacturer="FS.com",
        category=Category.OPTIC,
        tracking_mode=TrackingMode.BULK,
        unit="each",
        handling_class=HandlingClass.ESD_SENSITIVE,
        criticality=Criticality.MEDIUM,
        unit_cost=Decimal("24.00"),
        currency="EUR",
        default_lead_time_days=14,
        status=ItemStatus.ACTIVE,
        version=1,
        updated_at=datetime.now(UTC),
    )


def location(code: str, kind: LocationKind) -> LocationUpserted:
    return LocationUpserted(
        code=code,
        name=code,
        kind=kind,
        region="crash-test",
        active=True,
        version=1,
        updated_at=datetime.now(UTC),
    )


async def publish(settings: Settings, envelopes: list[tuple[Event, Envelope]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=10
    )
    await producer.start()
    try:
        futures = []
        for payload, envelope in envelopes:
            spec = topic_for(type(payload))
            futures.append(
                await producer.send(
                    spec.name,
                    envelope.model_dump_json().encode(),
                    key=spec.key_for(payload).encode(),
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def wait_until(condition, timeout_s: float, what: str, poll_s: float = 0.2) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(poll_s)


async def test_killed_mid_batch_and_restarted_applies_each_unique_event_exactly_once(
    settings: Settings, unused_tcp_port: int, tmp_path
):
    run = uuid.uuid4().hex[:8]
    rng = random.Random(run)
    skus = [f"SFP-{run}-{n:02d}" for n in range(20)]
    locations = [f"WH-{run}-{n}" for n in range(2)] + [f"VAN-{run}-{n}" for n in range(4)]
    kinds = [LocationKind.WAREHOUSE] * 2 + [LocationKind.TECHNICIAN_VAN] * 4

    catalog = [(p, wrap(p, producer="catalog")) for p in map(item, skus)]
    catalog += [(p, wrap(p, producer="catalog")) for p in map(location, locations, kinds)]
    receipts = []
    for code in locations:
        receipt = GoodsReceived(
            receipt_id=f"GR-{run}-{code}",
            po_number=f"PO-{run}-{code}",
            supplier="FS.com",
            location=code,
            lines=tuple(
                ReceiptLine(
                    sku=sku, ordered_quantity=SEED_QUANTITY, received_quantity=SEED_QUANTITY
                )
                for sku in skus
            ),
        )
        receipts.append((receipt, wrap(receipt, producer="erp")))
    issued: Counter[tuple[str, str]] = Counter()
    issues = []
    for n in range(ISSUES):
        sku, code = rng.choice(skus), rng.choice(locations)
        quantity = rng.randint(1, 3)
        issued[sku, code] += quantity
        event = PartsIssued(
            job_id=f"JOB-{run}-{n}",
            from_location=code,
            lines=(PartLine(sku=sku, quantity=quantity),),
        )
        issues.append((event, wrap(event, producer="fsm")))
    duplicates = rng.sample(issues, int(ISSUES * DUPLICATE_SHARE))
    deliveries = issues + duplicates
    rng.shuffle(deliveries)
    # Duplicates may arrive before their original: order among one job's events is all
    # Kafka promises, and each job here has one event.

    env = {
        **os.environ,
        "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "STOCKWIRE_DATABASE_URL": settings.database_url.get_secret_value(),
        "STOCKWIRE_DATABASE_PREFIX": f"stockwire_crash_{run}_",
        "STOCKWIRE_CONSUMER_GROUP_PREFIX": f"crash-{run}-",
    }
    service = ServiceProcess.service(
        "stock", port=unused_tcp_port, log_path=tmp_path / "stock.log", env=env
    )
    await migrate("stock", tmp_path / "stock-migrate.log", env)
    dsn = asyncpg_dsn(
        settings.model_copy(
            update={"database_prefix": env["STOCKWIRE_DATABASE_PREFIX"]}
        ).service_url("stock")
    )
    db = await asyncpg.connect(dsn)
    try:

        async def ledger_rows() -> int:
            return await db.fetchval("SELECT count(*) FROM ledger WHERE sku = ANY($1)", skus)

        async def catalog_known() -> bool:
            found = await db.fetchval(
                "SELECT count(*) FROM catalog_items WHERE sku = ANY($1)", skus
            )
            places = await db.fetchval(
                "SELECT count(*) FROM catalog_locations WHERE code = ANY($1)", locations
            )
            return found == len(skus) and places == len(locations)

        await service.start()
        await service.wait_ready(READY_TIMEOUT_S)
        await publish(settings, catalog)
        await wait_until(catalog_known, 60, "the catalog read copy")
        await publish(settings, receipts)
        seeded = len(skus) * len(locations)
        await wait_until(lambda: _at_least(ledger_rows, seeded), 60, "the receipts")

        await publish(settings, deliveries)
        # Stock applies thousands a second: watch closely, so the kill lands mid-stream.
        await wait_until(
            lambda: _at_least(ledger_rows, seeded + ISSUES // 5), 60, "some issues", poll_s=0.01
        )
        service.check()
        await service.kill()
        applied_before_restart = await ledger_rows()
        assert applied_before_restart < seeded + ISSUES, "the kill came too late to mean much"

        await service.start()
        await wait_until(lambda: _at_least(ledger_rows, seeded + ISSUES), 120, "every issue")
        await asyncio.sleep(2)

        assert await ledger_rows() == seeded + ISSUES
        rows = await db.fetch(
            "SELECT sku, location, sum(on_hand) AS on_hand FROM balances "
            "WHERE sku = ANY($1) GROUP BY sku, location",
            skus,
        )
        balances = {(r["sku"], r["location"]): r["on_hand"] for r in rows}
        expected = {
            (sku, code): SEED_QUANTITY - issued[sku, code] for sku in skus for code in locations
        }
        assert balances == expected
    finally:
        await service.stop(STOP_TIMEOUT_S)
        await db.close()
        await drop_database(settings, dsn.rsplit("/", 1)[-1])


async def _at_least(count, threshold: int) -> bool:
    return await count() >= threshold
