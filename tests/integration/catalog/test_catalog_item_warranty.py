"""An item's optional warranty_months over HTTP and CSV, stored and published with the item."""

from catalog_refs import create_item, item_body, outbox_rows, random_ref

from stockwire.contracts.catalog import CatalogItemUpserted
from stockwire.contracts.envelope import Envelope, read_payload

CSV = {"Content-Type": "text/csv"}
HEADER = "sku,name,manufacturer,category,tracking_mode,unit_cost,currency"


async def published_warranties(engine, sku: str) -> list[int | None]:
    """warranty_months of every event published for ``sku``, oldest first."""
    return [
        read_payload(Envelope.model_validate(row.envelope), CatalogItemUpserted).warranty_months
        for row in await outbox_rows(engine, sku)
    ]


async def test_a_warranty_given_at_creation_is_stored_returned_and_published(client, engine):
    created = await client.post("/api/v1/items", json=item_body(warranty_months=36))
    sku = created.json()["sku"]

    fetched = await client.get(f"/api/v1/items/{sku}")

    assert created.status_code == 201
    assert created.json()["warranty_months"] == 36
    assert fetched.json()["warranty_months"] == 36
    assert await published_warranties(engine, sku) == [36]


async def test_an_item_created_without_a_warranty_has_none_and_publishes_null(client, engine):
    item = await create_item(client)

    [row] = await outbox_rows(engine, item["sku"])

    assert item["warranty_months"] is None
    assert row.envelope["payload"]["warranty_months"] is None


async def test_patch_changes_the_warranty_and_null_clears_it_each_publishing_once(client, engine):
    item = await create_item(client, warranty_months=12)
    url = f"/api/v1/items/{item['sku']}"

    changed = await client.patch(url, json={"warranty_months": 60}, headers={"If-Match": '"1"'})
    cleared = await client.patch(url, json={"warranty_months": None}, headers={"If-Match": '"2"'})

    assert changed.status_code == 200
    assert changed.json()["warranty_months"] == 60
    assert cleared.status_code == 200
    assert cleared.headers["ETag"] == '"3"'
    assert cleared.json()["warranty_months"] is None
    assert (await client.get(url)).json()["warranty_months"] is None
    assert await published_warranties(engine, item["sku"]) == [12, 60, None]


async def test_a_patch_that_leaves_the_warranty_out_keeps_it(client):
    item = await create_item(client, warranty_months=24)
    url = f"/api/v1/items/{item['sku']}"

    response = await client.patch(url, json={"name": "renamed"}, headers={"If-Match": '"1"'})

    assert response.json()["warranty_months"] == 24


async def test_an_out_of_range_warranty_is_422_with_the_reason_and_creates_nothing(client, engine):
    body = item_body(warranty_months=601)

    response = await client.post("/api/v1/items", json=body)

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"field": "warranty_months", "reason": "Input should be less than or equal to 600"}
    ]
    assert (await client.get(f"/api/v1/items/{body['sku']}")).status_code == 404
    assert await outbox_rows(engine, str(body["sku"])) == []


async def test_an_out_of_range_warranty_patch_is_422_and_changes_nothing(client, engine):
    item = await create_item(client, warranty_months=24)
    url = f"/api/v1/items/{item['sku']}"

    response = await client.patch(url, json={"warranty_months": -1}, headers={"If-Match": '"1"'})

    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"field": "warranty_months", "reason": "Input should be greater than or equal to 0"}
    ]
    fetched = await client.get(url)
    assert fetched.headers["ETag"] == '"1"'
    assert fetched.json()["warranty_months"] == 24
    assert await published_warranties(engine, item["sku"]) == [24]


async def test_a_csv_with_a_warranty_column_imports_it_and_publishes_it(client, engine):
    maker = random_ref("Maker")
    with_warranty, without = random_ref("ONT"), random_ref("ONT")
    body = (
        f"{HEADER},warranty_months\n"
        f"{with_warranty},ONT,{maker},ont,serial,54.90,EUR,36\n"
        f"{without},ONT,{maker},ont,serial,54.90,EUR,\n"
    ).encode()

    response = await client.post("/api/v1/items/import", content=body, headers=CSV)

    assert response.status_code == 200, response.text
    assert (await client.get(f"/api/v1/items/{with_warranty}")).json()["warranty_months"] == 36
    assert (await client.get(f"/api/v1/items/{without}")).json()["warranty_months"] is None
    assert await published_warranties(engine, with_warranty) == [36]
    assert await published_warranties(engine, without) == [None]


async def test_a_csv_without_the_warranty_column_imports_items_with_no_warranty(client, engine):
    sku = random_ref("ONT")
    body = f"{HEADER}\n{sku},ONT,{random_ref('Maker')},ont,serial,54.90,EUR\n".encode()

    response = await client.post("/api/v1/items/import", content=body, headers=CSV)

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert (await client.get(f"/api/v1/items/{sku}")).json()["warranty_months"] is None
    assert await published_warranties(engine, sku) == [None]


async def test_a_csv_row_with_an_out_of_range_warranty_imports_nothing(client, engine):
    good, bad = random_ref("ONT"), random_ref("ONT")
    body = (
        f"{HEADER},warranty_months\n"
        f"{good},ONT,Nokia,ont,serial,1,EUR,12\n"
        f"{bad},ONT,Nokia,ont,serial,1,EUR,1200\n"
    ).encode()

    response = await client.post("/api/v1/items/import", content=body, headers=CSV)

    assert response.status_code == 422
    assert [(p["line"], p["field"]) for p in response.json()["problems"]] == [
        (3, "warranty_months")
    ]
    assert await outbox_rows(engine, good) == []


async def test_a_csv_without_the_column_replacing_an_item_clears_its_warranty(client, engine):
    item = await create_item(client, warranty_months=24)
    row = f"{item['sku']},GPON ONT 4-port,Nokia,ont,serial,54.90,EUR"

    response = await client.post("/api/v1/items/import", content=f"{HEADER}\n{row}\n", headers=CSV)

    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0}
    assert await published_warranties(engine, item["sku"]) == [24, None]
