"""Random references, catalog seeding and ledger checks, so stock tests share one database."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.runtime.catalog_copy import CatalogCopy, ItemCopy, LocationCopy
from stockwire.runtime.service import ServiceRuntime
from stockwire.stock.domain.model import Policy
from stockwire.stock.tables import CATALOG_COPY, MESSAGING, balances, ledger, levels
from stockwire.stock.unit_of_work import StockUnitOfWork

WRITER_TOKEN = f"stock-writer-{uuid.uuid4().hex}"
ADMIN_TOKEN = f"stock-admin-{uuid.uuid4().hex}"
READER_TOKEN = f"stock-reader-{uuid.uuid4().hex}"


def ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def q(value: object) -> Decimal:
    return Decimal(str(value))


class Site:
    """A small network of locations under one region, with random codes:
    ``wh`` (warehouse) with ``wh_q`` (quarantine) and ``van`` (technician van) under it,
    and ``pop`` (point of presence) elsewhere."""

    def __init__(self) -> None:
        self.region = ref("REG")
        self.wh = ref("WH")
        self.wh_q = ref("WHQ")
        self.van = ref("VAN")
        self.pop = ref("POP")
        self.customer = ref("CUST")

    def locations(self) -> list[LocationCopy]:
        return [
            location(self.region, "warehouse"),
            location(self.wh, "warehouse", self.region),
            location(self.wh_q, "quarantine", self.wh),
            location(self.van, "technician_van", self.wh),
            location(self.pop, "point_of_presence"),
        ]


def location(
    code: str, kind: str, parent: str | None = None, active: bool = True, version: int = 1
) -> LocationCopy:
    return LocationCopy(code, code, kind, "north", parent, active, version)


def item(
    prefix: str = "SKU", tracking: str = "bulk", status: str = "active", version: int = 1
) -> ItemCopy:
    unit = "m" if tracking == "length" else "each"
    sku = ref(prefix)
    return ItemCopy(sku, sku, "other", tracking, unit, "medium", 0, None, None, status, version)


PUBLIC_URL = "https://stock.stockwire.test"
"""Stock's public URL in units of work the tests build by hand: the start of alert links."""


def uow_for(runtime: ServiceRuntime, policy: Policy | None = None) -> StockUnitOfWork:
    return StockUnitOfWork(
        runtime.sessions, runtime.outbox, policy or Policy(), public_url=PUBLIC_URL
    )


async def seed(
    runtime: ServiceRuntime,
    items: Iterable[ItemCopy] = (),
    locations: Iterable[LocationCopy] = (),
) -> None:
    """Put items and locations in stock's read copy, as the catalog consumers would."""
    copy = CatalogCopy(CATALOG_COPY)
    async with runtime.sessions.begin() as session:
        await copy.keep_items(session, list(items))
        await copy.keep_locations(session, list(locations))


async def receive(client: httpx.AsyncClient, location: str, sku: str, quantity, **line) -> dict:
    """Receive stock over HTTP against a random PO, so it is in the ledger like any other."""
    response = await client.post(
        "/api/v1/receipts",
        json={
            "location": location,
            "po_number": ref("PO"),
            "lines": [{"sku": sku, "received_quantity": str(quantity), **line}],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


AMOUNTS = ("on_hand", "reserved", "in_transit_in", "in_transit_out")


async def ledger_and_balances(
    engine: AsyncEngine, skus: Iterable[str]
) -> tuple[dict[tuple, tuple], dict[tuple, tuple], dict[tuple, tuple], dict[tuple, tuple]]:
    """For ``skus``: ledger legs summed per balance key, balance rows, balance rows summed
    per SKU x location, and level rows; zero figures left out, so they compare directly."""
    wanted = sorted(skus)
    key = ("sku", "location", "lot", "serial")
    async with engine.connect() as conn:
        summed = await conn.execute(
            sa.select(
                *(ledger.c[k] for k in key),
                *(sa.func.sum(ledger.c[f"{a}_delta"]) for a in AMOUNTS),
            )
            .where(ledger.c.sku.in_(wanted))
            .group_by(*(ledger.c[k] for k in key))
        )
        rows = await conn.execute(sa.select(balances).where(balances.c.sku.in_(wanted)))
        level_rows = await conn.execute(sa.select(levels).where(levels.c.sku.in_(wanted)))
        from_ledger = {tuple(r[:4]): tuple(r[4:]) for r in summed}
        from_balances = {
            tuple(r._mapping[k] for k in key): tuple(r._mapping[a] for a in AMOUNTS) for r in rows
        }
        from_levels = {
            (r.sku, r.location): tuple(r._mapping[a] for a in AMOUNTS) for r in level_rows
        }
    per_pair: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 4)
    for (sku, location, _, _), figures in from_balances.items():
        per_pair[(sku, location)] = [
            a + b for a, b in zip(per_pair[(sku, location)], figures, strict=True)
        ]

    def nonzero(table: dict) -> dict:
        return {k: tuple(v) for k, v in table.items() if any(v)}

    return (
        nonzero(from_ledger),
        nonzero(from_balances),
        nonzero(per_pair),
        nonzero(from_levels),
    )


async def assert_books_balance(engine: AsyncEngine, skus: Iterable[str]) -> None:
    """Every balance equals its ledger legs summed; every level its balances summed."""
    from_ledger, from_balances, per_pair, from_levels = await ledger_and_balances(engine, skus)
    assert from_ledger == from_balances
    assert per_pair == from_levels


async def outbox_payloads(engine: AsyncEngine, key: str) -> list[dict]:
    """The envelopes staged for one aggregate key (``sku@location``), oldest first."""
    outbox = MESSAGING.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.envelope).where(outbox.c.key == key).order_by(outbox.c.id)
        )
        return [row.envelope for row in rows]
