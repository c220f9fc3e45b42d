"""CSV import over HTTP against the real database: all or none, every bad row reported."""

import uuid

from catalog_refs import create_item, outbox_rows, random_ref

HEADER = (
    "sku,name,manufacturer,category,tracking_mode,unit,unit_cost,currency,"
    "default_lead_time_days,substitutes,end_of_sale,end_of_life"
)
CSV = {"Content-Type": "text/csv"}


def csv_file(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows, ""]).encode()


async def import_file(client, body: bytes, headers: dict[str, str] = CSV):
    return await client.post("/api/v1/items/import", content=body, headers=headers)


async def count_by_manufacturer(client, maker: str) -> int:
    return (await client.get("/api/v1/items", params={"manufacturer": maker})).json()["total"]


async def test_a_good_file_creates_and_replaces_items_and_reports_counts(client, engine):
    maker = random_ref("Maker")
    existing = await create_item(client, manufacturer=maker, name="old name")
    unchanged = await create_item(client, manufacturer=maker)
    new_a, new_b = random_ref("ONT"), random_ref("SPOOL")
    body = csv_file(
        f"{new_a},ONT,{maker},ont,serial,,54.90,EUR,14,{new_b}|{existing['sku']},2030-01-01,",
        f"{new_b},Drop fibre,{maker},fiber_spool,length,m,0.35,EUR,,,,",
        f"{existing['sku']},new name,{maker},ont,serial,,54.9,EUR,,,,",
        f"{unchanged['sku']},GPON ONT 4-port,{maker},ont,serial,each,54.90,EUR,0,,,",
    )

    response = await import_file(client, body)

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 1, "unchanged": 1}
    assert await count_by_manufacturer(client, maker) == 4
    first = (await client.get(f"/api/v1/items/{new_a}")).json()
    assert first["substitutes"] == [new_b, existing["sku"]]
    assert first["default_lead_time_days"] == 14
    replaced = await client.get(f"/api/v1/items/{existing['sku']}")
    assert replaced.json()["name"] == "new name"
    assert replaced.headers["ETag"] == '"2"'
    assert len(await outbox_rows(engine, existing["sku"])) == 2
    assert len(await outbox_rows(engine, unchanged["sku"])) == 1
    [created_row] = await outbox_rows(engine, new_b)
    [other_row] = await outbox_rows(engine, new_a)
    assert created_row.envelope["correlation_id"] == other_row.envelope["correlation_id"]


async def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_row(client, engine):
    maker = random_ref("Maker")
    good, dup = random_ref("ONT"), random_ref("ONT")
    body = csv_file(
        f"{good},ONT,{maker},ont,serial,,10,EUR,,,,",
        f"{random_ref('ONT')},ONT,{maker},toaster,serial,,10,EUR,,,,",
        f"{dup},ONT,{maker},ont,serial,,10,EUR,,,2030-01-01,2029-01-01",
        f"{dup},ONT,{maker},ont,serial,,10,EUR,,,,",
        f"{random_ref('ONT')},ONT,{maker},ont,serial,,-3,EUR,,,,",
        f"{random_ref('ONT')},ONT,{maker},ont,serial,,10,EUR,,GHOST-{uuid.uuid4().hex},,",
        f"{random_ref('ONT')},ONT,{maker},ont",
        f"{random_ref('SPOOL')},Fibre,{maker},fiber_spool,length,ft,1,EUR,,,,",
    )

    response = await import_file(client, body)

    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [(p["line"], p["field"]) for p in problems] == [
        (3, "category"),
        (4, "end_of_life"),
        (5, "sku"),
        (6, "unit_cost"),
        (7, "substitutes"),
        (8, "row"),
        (9, "unit"),
    ]
    assert all(p["reason"] for p in problems)
    assert "line 4" in problems[2]["reason"]
    assert "nothing was imported" in response.json()["detail"]
    assert await count_by_manufacturer(client, maker) == 0
    assert await outbox_rows(engine, good) == []


async def test_an_empty_file_is_a_clear_422(client):
    response = await import_file(client, b"")

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"line": 1, "field": "header", "reason": "the file is empty; expected a header row"}
    ]


async def test_a_garbled_file_is_a_clear_422(client):
    response = await import_file(client, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8")

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] in {"body", "header"}


async def test_a_file_with_unknown_columns_is_rejected_by_its_header(client):
    response = await import_file(client, b"sku;name;colour\nONT-1;x;red\n")

    assert response.status_code == 422
    [problem, *_] = response.json()["problems"]
    assert problem["line"] == 1
    assert problem["field"] == "header"


async def test_an_import_must_be_sent_as_csv(client):
    response = await import_file(client, csv_file(), headers={"Content-Type": "application/json"})

    assert response.status_code == 415


async def test_an_oversized_file_is_413(client):
    response = await import_file(client, b"x" * (5 * 1024 * 1024 + 1))

    assert response.status_code == 413


async def test_importing_needs_the_write_scope(reader):
    response = await import_file(reader, csv_file())

    assert response.status_code == 403
