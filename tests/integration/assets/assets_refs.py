"""What the assets integration tests share: tokens, and helpers that publish what stock
and the catalog would and read what assets answers and publishes (imported by file name,
like stock's ``stock_refs``)."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.contracts.base import Event
from stockwire.contracts.catalog import CatalogItemUpserted, LocationUpserted
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.stock import StockMovementRecorded
from stockwire.contracts.topics import topic_for
from stockwire.contracts.vocabulary import LocationKind, MovementKind, ReturnCondition

WRITER_TOKEN = "assets-writer-token"
ADMIN_TOKEN = "assets-admin-token"
READER_TOKEN = "assets-reader-token"
PUBLIC_URL = "https://assets.example.net"

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


def location(code: str, kind: LocationKind, region: str = "TX-NORTH") -> LocationUpserted:
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
        "criticality": "high",
        "unit_cost": Decimal("120.00"),
        "currency": "USD",
        "default_lead_time_days": 14,
        "status": "active",
        "version": 1,
        "updated_at": datetime.now(UTC),
    }
    return CatalogItemUpserted(**(fields | extra))


@dataclass
class Sites:
    """A region's warehouse, van and customer site, known to assets' catalog copy."""

    region: str
    warehouse: str
    van: str
    customer: str
    pop: str


async def sites(producer: AIOKafkaProducer, region: str | None = None) -> Sites:
    region = region or ref("REG")
    made = Sites(region, ref("WH"), ref("VAN"), ref("CUST"), ref("POP"))
    for code, kind in (
        (made.warehouse, LocationKind.WAREHOUSE),
        (made.van, LocationKind.TECHNICIAN_VAN),
        (made.customer, LocationKind.CUSTOMER_SITE),
        (made.pop, LocationKind.POINT_OF_PRESENCE),
    ):
        await publish(producer, location(code, kind, region), producer_name="catalog")
    return made


def movement(
    kind: MovementKind,
    serial: str,
    sku: str,
    at_location: str,
    *,
    at: datetime | None = None,
    from_location: str | None = None,
    to_location: str | None = None,
    condition: ReturnCondition | None = None,
    job_id: str | None = None,
) -> StockMovementRecorded:
    return StockMovementRecorded(
        movement_id=uuid.uuid4(),
        kind=kind,
        reason_code=kind.value,
        sku=sku,
        location=at_location,
        from_location=from_location,
        to_location=to_location,
        quantity=Decimal(1),
        serial=serial,
        condition=condition,
        job_id=job_id,
        actor="tests",
        recorded_at=at or datetime.now(UTC),
    )


def life(serial: str, sku: str, s: Sites, start: datetime) -> Sequence[StockMovementRecorded]:
    """Received at the warehouse, issued to a job from the van, installed at the customer."""
    job = ref("JOB")
    return (
        movement(MovementKind.RECEIPT, serial, sku, s.warehouse, at=start, to_location=s.warehouse),
        movement(
            MovementKind.ISSUE,
            serial,
            sku,
            s.warehouse,
            at=start + timedelta(hours=1),
            from_location=s.warehouse,
            job_id=job,
        ),
        movement(
            MovementKind.INSTALL,
            serial,
            sku,
            s.customer,
            at=start + timedelta(hours=2),
            from_location=s.warehouse,
            to_location=s.customer,
            job_id=job,
        ),
    )


async def device(reader: httpx.AsyncClient, serial: str, **params: Any) -> dict[str, Any] | None:
    answer = await reader.get(f"/api/v1/devices/{serial}", params=params)
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def device_in(reader: httpx.AsyncClient, serial: str, state: str) -> dict[str, Any] | None:
    """The device once it is in ``state`` (or as it last was)."""
    return await eventually(
        lambda: device(reader, serial),
        lambda found: found is not None and found["device"]["state"] == state,
    )


async def outbox_events(engine: AsyncEngine, key: str) -> list[dict[str, Any]]:
    """The envelopes assets staged under ``key`` (a serial, or an alert's dedup_key), in
    the order they were staged."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT envelope::text FROM outbox WHERE key = :key ORDER BY id"), {"key": key}
        )
        return [Envelope.model_validate_json(row[0]).model_dump(mode="json") for row in rows]


@dataclass
class Unit:
    """A device brought to a state through published movements (and the records API)."""

    serial: str
    sku: str
    sites: Sites


async def in_stock(producer: AIOKafkaProducer, reader: httpx.AsyncClient) -> Unit:
    """A device received at a warehouse an hour ago."""
    s = await sites(producer)
    unit = Unit(ref("SN"), ref("ONT"), s)
    at = datetime.now(UTC) - timedelta(hours=1)
    receipt = movement(
        MovementKind.RECEIPT, unit.serial, unit.sku, s.warehouse, at=at, to_location=s.warehouse
    )
    await publish(producer, receipt)
    assert await device_in(reader, unit.serial, "in_stock") is not None
    return unit


async def installed(producer: AIOKafkaProducer, reader: httpx.AsyncClient) -> Unit:
    """A device received, issued and installed at a customer site over the last day."""
    s = await sites(producer)
    unit = Unit(ref("SN"), ref("ONT"), s)
    for step in life(unit.serial, unit.sku, s, datetime.now(UTC) - timedelta(days=1)):
        await publish(producer, step)
    assert await device_in(reader, unit.serial, "installed") is not None
    return unit


async def retired(producer: AIOKafkaProducer, reader: httpx.AsyncClient) -> Unit:
    """A device received, then written off by a stock adjustment (retired)."""
    unit = await in_stock(producer, reader)
    at = datetime.now(UTC) - timedelta(minutes=30)
    loss = movement(
        MovementKind.ADJUSTMENT,
        unit.serial,
        unit.sku,
        unit.sites.warehouse,
        at=at,
        from_location=unit.sites.warehouse,
    )
    await publish(producer, loss)
    assert await device_in(reader, unit.serial, "retired") is not None
    return unit


async def faulty(
    producer: AIOKafkaProducer, reader: httpx.AsyncClient, writer: httpx.AsyncClient
) -> Unit:
    """An installed device an operator reported failed."""
    unit = await installed(producer, reader)
    reported = await writer.post(
        f"/api/v1/devices/{unit.serial}/failures",
        json={"symptom": "no light on the PON port", "failed_at": now_iso()},
    )
    assert reported.status_code == 201, reported.text
    return unit


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def event_types(published: Sequence[dict[str, Any]]) -> list[str]:
    return [e["event_type"] for e in published]
