"""Random references and request bodies, so catalog tests can share one database."""

import uuid

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.catalog.tables import MESSAGING

WRITER_TOKEN = f"catalog-writer-{uuid.uuid4().hex}"
READER_TOKEN = f"catalog-reader-{uuid.uuid4().hex}"


def random_ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def item_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "sku": random_ref("ONT"),
        "name": "GPON ONT 4-port",
        "manufacturer": "Nokia",
        "category": "ont",
        "tracking_mode": "serial",
        "unit_cost": "54.90",
        "currency": "EUR",
    }
    return body | overrides


def location_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "code": random_ref("WH"),
        "name": "North warehouse",
        "kind": "warehouse",
        "region": "north",
    }
    return body | overrides


async def create_item(client: httpx.AsyncClient, **overrides: object) -> dict[str, object]:
    response = await client.post("/api/v1/items", json=item_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def create_location(client: httpx.AsyncClient, **overrides: object) -> dict[str, object]:
    response = await client.post("/api/v1/locations", json=location_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def outbox_rows(engine: AsyncEngine, key: str) -> list[sa.Row]:
    """The outbox rows for one aggregate, oldest first (sent or not)."""
    outbox = MESSAGING.outbox
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.select(outbox).where(outbox.c.key == key).order_by(outbox.c.id)
        )
        return list(result)
