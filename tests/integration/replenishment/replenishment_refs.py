"""What the replenishment integration tests share: tokens, and helpers that publish what
the catalog, stock and assets would and read what replenishment answers and publishes
(imported by file name, like stock's ``stock_refs``)."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.contracts.assets import ReliabilityComputed
from stockwire.contracts.base import Event
from stockwire.contracts.catalog import CatalogItemUpserted, LocationUpserted
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.stock import (
    StockLevelChanged,
    StockMovementRecorded,
    StockMovementRejected,
)
from stockwire.contracts.topics import DLQ_PARTITIONS, topic_for
from stockwire.contracts.vocabulary import LocationKind, MovementKind, RejectionReason

WRITER_TOKEN = "replenishment-writer-token"
READER_TOKEN = "replenishment-reader-token"
PUBLIC_URL = "https://replenishment.example.net"

T = TypeVar("T")
WAIT_S = 60.0
"""Longest a test waits for the consumers (their groups join once per session)."""


def ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


async def eventually(check: Callable[[], Awaitable[T]], done: Callable[[T], bool]) -> T:
    """``check()`` once ``done`` says so, or its last answer after :data:`WAIT_S`."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        found = await check()
        if done(found) or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.1)


async def publish(
    producer: AIOKafkaProducer, payload: Event, *, producer_name: str = "stock"
) -> Envelope:
    spec = topic_for(type(payload))
    envelope = wrap(payload, producer=producer_name)
    await producer.send_and_wait(
        spec.name, value=envelope.model_dump_json().encode(), key=spec.key_for(payload).encode()
    )
    return envelope


async def send_envelope(producer: AIOKafkaProducer, payload: Event, envelope: Envelope) -> None:
    """Publish ``envelope`` again, as a redelivery would."""
    spec = topic_for(type(payload))
    await producer.send_and_wait(
        spec.name, value=envelope.model_dump_json().encode(), key=spec.key_for(payload).encode()
    )


def location(code: str, kind: LocationKind, region: str) -> LocationUpserted:
    return LocationUpserted(
        code=code,
        name=code,
        kind=kind,
        region=region,
        active=True,
        version=1,
        updated_at=datetime.now(UTC),
    )


def item(sku: str, **extra: Any) -> CatalogItemUpserted:
    fields: dict[str, Any] = {
        "sku": sku,
        "name": sku,
        "manufacturer": "Nokia",
        "category": "ont",
        "tracking_mode": "serial",
        "unit": "each",
        "handling_class": "none",
        "criticality": "medium",
        "unit_cost": Decimal("120.00"),
        "currency": "USD",
        "default_lead_time_days": 14,
        "status": "active",
        "version": 1,
        "updated_at": datetime.now(UTC),
    }
    return CatalogItemUpserted(**(fields | extra))


@dataclass
class Region:
    """A region's warehouses and vans, known to replenishment's catalog copy."""

    name: str
    warehouse: str
    van: str
    other_warehouse: str


async def region(producer: AIOKafkaProducer) -> Region:
    made = Region(ref("REG"), ref("WH"), ref("VAN"), ref("WH"))
    for code, kind in (
        (made.warehouse, LocationKind.WAREHOUSE),
        (made.van, LocationKind.TECHNICIAN_VAN),
    ):
        await publish(producer, location(code, kind, made.name), producer_name="catalog")
    return made


def level(
    sku: str,
    at: str,
    available: int | Decimal,
    *,
    in_transit_in: int | Decimal = 0,
    when: datetime | None = None,
) -> StockLevelChanged:
    return StockLevelChanged(
        sku=sku,
        location=at,
        on_hand=Decimal(available),
        reserved=Decimal(0),
        in_transit_in=Decimal(in_transit_in),
        in_transit_out=Decimal(0),
        available=Decimal(available),
        as_of=when or datetime.now(UTC),
    )


def issue(sku: str, at: str, quantity: int, when: datetime) -> StockMovementRecorded:
    return StockMovementRecorded(
        movement_id=uuid.uuid4(),
        kind=MovementKind.ISSUE,
        reason_code="issued_to_job",
        sku=sku,
        location=at,
        from_location=at,
        quantity=Decimal(quantity),
        actor="tests",
        recorded_at=when,
    )


def reliability(sku: str, region: str, installed: int, rate: str) -> ReliabilityComputed:
    return ReliabilityComputed(
        sku=sku,
        region=region,
        installed_base=installed,
        operating_hours=Decimal(installed * 8766),
        device_years=Decimal(installed),
        failures=int(Decimal(rate) * installed),
        failures_per_device_year=Decimal(rate),
        mtbf_hours=Decimal(8766) / Decimal(rate),
        mtbf_lower_hours=Decimal(1000),
        mtbf_upper_hours=Decimal(1_000_000),
        confidence=Decimal("0.9"),
        as_of=datetime.now(UTC),
    )


async def suggestions(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/suggestions", params=params)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["suggestions"]
    return found


async def open_suggestion(
    client: httpx.AsyncClient, sku: str, location: str
) -> dict[str, Any] | None:
    """The open suggestion for ``sku`` at ``location``, once there is one."""
    found = await eventually(
        lambda: suggestions(client, sku=sku, location=location, status="open"), bool
    )
    return found[0] if found else None


async def outbox_events(engine: AsyncEngine, key: str) -> list[dict[str, Any]]:
    """The envelopes replenishment staged under Kafka key ``key``, in staging order."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT envelope::text FROM outbox WHERE key = :key ORDER BY id"), {"key": key}
        )
        return [Envelope.model_validate_json(row[0]).model_dump(mode="json") for row in rows]


def today() -> date:
    return datetime.now(UTC).date()


LEVELS_CONSUMER = "replenishment-levels"
DEMAND_CONSUMER = "replenishment-demand"
RELIABILITY_CONSUMER = "replenishment-reliability"


async def consumed(engine: AsyncEngine, consumer: str, *envelopes: Envelope) -> None:
    """Wait until ``consumer`` has applied every one of ``envelopes`` (its inbox holds
    their ids): what they change is then committed."""
    wanted = {e.event_id for e in envelopes}

    async def seen() -> set[uuid.UUID]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT event_id FROM inbox WHERE consumer = :consumer AND event_id = ANY(:ids)"
                ),
                {"consumer": consumer, "ids": list(wanted)},
            )
            return {row[0] for row in rows}

    found = await eventually(seen, lambda ids: ids == wanted)
    assert found == wanted, f"{consumer} never applied {wanted - found}"


async def levels(
    producer: AIOKafkaProducer, engine: AsyncEngine, *changes: StockLevelChanged
) -> list[Envelope]:
    """Publish stock levels and wait until replenishment has evaluated them."""
    sent = [await publish(producer, change) for change in changes]
    await consumed(engine, LEVELS_CONSUMER, *sent)
    return sent


async def place(producer: AIOKafkaProducer, code: str, kind: LocationKind, region: str) -> str:
    await publish(producer, location(code, kind, region), producer_name="catalog")
    return code


async def known_item(
    producer: AIOKafkaProducer, engine: AsyncEngine, sku: str, **extra: Any
) -> str:
    """Publish an item and wait until replenishment's catalog copy holds it."""
    await publish(producer, item(sku, **extra), producer_name="catalog")

    async def copied() -> int:
        async with engine.connect() as conn:
            found: int = await conn.scalar(
                sa.text("SELECT count(*) FROM catalog_items WHERE sku = :sku"), {"sku": sku}
            )
            return found

    assert await eventually(copied, bool), f"{sku} never reached the catalog copy"
    return sku


async def known_places(engine: AsyncEngine, *codes: str) -> None:
    """Wait until replenishment's catalog copy holds every location of ``codes``."""

    async def copied() -> int:
        async with engine.connect() as conn:
            found: int = await conn.scalar(
                sa.text("SELECT count(*) FROM catalog_locations WHERE code = ANY(:codes)"),
                {"codes": list(codes)},
            )
            return found

    assert await eventually(copied, lambda n: n == len(codes)) == len(codes)


def movement(
    kind: MovementKind,
    sku: str,
    at: str,
    quantity: int,
    when: datetime,
    *,
    from_location: str | None = None,
    to_location: str | None = None,
    reason_code: str = "tests",
) -> StockMovementRecorded:
    return StockMovementRecorded(
        movement_id=uuid.uuid4(),
        kind=kind,
        reason_code=reason_code,
        sku=sku,
        location=at,
        from_location=from_location,
        to_location=to_location,
        quantity=Decimal(quantity),
        actor="tests",
        recorded_at=when,
    )


def rejected(
    kind: MovementKind, sku: str, at: str, quantity: int, reason: RejectionReason
) -> StockMovementRejected:
    return StockMovementRejected(
        kind=kind,
        reason=reason,
        message="refused in a test",
        sku=sku,
        location=at,
        quantity=Decimal(quantity),
        actor="tests",
    )


async def events(engine: AsyncEngine, key: str, event_type: str) -> list[dict[str, Any]]:
    """The envelopes of ``event_type`` replenishment staged under Kafka key ``key``."""
    return [e for e in await outbox_events(engine, key) if e["event_type"] == event_type]


async def why(client: httpx.AsyncClient, suggestion_id: str) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/suggestions/{suggestion_id}/why")
    assert answer.status_code == 200, answer.text
    explanation: dict[str, Any] = answer.json()["explanation"]
    return explanation


async def plan(engine: AsyncEngine, sku: str, at: str) -> dict[str, Any] | None:
    """The latest evaluation replenishment keeps of ``sku`` at ``at``."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT * FROM plans WHERE sku = :sku AND location = :at"),
                {"sku": sku, "at": at},
            )
        ).first()
    return dict(row._mapping) if row else None


def problems(answer: httpx.Response) -> dict[str, str]:
    """An error answer's problems, reason by field."""
    return {p["field"]: p["reason"] for p in answer.json()["problems"]}


async def demanded(
    producer: AIOKafkaProducer, engine: AsyncEngine, sku: str, at: str, quantity: int, days_ago: int
) -> None:
    """Publish an issue of ``quantity`` at ``at`` ``days_ago`` days ago and wait until it is
    in the demand history: with nothing since, the daily demand is ``quantity`` over
    ``days_ago + 1`` days."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    await consumed(engine, DEMAND_CONSUMER, await publish(producer, issue(sku, at, quantity, when)))


@dataclass
class Stocked:
    """An ONT known to replenishment, in a region with a warehouse and a van."""

    sku: str
    region: str
    warehouse: str
    van: str


async def stocked_region(
    producer: AIOKafkaProducer, engine: AsyncEngine, **item_fields: Any
) -> Stocked:
    sku = await known_item(producer, engine, ref("ONT"), **item_fields)
    name = ref("REG")
    warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, name)
    van = await place(producer, ref("VAN"), LocationKind.TECHNICIAN_VAN, name)
    await known_places(engine, warehouse, van)
    return Stocked(sku, name, warehouse, van)


async def alerts(engine: AsyncEngine, dedup_key: str) -> list[dict[str, Any]]:
    """The alerts raised and resolved under ``dedup_key``, in staging order."""
    return [
        e
        for e in await outbox_events(engine, dedup_key)
        if e["event_type"] in ("replenishment.alert.raised", "replenishment.alert.resolved")
    ]


async def position(engine: AsyncEngine, sku: str, at: str) -> Decimal | None:
    """The available stock replenishment keeps for ``sku`` at ``at``."""
    async with engine.connect() as conn:
        found: Decimal | None = await conn.scalar(
            sa.text("SELECT available FROM positions WHERE sku = :sku AND location = :at"),
            {"sku": sku, "at": at},
        )
        return found


async def dead_letters(bootstrap_servers: str, topic: str) -> AIOKafkaConsumer:
    """A reader of ``topic``'s dead-letter topic from its end, its partition assigned by
    hand (no group join)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    assigned = [TopicPartition(f"{topic}.dlq", p) for p in range(DLQ_PARTITIONS)]
    consumer.assign(assigned)
    await consumer.seek_to_end(*assigned)
    for partition in assigned:
        await consumer.position(partition)
    return consumer


async def dead_letter(consumer: AIOKafkaConsumer, key: str, by: str) -> ConsumerRecord[Any, Any]:
    """The dead letter under ``key`` that consumer group ``by`` wrote, once there is one."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        for record in (r for batch in batches.values() for r in batch):
            if record.key == key.encode() and dict(record.headers)["dlq-consumer"] == by.encode():
                return record
    raise AssertionError(f"no dead letter under {key} from {by}")
