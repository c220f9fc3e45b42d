"""The stock read API through the real app and a real PostgreSQL.

The tests exercise the read side only: they write rows straight into the stock tables (a
database of their own, made with ``metadata.create_all``) rather than through the
service's write path, and every test uses random SKUs, codes and regions so they can
share that database.
"""

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.runtime.auth import hash_token
from stockwire.runtime.db import ensure_database
from stockwire.runtime.http.app import create_app
from stockwire.runtime.service import ServiceRuntime, build_runtime
from stockwire.runtime.settings import ApiToken, Settings
from stockwire.stock.api_queries import queries_router
from stockwire.stock.settings import StockSettings
from stockwire.stock.tables import (
    MESSAGING,
    balances,
    catalog_items,
    catalog_locations,
    count_lines,
    counts,
    ledger,
    metadata,
    reservations,
    serials,
    transfers,
)

SERVICE = "stock_readtest"
READER_TOKEN = f"stock-reader-{uuid.uuid4().hex}"
WRITER_TOKEN = f"stock-writer-{uuid.uuid4().hex}"
T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


# The app and clients ----------------------------------------------------------------------


@pytest.fixture(scope="module")
async def stock(settings: Settings) -> AsyncIterator[tuple[FastAPI, ServiceRuntime]]:
    """The read routers in an app whose runtime is started, on a database of their own."""
    await ensure_database(settings, SERVICE)
    tokens = [
        ApiToken(name="reader", sha256=hash_token(READER_TOKEN), scopes={"read"}),
        ApiToken(name="writer", sha256=hash_token(WRITER_TOKEN), scopes={"write"}),
    ]
    runtime = build_runtime(
        SERVICE, StockSettings(**(settings.model_dump() | {"api_tokens": tokens})), MESSAGING
    )
    async with runtime.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    app = create_app(
        runtime,
        title="Stockwire stock (read side under test)",
        description="",
        routers=[queries_router(runtime.engine)],
    )
    async with app.router.lifespan_context(app):
        yield app, runtime


@pytest.fixture(scope="module")
def engine(stock: tuple[FastAPI, ServiceRuntime]) -> AsyncEngine:
    return stock[1].engine


def _client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://stock.test", headers=headers
    )


@pytest.fixture(scope="module")
async def reader(stock: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(stock[0], READER_TOKEN) as client:
        yield client


@pytest.fixture(scope="module")
async def writer(stock: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    """A token with the write scope only."""
    async with _client(stock[0], WRITER_TOKEN) as client:
        yield client


@pytest.fixture(scope="module")
async def anonymous(stock: tuple[FastAPI, ServiceRuntime]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(stock[0], None) as client:
        yield client


# Rows, written straight into the tables ---------------------------------------------------


def ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def insert(engine: AsyncEngine, table: sa.Table, *rows: dict[str, object]) -> None:
    async with engine.begin() as conn:
        for row in rows:
            await conn.execute(sa.insert(table).values(row))


async def given_location(
    engine: AsyncEngine, kind: str = "warehouse", region: str = "north", code: str | None = None
) -> str:
    code = code or ref(kind.upper()[:3])
    await insert(
        engine,
        catalog_locations,
        {"code": code, "kind": kind, "region": region, "active": True, "version": 1},
    )
    return code


async def given_item(engine: AsyncEngine, tracking_mode: str = "bulk", unit: str = "each") -> str:
    sku = ref("SKU")
    await insert(
        engine,
        catalog_items,
        {
            "sku": sku,
            "tracking_mode": tracking_mode,
            "unit": unit,
            "status": "active",
            "version": 1,
        },
    )
    return sku


def balance(sku: str, location: str, on_hand: str = "0", **fields: object) -> dict[str, object]:
    return {"sku": sku, "location": location, "on_hand": Decimal(on_hand), **fields}


def leg(
    sku: str,
    location: str,
    at: datetime,
    on_hand: str = "0",
    *,
    kind: str = "receipt",
    **fields: object,
) -> dict[str, object]:
    delta = Decimal(on_hand)
    return {
        "movement_id": uuid.uuid4(),
        "kind": kind,
        "reason_code": kind,
        "sku": sku,
        "location": location,
        "on_hand_delta": delta,
        "quantity": abs(delta) or Decimal(1),
        "actor": "test",
        "recorded_at": at,
        **fields,
    }


def rows_of(response: httpx.Response, key: str) -> list[dict[str, object]]:
    assert response.status_code == 200, response.text
    return response.json()[key]


async def all_pages(client: httpx.AsyncClient, path: str, key: str, **params: object) -> list:
    """Every row of a paginated list, following next_cursor."""
    rows: list = []
    cursor = None
    while True:
        page = await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        rows += rows_of(page, key)
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [problem["field"] for problem in response.json()["problems"]]


# Balances ---------------------------------------------------------------------------------


async def test_balances_sum_lots_and_serials_per_sku_and_location(reader, engine):
    warehouse = await given_location(engine)
    ont = await given_item(engine, "serial")
    cable = await given_item(engine, "length", unit="m")
    await insert(
        engine,
        balances,
        balance(ont, warehouse, "1", serial="S1"),
        balance(ont, warehouse, "1", serial="S2", reserved=Decimal(1)),
        balance(ont, warehouse, "0", serial="S3", in_transit_in=Decimal(1)),
        balance(cable, warehouse, "150.5", lot="SPOOL-1", in_transit_out=Decimal(20)),
        balance(cable, warehouse, "300", lot="SPOOL-2"),
    )

    rows = rows_of(await reader.get("/api/v1/balances", params={"location": warehouse}), "balances")

    assert [(row["sku"], row["location"]) for row in rows] == sorted(
        [(ont, warehouse), (cable, warehouse)], key=lambda pair: pair[0]
    )
    by_sku = {row["sku"]: row for row in rows}
    assert by_sku[ont] | {"last_changed_at": None} == {
        "sku": ont,
        "location": warehouse,
        "location_kind": "warehouse",
        "region": "north",
        "unit": "each",
        "lot": None,
        "serial": None,
        "on_hand": "2.000",
        "reserved": "1.000",
        "in_transit_in": "1.000",
        "in_transit_out": "0.000",
        "available": "1.000",
        "last_changed_at": None,
    }
    assert by_sku[cable]["on_hand"] == "450.500"
    assert by_sku[cable]["in_transit_out"] == "20.000"
    assert by_sku[cable]["unit"] == "m"


async def test_balances_with_detail_lots_list_each_lot_and_serial(reader, engine):
    warehouse = await given_location(engine)
    ont = await given_item(engine, "serial")
    cable = await given_item(engine, "lot")
    await insert(
        engine,
        balances,
        balance(ont, warehouse, "1", serial="S1"),
        balance(ont, warehouse, "1", serial="S2"),
        balance(cable, warehouse, "5", lot="LOT-A"),
    )

    rows = rows_of(
        await reader.get("/api/v1/balances", params={"location": warehouse, "detail": "lots"}),
        "balances",
    )

    assert {(row["sku"], row["lot"], row["serial"], row["on_hand"]) for row in rows} == {
        (ont, None, "S1", "1.000"),
        (ont, None, "S2", "1.000"),
        (cable, "LOT-A", None, "5.000"),
    }


async def test_balances_of_the_vans_of_a_region_leave_out_other_kinds_and_regions(reader, engine):
    region = ref("region")
    van_1 = await given_location(engine, "technician_van", region)
    van_2 = await given_location(engine, "technician_van", region)
    warehouse = await given_location(engine, "warehouse", region)
    elsewhere = await given_location(engine, "technician_van", ref("region"))
    sku = await given_item(engine)
    await insert(
        engine,
        balances,
        *(balance(sku, code, "3") for code in (van_1, van_2, warehouse, elsewhere)),
    )

    rows = rows_of(
        await reader.get(
            "/api/v1/balances", params={"region": region, "kind": "technician_van", "sku": sku}
        ),
        "balances",
    )

    assert [row["location"] for row in rows] == sorted([van_1, van_2])
    assert {row["location_kind"] for row in rows} == {"technician_van"}


async def test_balances_leave_out_all_zero_rows_unless_asked(reader, engine):
    location = await given_location(engine)
    empty, incoming = await given_item(engine), await given_item(engine)
    await insert(
        engine,
        balances,
        balance(empty, location, "0"),
        balance(incoming, location, "0", in_transit_in=Decimal(4)),
    )

    default = rows_of(
        await reader.get("/api/v1/balances", params={"location": location}), "balances"
    )
    everything = rows_of(
        await reader.get("/api/v1/balances", params={"location": location, "include_zero": "true"}),
        "balances",
    )

    assert [row["sku"] for row in default] == [incoming]
    assert sorted(row["sku"] for row in everything) == sorted([empty, incoming])


async def test_balances_of_a_location_the_catalog_has_not_sent_yet_are_listed(reader, engine):
    unknown = ref("NEW")
    sku = await given_item(engine)
    await insert(engine, balances, balance(sku, unknown, "2"))

    [row] = rows_of(await reader.get("/api/v1/balances", params={"location": unknown}), "balances")

    assert (row["location_kind"], row["region"], row["on_hand"]) == (None, None, "2.000")


@pytest.mark.parametrize("detail", [None, "lots"])
async def test_balance_pages_follow_the_cursor_without_gaps_or_repeats(reader, engine, detail):
    sku = await given_item(engine, "serial")
    locations = [await given_location(engine) for _ in range(3)]
    await insert(
        engine,
        balances,
        *(balance(sku, code, "1", serial=f"S{i}") for code in locations for i in range(2)),
    )
    params = {"sku": sku, "limit": 2} | ({"detail": detail} if detail else {})

    rows = await all_pages(reader, "/api/v1/balances", "balances", **params)

    keys = [(row["location"], row["serial"]) for row in rows]
    expected = (
        [(code, f"S{i}") for code in sorted(locations) for i in range(2)]
        if detail
        else [(code, None) for code in sorted(locations)]
    )
    assert keys == expected


# A van's stock ----------------------------------------------------------------------------


async def test_a_vans_stock_lists_what_that_van_holds(reader, engine):
    region = ref("region")
    van = await given_location(engine, "technician_van", region)
    other_van = await given_location(engine, "technician_van", region)
    ont, connector = await given_item(engine, "serial"), await given_item(engine)
    await insert(
        engine,
        balances,
        balance(ont, van, "1", serial="S1"),
        balance(ont, van, "1", serial="S2"),
        balance(connector, van, "12"),
        balance(connector, other_van, "5"),
    )

    response = await reader.get(f"/api/v1/vans/{van}/stock")

    assert response.status_code == 200, response.text
    assert response.json()["van"] == {
        "code": van,
        "kind": "technician_van",
        "region": region,
        "parent_code": None,
        "active": True,
    }
    assert {(row["sku"], row["on_hand"]) for row in response.json()["balances"]} == {
        (ont, "2.000"),
        (connector, "12.000"),
    }


async def test_a_vans_stock_by_serial_names_each_device(reader, engine):
    van = await given_location(engine, "technician_van")
    ont = await given_item(engine, "serial")
    await insert(
        engine, balances, balance(ont, van, "1", serial="S1"), balance(ont, van, "1", serial="S2")
    )

    rows = rows_of(await reader.get(f"/api/v1/vans/{van}/stock?detail=lots"), "balances")

    assert [row["serial"] for row in rows] == ["S1", "S2"]


async def test_the_stock_of_an_unknown_van_is_404(reader):
    response = await reader.get(f"/api/v1/vans/{ref('VAN')}/stock")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_the_stock_of_a_location_that_is_not_a_van_is_422(reader, engine):
    warehouse = await given_location(engine, "warehouse")

    response = await reader.get(f"/api/v1/vans/{warehouse}/stock")

    assert problem_fields(response) == ["code"]
    assert "not a technician_van" in response.json()["detail"]


# Serials ----------------------------------------------------------------------------------


async def test_a_serial_shows_where_it_is_and_every_leg_in_order(reader, engine):
    warehouse = await given_location(engine)
    van = await given_location(engine, "technician_van")
    site = await given_location(engine, "customer_site")
    ont = await given_item(engine, "serial")
    serial = ref("ALCL")
    job = ref("JOB")
    ship = uuid.uuid4()
    await insert(
        engine,
        ledger,
        leg(ont, warehouse, T0, "1", serial=serial),
        leg(
            ont,
            warehouse,
            T0 + timedelta(hours=1),
            "-1",
            kind="transfer_ship",
            serial=serial,
            movement_id=ship,
            in_transit_out_delta=Decimal(1),
        ),
        leg(
            ont,
            van,
            T0 + timedelta(hours=1),
            "0",
            kind="transfer_ship",
            serial=serial,
            movement_id=ship,
            in_transit_in_delta=Decimal(1),
        ),
        leg(
            ont,
            van,
            T0 + timedelta(hours=3),
            "-1",
            kind="install",
            serial=serial,
            job_id=job,
            to_location=site,
        ),
    )
    await insert(
        engine,
        serials,
        {"serial": serial, "sku": ont, "location": site, "state": "installed", "job_id": job},
    )

    response = await reader.get(f"/api/v1/serials/{serial}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["serial"] == serial
    assert body["current"] | {"updated_at": None} == {
        "sku": ont,
        "location": site,
        "location_kind": "customer_site",
        "state": "installed",
        "lot": None,
        "job_id": job,
        "last_movement_id": None,
        "updated_at": None,
    }
    history = body["history"]
    assert [(h["kind"], h["location"], h["on_hand_delta"]) for h in history] == [
        ("receipt", warehouse, "1.000"),
        ("transfer_ship", warehouse, "-1.000"),
        ("transfer_ship", van, "0.000"),
        ("install", van, "-1.000"),
    ]
    assert history[1]["movement_id"] == history[2]["movement_id"] == str(ship)
    assert history[3]["job_id"] == job


async def test_a_long_serial_history_comes_a_page_at_a_time_in_order(reader, engine):
    """A device moved for years has a long history: the answer is bounded by limit, and
    following next_cursor yields every leg once, oldest first."""
    warehouse = await given_location(engine)
    ont = await given_item(engine, "serial")
    serial = ref("ALCL")
    legs = [
        leg(
            ont,
            warehouse,
            T0 + timedelta(minutes=minute),
            "1" if minute % 2 else "-1",
            serial=serial,
        )
        for minute in range(7)
    ]
    await insert(engine, ledger, *legs)

    first = await reader.get(f"/api/v1/serials/{serial}", params={"limit": 3})
    history = await all_pages(reader, f"/api/v1/serials/{serial}", "history", limit=3)

    assert first.status_code == 200, first.text
    assert len(first.json()["history"]) == 3
    assert first.json()["next_cursor"] is not None
    assert [h["movement_id"] for h in history] == [str(leg["movement_id"]) for leg in legs]


async def test_a_serial_containing_a_slash_is_found(reader, engine):
    sku = await given_item(engine, "serial")
    serial = f"{ref('SN')}/B"
    await insert(
        engine, serials, {"serial": serial, "sku": sku, "location": "X", "state": "in_stock"}
    )

    response = await reader.get(f"/api/v1/serials/{serial}")

    assert response.status_code == 200, response.text
    assert response.json()["current"]["state"] == "in_stock"


async def test_an_unknown_serial_is_404(reader):
    response = await reader.get(f"/api/v1/serials/{ref('SN')}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# Movements --------------------------------------------------------------------------------


async def test_a_skus_movements_are_ledger_legs_newest_first(reader, engine):
    sku = await given_item(engine)
    other = await given_item(engine)
    location = await given_location(engine)
    await insert(
        engine,
        ledger,
        leg(sku, location, T0, "10"),
        leg(sku, location, T0 + timedelta(minutes=5), "-2", kind="issue"),
        leg(sku, location, T0 + timedelta(minutes=5), "-1", kind="issue"),
        leg(other, location, T0, "7"),
    )

    response = await reader.get(f"/api/v1/skus/{sku}/movements")

    legs = rows_of(response, "movements")
    assert [leg["on_hand_delta"] for leg in legs] == ["-1.000", "-2.000", "10.000"]
    assert {leg["sku"] for leg in legs} == {sku}
    assert response.json()["next_cursor"] is None


async def test_a_skus_movements_filter_by_location_kind_job_and_time(reader, engine):
    sku = await given_item(engine)
    warehouse, van = await given_location(engine), await given_location(engine, "technician_van")
    job = ref("JOB")
    await insert(
        engine,
        ledger,
        leg(sku, warehouse, T0, "10", kind="receipt"),
        leg(sku, warehouse, T0 + timedelta(hours=1), "-3", kind="issue", job_id=job),
        leg(sku, van, T0 + timedelta(hours=2), "-1", kind="install", job_id=job),
        leg(sku, van, T0 + timedelta(hours=3), "-1", kind="install", job_id=ref("JOB")),
    )
    path = f"/api/v1/skus/{sku}/movements"

    async def deltas(**params: object) -> list[str]:
        return [
            leg["on_hand_delta"]
            for leg in rows_of(await reader.get(path, params=params), "movements")
        ]

    assert await deltas(location=warehouse) == ["-3.000", "10.000"]
    assert await deltas(kind="install") == ["-1.000", "-1.000"]
    assert await deltas(job_id=job) == ["-1.000", "-3.000"]
    window = {
        "from": (T0 + timedelta(hours=1)).isoformat(),
        "to": (T0 + timedelta(hours=3)).isoformat(),
    }
    assert await deltas(**window) == ["-1.000", "-3.000"]
    assert await deltas(location=van, job_id=job) == ["-1.000"]


async def test_a_skus_movements_page_by_the_cursor(reader, engine):
    sku = await given_item(engine)
    location = await given_location(engine)
    await insert(
        engine,
        ledger,
        *(leg(sku, location, T0 + timedelta(minutes=i % 3), str(i + 1)) for i in range(7)),
    )

    legs = await all_pages(reader, f"/api/v1/skus/{sku}/movements", "movements", limit=3)

    assert len({leg["leg_id"] for leg in legs}) == 7
    keys = [(leg["recorded_at"], leg["leg_id"]) for leg in legs]
    assert keys == sorted(keys, reverse=True)


async def test_a_known_sku_without_movements_has_an_empty_history(reader, engine):
    sku = await given_item(engine)

    assert rows_of(await reader.get(f"/api/v1/skus/{sku}/movements"), "movements") == []


async def test_the_movements_of_an_unknown_sku_are_404(reader):
    response = await reader.get(f"/api/v1/skus/{ref('SKU')}/movements")

    assert response.status_code == 404


# Balances as of a time --------------------------------------------------------------------


async def test_a_balance_as_of_a_time_sums_the_legs_recorded_up_to_then(reader, engine):
    sku = await given_item(engine)
    warehouse, van = await given_location(engine), await given_location(engine, "technician_van")
    ship = uuid.uuid4()
    await insert(
        engine,
        ledger,
        leg(sku, warehouse, T0, "10"),
        leg(
            sku,
            warehouse,
            T0 + timedelta(hours=1),
            "-4",
            kind="transfer_ship",
            movement_id=ship,
            in_transit_out_delta=Decimal(4),
        ),
        leg(
            sku,
            van,
            T0 + timedelta(hours=1),
            "0",
            kind="transfer_ship",
            movement_id=ship,
            in_transit_in_delta=Decimal(4),
        ),
        leg(
            sku,
            warehouse,
            T0 + timedelta(hours=2),
            "0",
            kind="transfer_receive",
            in_transit_out_delta=Decimal(-4),
        ),
        leg(
            sku,
            van,
            T0 + timedelta(hours=2),
            "4",
            kind="transfer_receive",
            in_transit_in_delta=Decimal(-4),
        ),
        leg(
            sku, warehouse, T0 + timedelta(hours=3), "0", kind="reserve", reserved_delta=Decimal(2)
        ),
    )

    async def as_of(at: datetime) -> dict[str, tuple[str, ...]]:
        response = await reader.get(
            "/api/v1/balances/as-of", params={"sku": sku, "at": at.isoformat()}
        )
        return {
            row["location"]: (
                row["on_hand"],
                row["reserved"],
                row["in_transit_in"],
                row["in_transit_out"],
                row["available"],
            )
            for row in rows_of(response, "balances")
        }

    assert await as_of(T0 - timedelta(seconds=1)) == {}
    assert await as_of(T0) == {warehouse: ("10.000", "0.000", "0.000", "0.000", "10.000")}
    assert await as_of(T0 + timedelta(minutes=90)) == {
        warehouse: ("6.000", "0.000", "0.000", "4.000", "6.000"),
        van: ("0.000", "0.000", "4.000", "0.000", "0.000"),
    }
    assert await as_of(T0 + timedelta(hours=2)) == {
        warehouse: ("6.000", "0.000", "0.000", "0.000", "6.000"),
        van: ("4.000", "0.000", "0.000", "0.000", "4.000"),
    }
    assert (await as_of(T0 + timedelta(days=1)))[warehouse] == (
        "6.000",
        "2.000",
        "0.000",
        "0.000",
        "4.000",
    )


async def test_a_balance_as_of_now_equals_the_current_balance(reader, engine):
    sku = await given_item(engine, "lot")
    location = await given_location(engine)
    await insert(
        engine,
        ledger,
        leg(sku, location, T0, "5", lot="A"),
        leg(sku, location, T0, "7", lot="B"),
        leg(sku, location, T0 + timedelta(hours=1), "-2", kind="issue", lot="A"),
    )
    await insert(
        engine, balances, balance(sku, location, "3", lot="A"), balance(sku, location, "7", lot="B")
    )
    params = {"sku": sku, "detail": "lots"}

    current = rows_of(await reader.get("/api/v1/balances", params=params), "balances")
    past = rows_of(
        await reader.get(
            "/api/v1/balances/as-of", params=params | {"at": datetime.now(UTC).isoformat()}
        ),
        "balances",
    )

    def amounts(rows: list) -> list[tuple[str, ...]]:
        return [(r["lot"], r["on_hand"], r["available"]) for r in rows]

    assert amounts(past) == amounts(current) == [("A", "3.000", "3.000"), ("B", "7.000", "7.000")]


async def test_a_balance_as_of_a_time_needs_a_sku_or_a_location(reader):
    response = await reader.get("/api/v1/balances/as-of", params={"at": T0.isoformat()})

    assert problem_fields(response) == ["sku"]


@pytest.mark.parametrize(
    "at", ["2025-06-02T08:00:00", "yesterday", "", "0001-01-01T00:00:00+14:00"]
)
async def test_a_balance_as_of_a_time_needs_a_time_with_a_zone(reader, at):
    response = await reader.get("/api/v1/balances/as-of", params={"at": at, "sku": "X"})

    assert problem_fields(response) == ["at"]


# Transfers and reservations ---------------------------------------------------------------


def transfer(sku: str, source: str, target: str, shipped_at: datetime, **fields: object) -> dict:
    return {
        "transfer_id": ref("TR"),
        "sku": sku,
        "from_location": source,
        "to_location": target,
        "quantity_shipped": Decimal(5),
        "status": "in_transit",
        "shipped_at": shipped_at,
        **fields,
    }


async def test_open_transfers_are_listed_longest_in_transit_first(reader, engine):
    sku = await given_item(engine, "serial")
    warehouse, van = await given_location(engine), await given_location(engine, "technician_van")
    late = transfer(sku, warehouse, van, T0 + timedelta(days=1))
    early = transfer(sku, warehouse, van, T0, serials=["S1", "S2"], lot="")
    received = transfer(
        sku,
        warehouse,
        van,
        T0,
        status="received",
        quantity_received=Decimal(5),
        received_at=T0 + timedelta(days=2),
    )
    await insert(engine, transfers, late, early, received)

    open_ones = rows_of(
        await reader.get("/api/v1/transfers", params={"status": "in_transit", "sku": sku}),
        "transfers",
    )
    all_ones = await all_pages(reader, "/api/v1/transfers", "transfers", sku=sku, limit=1)

    assert [row["transfer_id"] for row in open_ones] == [early["transfer_id"], late["transfer_id"]]
    assert open_ones[0]["serials"] == ["S1", "S2"]
    assert open_ones[0]["quantity_received"] is None
    assert {row["transfer_id"] for row in all_ones} == {
        early["transfer_id"],
        late["transfer_id"],
        received["transfer_id"],
    }


async def test_transfers_filter_by_source_and_destination(reader, engine):
    sku = await given_item(engine)
    a, b, c = [await given_location(engine) for _ in range(3)]
    a_to_b, b_to_c = transfer(sku, a, b, T0), transfer(sku, b, c, T0)
    await insert(engine, transfers, a_to_b, b_to_c)

    into_b = rows_of(await reader.get("/api/v1/transfers", params={"to_location": b}), "transfers")
    out_of_b = rows_of(
        await reader.get("/api/v1/transfers", params={"from_location": b}), "transfers"
    )

    assert [row["transfer_id"] for row in into_b] == [a_to_b["transfer_id"]]
    assert [row["transfer_id"] for row in out_of_b] == [b_to_c["transfer_id"]]


async def test_reservations_of_a_job_filter_by_status_and_show_what_remains(reader, engine):
    job = ref("JOB")
    sku = await given_item(engine)
    van = await given_location(engine, "technician_van")

    def reservation(status: str, quantity: str, fulfilled: str, minutes: int) -> dict:
        return {
            "reservation_id": ref("RES"),
            "job_id": job,
            "sku": sku,
            "location": van,
            "quantity": Decimal(quantity),
            "fulfilled": Decimal(fulfilled),
            "status": status,
            "created_at": T0 + timedelta(minutes=minutes),
        }

    first, second = reservation("open", "4", "1", 0), reservation("open", "2", "0", 1)
    done = reservation("fulfilled", "1", "1", 2)
    await insert(
        engine,
        reservations,
        done,
        second,
        first,
        reservation("open", "9", "0", 0) | {"job_id": ref("JOB")},
    )

    everything = rows_of(
        await reader.get("/api/v1/reservations", params={"job_id": job}), "reservations"
    )
    still_open = rows_of(
        await reader.get("/api/v1/reservations", params={"job_id": job, "status": "open"}),
        "reservations",
    )

    assert [row["reservation_id"] for row in everything] == [
        first["reservation_id"],
        second["reservation_id"],
        done["reservation_id"],
    ]
    assert [(row["quantity"], row["fulfilled"], row["remaining"]) for row in still_open] == [
        ("4.000", "1.000", "3.000"),
        ("2.000", "0.000", "2.000"),
    ]


# Counts -----------------------------------------------------------------------------------


async def given_count(
    engine: AsyncEngine, location: str, *, blind: bool, status: str, **fields: object
) -> str:
    count_id = ref("CNT")
    await insert(
        engine,
        counts,
        {
            "count_id": count_id,
            "location": location,
            "blind": blind,
            "status": status,
            "opened_at": T0,
            **fields,
        },
    )
    return count_id


async def test_counts_list_by_location_and_status_with_their_accuracy(reader, engine):
    location = await given_location(engine)
    closed = await given_count(
        engine,
        location,
        blind=False,
        status="closed",
        closed_at=T0 + timedelta(hours=2),
        items_counted=20,
        items_matching=19,
        accuracy=Decimal("0.95"),
    )
    still_open = await given_count(
        engine, location, blind=False, status="open", opened_at=T0 + timedelta(days=1)
    )
    await given_count(engine, await given_location(engine), blind=False, status="open")

    listed = rows_of(await reader.get("/api/v1/counts", params={"location": location}), "counts")
    closed_only = rows_of(
        await reader.get("/api/v1/counts", params={"location": location, "status": "closed"}),
        "counts",
    )

    assert [row["count_id"] for row in listed] == [still_open, closed]
    [row] = closed_only
    assert (row["items_counted"], row["items_matching"], row["accuracy"]) == (20, 19, "0.95000")


async def test_an_open_blind_count_hides_every_expected_quantity(reader, engine):
    location = await given_location(engine)
    sku = await given_item(engine)
    await insert(engine, balances, balance(sku, location, "4321"))
    count_id = await given_count(
        engine, location, blind=True, status="open", items_matching=3, accuracy=Decimal("0.5")
    )
    await insert(
        engine,
        count_lines,
        {"count_id": count_id, "sku": sku, "counted": Decimal(38), "expected": Decimal("4321.5")},
    )

    detail = await reader.get(f"/api/v1/counts/{count_id}")
    listed = rows_of(await reader.get("/api/v1/counts", params={"location": location}), "counts")

    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["expected_hidden"] is True
    assert body["lines"] == [
        {
            "sku": sku,
            "lot": None,
            "serial": None,
            "counted": "38.000",
            "expected": None,
            "variance": None,
        }
    ]
    assert (body["count"]["items_matching"], body["count"]["accuracy"]) == (None, None)
    assert (listed[0]["items_matching"], listed[0]["accuracy"]) == (None, None)
    assert not {"4321.000", "4321.500", "4283.500", "3", "0.50000"} & set(leaves(body))


def leaves(value: object) -> list[object]:
    """Every scalar in a JSON document."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value if not isinstance(value, int | float) else str(value)]


async def test_an_open_count_that_is_not_blind_expects_the_balance_now(reader, engine):
    location = await given_location(engine)
    bulk, serialised = await given_item(engine), await given_item(engine, "serial")
    await insert(
        engine,
        balances,
        balance(bulk, location, "40"),
        balance(serialised, location, "1", serial="S1"),
        balance(serialised, location, "1", serial="S2"),
    )
    count_id = await given_count(engine, location, blind=False, status="open")
    await insert(
        engine,
        count_lines,
        {"count_id": count_id, "sku": bulk, "counted": Decimal(38)},
        {"count_id": count_id, "sku": serialised, "serial": "S1", "counted": Decimal(1)},
        {"count_id": count_id, "sku": serialised, "serial": "S9", "counted": Decimal(1)},
    )

    body = (await reader.get(f"/api/v1/counts/{count_id}")).json()

    assert body["expected_hidden"] is False
    assert {
        (line["sku"], line["serial"], line["expected"], line["variance"]) for line in body["lines"]
    } == {
        (bulk, None, "40.000", "-2.000"),
        (serialised, "S1", "1.000", "0.000"),
        (serialised, "S9", "0.000", "1.000"),
    }


async def test_a_closed_blind_count_shows_what_it_expected_at_close(reader, engine):
    location = await given_location(engine)
    sku = await given_item(engine)
    await insert(engine, balances, balance(sku, location, "99"))
    count_id = await given_count(
        engine,
        location,
        blind=True,
        status="closed",
        closed_at=T0,
        items_counted=1,
        items_matching=0,
        accuracy=Decimal(0),
    )
    await insert(
        engine,
        count_lines,
        {"count_id": count_id, "sku": sku, "counted": Decimal(38), "expected": Decimal(40)},
    )

    body = (await reader.get(f"/api/v1/counts/{count_id}")).json()

    assert body["expected_hidden"] is False
    assert [(line["expected"], line["variance"]) for line in body["lines"]] == [
        ("40.000", "-2.000")
    ]
    assert body["count"]["accuracy"] == "0.00000"


async def test_the_lines_of_a_count_page_by_the_cursor(reader, engine):
    location = await given_location(engine)
    count_id = await given_count(engine, location, blind=False, status="open")
    skus = sorted([await given_item(engine) for _ in range(5)])
    await insert(
        engine,
        count_lines,
        *({"count_id": count_id, "sku": sku, "counted": Decimal(1)} for sku in skus),
    )

    lines = await all_pages(reader, f"/api/v1/counts/{count_id}", "lines", limit=2)

    assert [line["sku"] for line in lines] == skus


async def test_an_unknown_count_is_404(reader):
    response = await reader.get(f"/api/v1/counts/{ref('CNT')}")

    assert response.status_code == 404


# Auth -------------------------------------------------------------------------------------

READ_PATHS = [
    "/api/v1/balances",
    "/api/v1/balances/as-of?sku=X&at=2025-06-02T08:00:00Z",
    "/api/v1/vans/VAN-1/stock",
    "/api/v1/serials/S1",
    "/api/v1/skus/SKU-1/movements",
    "/api/v1/transfers",
    "/api/v1/reservations",
    "/api/v1/counts",
    "/api/v1/counts/CNT-1",
]


@pytest.mark.parametrize("path", READ_PATHS)
async def test_every_query_needs_a_token(anonymous, path):
    response = await anonymous.get(path)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", READ_PATHS)
async def test_every_query_needs_the_read_scope(writer, path):
    response = await writer.get(path)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


async def test_an_unknown_token_is_401(stock):
    async with _client(stock[0], "not-a-token") as client:
        response = await client.get("/api/v1/balances")

    assert response.status_code == 401


# Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/balances", {"kind": "spaceship"}, "kind"),
        ("/api/v1/balances", {"limit": "0"}, "limit"),
        ("/api/v1/balances", {"limit": "501"}, "limit"),
        ("/api/v1/balances", {"limit": "many"}, "limit"),
        ("/api/v1/balances", {"include_zero": "perhaps"}, "include_zero"),
        ("/api/v1/balances", {"detail": "serials"}, "detail"),
        ("/api/v1/balances", {"cursor": "garbage"}, "cursor"),
        ("/api/v1/balances", {"loction": "WH-1"}, "loction"),
        ("/api/v1/balances", {"sku": "nul\x00"}, "sku"),
        ("/api/v1/balances", {"region": "x" * 129}, "region"),
        ("/api/v1/skus/SKU-1/movements", {"kind": "teleport"}, "kind"),
        ("/api/v1/skus/SKU-1/movements", {"from": "2025-06-02"}, "from"),
        (
            "/api/v1/skus/SKU-1/movements",
            {"from": "2025-06-02T10:00:00Z", "to": "2025-06-02T09:00:00Z"},
            "to",
        ),
        ("/api/v1/transfers", {"status": "lost"}, "status"),
        ("/api/v1/reservations", {"status": "maybe"}, "status"),
        ("/api/v1/counts", {"status": "half"}, "status"),
        ("/api/v1/serials/S1", {"detail": "lots"}, "detail"),
    ],
)
async def test_a_bad_filter_is_a_422_naming_it(reader, path, params, field):
    response = await reader.get(path, params=params)

    assert problem_fields(response) == [field]
    assert response.json()["error"] == "invalid"


async def test_a_blank_filter_is_422_naming_it(reader, engine):
    location = await given_location(engine)

    response = await reader.get(
        "/api/v1/balances", params={"location": location, "sku": "", "kind": ""}
    )

    assert response.status_code == 422
    assert sorted(problem_fields(response)) == ["kind", "sku"]


async def test_a_cursor_from_another_list_is_refused(reader, engine):
    sku = await given_item(engine)
    location = await given_location(engine)
    await insert(engine, ledger, *(leg(sku, location, T0, "1") for _ in range(2)))
    page = await reader.get(f"/api/v1/skus/{sku}/movements", params={"limit": 1})
    cursor = page.json()["next_cursor"]

    response = await reader.get("/api/v1/transfers", params={"cursor": cursor})

    assert problem_fields(response) == ["cursor"]


async def test_a_lots_cursor_is_refused_without_detail_lots(reader, engine):
    sku = await given_item(engine)
    await insert(
        engine, balances, *[balance(sku, await given_location(engine), "1") for _ in range(2)]
    )
    page = await reader.get("/api/v1/balances", params={"sku": sku, "detail": "lots", "limit": 1})

    response = await reader.get(
        "/api/v1/balances", params={"sku": sku, "cursor": page.json()["next_cursor"]}
    )

    assert problem_fields(response) == ["cursor"]


@pytest.mark.parametrize("segment", ["nul%00", "x" * 300, "%E2%80%8F%07"])
async def test_an_id_that_cannot_exist_is_404(reader, segment):
    for path in (
        f"/api/v1/vans/{segment}/stock",
        f"/api/v1/serials/{segment}",
        f"/api/v1/skus/{segment}/movements",
        f"/api/v1/counts/{segment}",
    ):
        response = await reader.get(path)
        assert response.status_code == 404, (path, response.text)


query_text = st.text(max_size=40) | st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "%",
        "'",
        "2025-06-02T08:00:00Z",
        "2025-06-02T08:00:00+14:00",
        "0001-01-01T00:00:00-14:00",
        "9999-12-31T23:59:59-14:00",
        "-1",
        "1e9",
        "true",
        "lots",
        "technician_van",
        "in_transit",
        "open",
        "closed",
        "WyJiYWxhbmNlcyIsIngiXQ",
        "\ud800",
    ]
)
fuzzed_params = st.dictionaries(
    st.sampled_from(
        [
            "sku",
            "location",
            "region",
            "kind",
            "include_zero",
            "detail",
            "limit",
            "cursor",
            "at",
            "from",
            "to",
            "job_id",
            "status",
            "from_location",
            "to_location",
            "x",
        ]
    ),
    query_text,
    max_size=4,
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from([path.split("?")[0] for path in READ_PATHS]),
    params=fuzzed_params,
)
async def test_no_query_whatsoever_gets_a_server_error(reader, path, params):
    safe = {
        key: value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        for key, value in params.items()
    }

    response = await reader.get(path, params=safe)

    assert response.status_code in (200, 404, 422), response.text
    if response.status_code == 422:
        assert all(
            problem["field"] and problem["reason"] for problem in response.json()["problems"]
        )


def forged(*parts: object) -> str:
    raw = json.dumps(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/v1/skus/SKU-1/movements", forged("movements", "0001-01-01T00:00:00+14:00", 1)),
        ("/api/v1/skus/SKU-1/movements", forged("movements", "9999-12-31T23:59:59-14:00", 1)),
        ("/api/v1/skus/SKU-1/movements", forged("movements", "2025-06-02T08:00:00", 1)),
        ("/api/v1/skus/SKU-1/movements", forged("movements", "2025-06-02T08:00:00Z", 2**64)),
        ("/api/v1/skus/SKU-1/movements", forged("movements", "2025-06-02T08:00:00Z", True)),
        ("/api/v1/balances", forged("balances", "WH-1", "nul\x00")),
        ("/api/v1/balances", forged("balances", "WH-1", "\ud800")),
        ("/api/v1/balances", forged("balances", "WH-1")),
        ("/api/v1/balances", forged("balances", "WH-1", 7)),
        ("/api/v1/balances", base64.urlsafe_b64encode(b"[" * 1400).decode()),
        ("/api/v1/counts", "%%%"),
    ],
)
async def test_a_forged_cursor_is_a_422(reader, path, cursor):
    response = await reader.get(path, params={"cursor": cursor})

    assert problem_fields(response) == ["cursor"]


async def test_a_filter_given_twice_is_not_a_server_error(reader):
    response = await reader.get("/api/v1/balances?sku=A&sku=B")

    assert response.status_code in (200, 422)


async def test_the_read_api_is_in_the_openapi_document(reader):
    response = await reader.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/balances",
        "/api/v1/balances/as-of",
        "/api/v1/vans/{code}/stock",
        "/api/v1/serials/{serial}",
        "/api/v1/skus/{sku}/movements",
        "/api/v1/transfers",
        "/api/v1/reservations",
        "/api/v1/counts",
        "/api/v1/counts/{count_id}",
    } <= set(paths)
