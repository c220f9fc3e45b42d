"""Equipment models over HTTP against the real database: CRUD, filters, pages, ETags, auth."""

import asyncio
import uuid

import httpx
import pytest
from catalog_refs import create_item, item_body, outbox_rows, random_ref

from stockwire.contracts.catalog import CatalogItemUpserted
from stockwire.contracts.envelope import Envelope, read_payload
from stockwire.contracts.topics import CATALOG_ITEMS


async def test_a_created_item_can_be_read_back_with_its_etag(client):
    body = item_body(substitutes=[], end_of_sale="2030-01-01", end_of_life="2032-06-30")

    created = await client.post("/api/v1/items", json=body)
    fetched = await client.get(f"/api/v1/items/{body['sku']}")

    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/api/v1/items/{body['sku']}"
    assert fetched.status_code == 200
    assert fetched.headers["ETag"] == '"1"'
    item = fetched.json()
    assert item == created.json()
    assert item["unit"] == "each"
    assert item["status"] == "active"
    assert item["end_of_life"] == "2032-06-30"


async def test_creating_publishes_one_event_with_the_whole_record_keyed_by_sku(client, engine):
    item = await create_item(client, handling_class="esd_sensitive")

    [row] = await outbox_rows(engine, item["sku"])

    assert row.topic == CATALOG_ITEMS.name
    envelope = Envelope.model_validate(row.envelope)
    payload = read_payload(envelope, CatalogItemUpserted)
    assert envelope.producer == "catalog"
    assert payload.sku == item["sku"]
    assert payload.handling_class == "esd_sensitive"
    assert payload.version == 1


async def test_an_unknown_sku_is_404(client):
    response = await client.get(f"/api/v1/items/{random_ref('NOPE')}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_a_duplicate_sku_is_a_409_conflict_and_publishes_nothing(client, engine):
    item = await create_item(client)

    response = await client.post("/api/v1/items", json=item_body(sku=item["sku"]))

    assert response.status_code == 409
    assert response.json()["problems"] == [
        {"field": "sku", "reason": f"an item with SKU {item['sku']!r} already exists"}
    ]
    assert len(await outbox_rows(engine, item["sku"])) == 1


async def test_patch_with_the_current_etag_changes_the_item_and_publishes_once(client, engine):
    item = await create_item(client)
    url = f"/api/v1/items/{item['sku']}"

    response = await client.patch(
        url, json={"name": "GPON ONT v2", "default_lead_time_days": 21}, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["name"] == "GPON ONT v2"
    assert response.json()["default_lead_time_days"] == 21
    rows = await outbox_rows(engine, item["sku"])
    assert [row.envelope["payload"]["version"] for row in rows] == [1, 2]


async def test_patch_without_if_match_is_428(client):
    item = await create_item(client)

    response = await client.patch(f"/api/v1/items/{item['sku']}", json={"name": "x"})

    assert response.status_code == 428
    assert response.json()["problems"][0]["field"] == "If-Match"


async def test_patch_with_a_stale_etag_is_412_naming_the_current_version(client, engine):
    item = await create_item(client)
    url = f"/api/v1/items/{item['sku']}"
    await client.patch(url, json={"name": "first"}, headers={"If-Match": '"1"'})

    response = await client.patch(url, json={"name": "second"}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert (await client.get(url)).json()["name"] == "first"
    assert len(await outbox_rows(engine, item["sku"])) == 2


@pytest.mark.parametrize("if_match", ["1", "*", 'W/"1"', '"one"', '"1", "2"'])
async def test_an_unreadable_if_match_is_422(client, if_match):
    item = await create_item(client)

    response = await client.patch(
        f"/api/v1/items/{item['sku']}", json={"name": "x"}, headers={"If-Match": if_match}
    )

    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "If-Match"


async def test_of_two_concurrent_patches_exactly_one_wins(client, engine):
    item = await create_item(client)
    url = f"/api/v1/items/{item['sku']}"

    responses = await asyncio.gather(
        *(
            client.patch(url, json={"name": f"writer {n}"}, headers={"If-Match": '"1"'})
            for n in range(2)
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 412]
    [winner] = [r for r in responses if r.status_code == 200]
    assert (await client.get(url)).json()["name"] == winner.json()["name"]
    assert len(await outbox_rows(engine, item["sku"])) == 2


async def test_a_patch_that_changes_nothing_keeps_the_version_and_publishes_nothing(client, engine):
    item = await create_item(client)

    response = await client.patch(
        f"/api/v1/items/{item['sku']}", json={"name": item["name"]}, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert len(await outbox_rows(engine, item["sku"])) == 1


async def test_retire_needs_if_match_and_publishes_the_retired_record(client, engine):
    item = await create_item(client)
    url = f"/api/v1/items/{item['sku']}/retire"

    missing = await client.post(url)
    retired = await client.post(url, headers={"If-Match": '"1"'})

    assert missing.status_code == 428
    assert retired.status_code == 200
    assert retired.json()["status"] == "retired"
    assert retired.headers["ETag"] == '"2"'
    rows = await outbox_rows(engine, item["sku"])
    assert [row.envelope["payload"]["status"] for row in rows] == ["active", "retired"]


async def test_substitutes_must_name_existing_items(client):
    existing = await create_item(client)
    ghost = random_ref("GHOST")

    rejected = await client.post(
        "/api/v1/items", json=item_body(substitutes=[existing["sku"], ghost])
    )
    accepted = await client.post("/api/v1/items", json=item_body(substitutes=[existing["sku"]]))

    assert rejected.status_code == 422
    assert rejected.json()["problems"] == [
        {"field": "substitutes", "reason": f"unknown SKU(s): {ghost}"}
    ]
    assert accepted.status_code == 201
    assert accepted.json()["substitutes"] == [existing["sku"]]


async def test_filters_combine_and_text_search_matches_sku_or_name(client):
    maker = random_ref("Maker")
    tag = uuid.uuid4().hex[:8]
    spool = await create_item(
        client,
        manufacturer=maker,
        category="fiber_spool",
        tracking_mode="length",
        name=f"Drop cable {tag}",
    )
    await create_item(client, manufacturer=maker, category="ont")
    await create_item(client, manufacturer=maker, category="ont", sku=random_ref(f"X{tag}"))

    by_maker = (await client.get("/api/v1/items", params={"manufacturer": maker})).json()
    spools = (
        await client.get(
            "/api/v1/items",
            params={"manufacturer": maker, "category": "fiber_spool", "tracking_mode": "length"},
        )
    ).json()
    searched = (await client.get("/api/v1/items", params={"q": tag.upper()})).json()

    assert by_maker["total"] == 3
    assert [item["sku"] for item in spools["items"]] == [spool["sku"]]
    assert searched["total"] == 2


async def test_status_filter_finds_retired_items(client):
    maker = random_ref("Maker")
    item = await create_item(client, manufacturer=maker)
    await create_item(client, manufacturer=maker)
    await client.post(f"/api/v1/items/{item['sku']}/retire", headers={"If-Match": '"1"'})

    page = (
        await client.get("/api/v1/items", params={"manufacturer": maker, "status": "retired"})
    ).json()

    assert [found["sku"] for found in page["items"]] == [item["sku"]]


async def test_pages_follow_the_cursor_through_every_match_once(client):
    maker = random_ref("Maker")
    skus = sorted([(await create_item(client, manufacturer=maker))["sku"] for _ in range(5)])

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"manufacturer": maker, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/items", params=params)).json()
        assert page["total"] == 5
        seen.extend(item["sku"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == skus
    assert pages == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor!"}, "cursor"),
        ({"category": "toaster"}, "category"),
        ({"q": "x" * 201}, "q"),
        ({"manufacturer": "nul\x00byte"}, "manufacturer"),
    ],
)
async def test_bad_list_parameters_are_422_naming_the_parameter(client, params, field):
    response = await client.get("/api/v1/items", params=params)

    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == [field]


async def test_missing_token_is_401_and_a_read_only_token_cannot_write(anonymous, reader, client):
    item = await create_item(client)

    assert (await anonymous.get(f"/api/v1/items/{item['sku']}")).status_code == 401
    assert (await reader.get(f"/api/v1/items/{item['sku']}")).status_code == 200
    forbidden = await reader.post("/api/v1/items", json=item_body())
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "forbidden"
    assert (
        await reader.patch(
            f"/api/v1/items/{item['sku']}", json={"name": "x"}, headers={"If-Match": '"1"'}
        )
    ).status_code == 403


async def test_a_wrong_token_is_401(catalog):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=catalog[0]),
        base_url="http://catalog.test",
        headers={"Authorization": "Bearer not-a-token"},
    ) as stranger:
        response = await stranger.get("/api/v1/items")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_the_openapi_document_lists_every_endpoint(anonymous):
    document = (await anonymous.get("/openapi.json")).json()

    assert set(document["paths"]) >= {
        "/api/v1/items",
        "/api/v1/items/import",
        "/api/v1/items/{sku}",
        "/api/v1/items/{sku}/retire",
        "/api/v1/locations",
        "/api/v1/locations/{code}",
        "/api/v1/locations/{code}/retire",
    }
    import_body = document["paths"]["/api/v1/items/import"]["post"]["requestBody"]
    assert "text/csv" in import_body["content"]
