"""Locations over HTTP against the real database: tree rules, filters, ETags, events."""

import asyncio

from catalog_refs import create_location, location_body, outbox_rows, random_ref

from stockwire.contracts.catalog import LocationUpserted
from stockwire.contracts.envelope import Envelope, read_payload
from stockwire.contracts.topics import CATALOG_LOCATIONS


async def move(client, code: str, parent: str | None, version: int):
    return await client.patch(
        f"/api/v1/locations/{code}",
        json={"parent_code": parent},
        headers={"If-Match": f'"{version}"'},
    )


async def retire(client, code: str, version: int = 1):
    return await client.post(
        f"/api/v1/locations/{code}/retire", headers={"If-Match": f'"{version}"'}
    )


async def test_a_created_location_can_be_read_back_and_is_published(client, engine):
    body = location_body(kind="point_of_presence", latitude=52.52, longitude=13.405)

    created = await client.post("/api/v1/locations", json=body)
    fetched = await client.get(f"/api/v1/locations/{body['code']}")

    assert created.status_code == 201
    assert fetched.headers["ETag"] == '"1"'
    assert fetched.json()["latitude"] == 52.52
    assert fetched.json()["active"] is True
    [row] = await outbox_rows(engine, body["code"])
    assert row.topic == CATALOG_LOCATIONS.name
    payload = read_payload(Envelope.model_validate(row.envelope), LocationUpserted)
    assert payload.kind == "point_of_presence"


async def test_a_duplicate_code_is_a_409_conflict(client):
    location = await create_location(client)

    response = await client.post("/api/v1/locations", json=location_body(code=location["code"]))

    assert response.status_code == 409


async def test_a_child_must_name_an_existing_parent(client):
    hub = await create_location(client)

    child = await client.post(
        "/api/v1/locations", json=location_body(kind="technician_van", parent_code=hub["code"])
    )
    orphan = await client.post(
        "/api/v1/locations", json=location_body(parent_code=random_ref("NOWHERE"))
    )

    assert child.status_code == 201
    assert child.json()["parent_code"] == hub["code"]
    assert orphan.status_code == 422
    assert orphan.json()["problems"][0]["field"] == "parent_code"


async def test_a_parent_that_would_form_a_cycle_is_rejected_naming_the_cycle(client, engine):
    root = await create_location(client)
    middle = await create_location(client, parent_code=root["code"])
    leaf = await create_location(client, parent_code=middle["code"])

    response = await move(client, root["code"], leaf["code"], version=1)

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["field"] == "parent_code"
    assert problem["reason"] == (
        f"would form a cycle: {root['code']} -> {leaf['code']} -> {middle['code']} -> "
        f"{root['code']}"
    )
    assert len(await outbox_rows(engine, root["code"])) == 1


async def test_two_concurrent_moves_cannot_together_form_a_cycle(client):
    first = await create_location(client)
    second = await create_location(client)

    responses = await asyncio.gather(
        move(client, first["code"], second["code"], version=1),
        move(client, second["code"], first["code"], version=1),
    )

    assert sorted(r.status_code for r in responses) == [200, 422]


async def test_moving_and_detaching_a_location_publishes_each_change(client, engine):
    hub = await create_location(client)
    van = await create_location(client, kind="technician_van")

    moved = await move(client, van["code"], hub["code"], version=1)
    detached = await move(client, van["code"], None, version=2)

    assert moved.json()["parent_code"] == hub["code"]
    assert detached.json()["parent_code"] is None
    rows = await outbox_rows(engine, van["code"])
    assert [row.envelope["payload"]["parent_code"] for row in rows] == [None, hub["code"], None]


async def test_a_location_with_active_children_cannot_retire_until_they_do(client):
    hub = await create_location(client)
    van = await create_location(client, parent_code=hub["code"], kind="technician_van")

    blocked = await retire(client, hub["code"])
    await retire(client, van["code"])
    retired = await retire(client, hub["code"])

    assert blocked.status_code == 409
    assert van["code"] in blocked.json()["detail"]
    assert retired.status_code == 200
    assert retired.json()["active"] is False
    assert retired.headers["ETag"] == '"2"'


async def test_a_retired_location_takes_no_new_children(client):
    hub = await create_location(client)
    await retire(client, hub["code"])

    response = await client.post("/api/v1/locations", json=location_body(parent_code=hub["code"]))

    assert response.status_code == 422
    assert "retired" in response.json()["problems"][0]["reason"]


async def test_a_stale_location_etag_is_412(client):
    location = await create_location(client)
    url = f"/api/v1/locations/{location['code']}"
    await client.patch(url, json={"name": "renamed"}, headers={"If-Match": '"1"'})

    response = await client.patch(url, json={"name": "again"}, headers={"If-Match": '"1"'})

    assert response.status_code == 412
    assert response.json()["current_version"] == 2


async def test_location_filters_and_pages(client):
    region = random_ref("region")
    hub = await create_location(client, region=region)
    vans = [
        await create_location(client, region=region, kind="technician_van", parent_code=hub["code"])
        for _ in range(3)
    ]
    await client.post(f"/api/v1/locations/{vans[0]['code']}/retire", headers={"If-Match": '"1"'})

    in_region = (await client.get("/api/v1/locations", params={"region": region})).json()
    active_vans = (
        await client.get(
            "/api/v1/locations",
            params={"parent": hub["code"], "kind": "technician_van", "active": "true"},
        )
    ).json()
    first_page = (
        await client.get("/api/v1/locations", params={"region": region, "limit": 3})
    ).json()
    second_page = (
        await client.get(
            "/api/v1/locations",
            params={"region": region, "limit": 3, "cursor": first_page["next_cursor"]},
        )
    ).json()

    assert in_region["total"] == 4
    assert sorted(v["code"] for v in active_vans["locations"]) == sorted(
        v["code"] for v in vans[1:]
    )
    assert len(first_page["locations"]) == 3
    assert len(second_page["locations"]) == 1
    assert second_page["next_cursor"] is None


async def test_location_changes_need_the_write_scope(reader, anonymous):
    assert (await reader.post("/api/v1/locations", json=location_body())).status_code == 403
    assert (await anonymous.get("/api/v1/locations")).status_code == 401
    assert (await reader.get("/api/v1/locations")).status_code == 200
