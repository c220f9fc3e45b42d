"""Whatever a client sends, the answer is a 4xx naming the field and the reason, never a 500."""

import json

import pytest
from catalog_refs import create_item, create_location, item_body, location_body, random_ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def problem_fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["problems"]]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b"[]", "body"),
        (b'"just a string"', "body"),
        (b"null", "body"),
        (b'{"name": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "body"),
    ],
)
async def test_malformed_json_is_422(client, raw, field):
    response = await client.post(
        "/api/v1/items", content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert problem_fields(response) == [field]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "toaster"}, "category"),
        ({"category": 7}, "category"),
        ({"tracking_mode": None}, "tracking_mode"),
        ({"unit_cost": "cheap"}, "unit_cost"),
        ({"unit_cost": -5}, "unit_cost"),
        ({"unit_cost": "1e400"}, "unit_cost"),
        ({"unit_cost": "NaN"}, "unit_cost"),
        ({"unit_cost": 123456789012}, "unit_cost"),
        ({"unit_cost": "0.00001"}, "unit_cost"),
        ({"currency": "euro"}, "currency"),
        ({"default_lead_time_days": -1}, "default_lead_time_days"),
        ({"default_lead_time_days": 10**30}, "default_lead_time_days"),
        ({"default_lead_time_days": 1.5}, "default_lead_time_days"),
        ({"default_lead_time_days": True}, "default_lead_time_days"),
        ({"sku": 12345}, "sku"),
        ({"sku": ""}, "sku"),
        ({"sku": "a/b"}, "sku"),
        ({"sku": "x" * 10_000}, "sku"),
        ({"sku": "nul\x00"}, "sku"),
        ({"name": "x" * 1_000_000}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"manufacturer": ["Nokia"]}, "manufacturer"),
        ({"substitutes": "ONT-1"}, "substitutes"),
        ({"substitutes": [1, 2]}, "substitutes.0"),
        ({"end_of_sale": "tomorrow"}, "end_of_sale"),
        ({"end_of_sale": "2030-02-30"}, "end_of_sale"),
        ({"end_of_sale": "2030-01-01", "end_of_life": "2029-01-01"}, "end_of_life"),
        ({"tracking_mode": "length", "unit": "ft"}, "unit"),
        ({"unit": "u" * 17}, "unit"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_item_fields_are_422_naming_the_field(client, overrides, field):
    response = await client.post("/api/v1/items", json=item_body(**overrides))

    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    assert all(problem["reason"] for problem in response.json()["problems"])


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
async def test_numbers_json_cannot_hold_are_422(client, number):
    raw = json.dumps(item_body(unit_cost=0)).replace('"unit_cost": 0', f'"unit_cost": {number}')

    response = await client.post(
        "/api/v1/items", content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert problem_fields(response) == ["unit_cost"]


async def test_a_lone_surrogate_in_json_is_rejected_not_stored(client):
    raw = json.dumps(item_body()).replace('"GPON ONT 4-port"', '"bad \\ud800 name"')

    response = await client.post(
        "/api/v1/items", content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert problem_fields(response) == ["body"]


async def test_unicode_text_round_trips(client):
    item = await create_item(client, name="Spleißbox für Glasfaser 光纤 📡", manufacturer="Ünïcødé")

    fetched = (await client.get(f"/api/v1/items/{item['sku']}")).json()

    assert fetched["name"] == "Spleißbox für Glasfaser 光纤 📡"
    assert fetched["manufacturer"] == "Ünïcødé"


@pytest.mark.parametrize(
    "sku", ["nul%00byte", "%F0%9F%93%A1", "a" * 5000, "%2e%2e", "..", "%ff", "x%20"]
)
async def test_strange_skus_in_the_path_are_404(client, sku):
    response = await client.get(f"/api/v1/items/{sku}")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": "OTHER"}, "sku"),
        ({"status": "retired"}, "status"),
        ({"version": 9}, "version"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"unit_cost": -1}, "unit_cost"),
        ({"tracking_mode": "length"}, "unit"),
        ({"substitutes": ["MISSING-SKU"]}, "substitutes"),
    ],
)
async def test_bad_patches_are_422_and_change_nothing(client, changes, field):
    item = await create_item(client)
    url = f"/api/v1/items/{item['sku']}"

    response = await client.patch(url, json=changes, headers={"If-Match": '"1"'})

    assert response.status_code == 422, response.text
    assert field in problem_fields(response)
    assert (await client.get(url)).headers["ETag"] == '"1"'


async def test_patching_an_unknown_sku_is_404(client):
    response = await client.patch(
        f"/api/v1/items/{random_ref('NOPE')}", json={"name": "x"}, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "moon_base"}, "kind"),
        ({"latitude": 95, "longitude": 10}, "latitude"),
        ({"latitude": 45}, "longitude"),
        ({"latitude": "north", "longitude": 1}, "latitude"),
        ({"latitude": True, "longitude": 1}, "latitude"),
        ({"region": ""}, "region"),
        ({"parent_code": "NO-SUCH-PARENT"}, "parent_code"),
        ({"code": "a|b"}, "code"),
        ({"name": "x" * 300}, "name"),
    ],
)
async def test_bad_location_fields_are_422_naming_the_field(client, overrides, field):
    response = await client.post("/api/v1/locations", json=location_body(**overrides))

    assert response.status_code == 422, response.text
    assert field in problem_fields(response)


async def test_bad_location_filters_are_422(client):
    response = await client.get("/api/v1/locations", params={"active": "maybe", "kind": "x"})

    assert response.status_code == 422
    assert sorted(problem_fields(response)) == ["active", "kind"]


async def test_an_unknown_location_is_404(client):
    await create_location(client)

    response = await client.get(f"/api/v1/locations/{random_ref('NOPE')}")

    assert response.status_code == 404


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)
item_fields = st.sampled_from(sorted(item_body(substitutes=[], unit="each", end_of_life=None)))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(changes=st.dictionaries(item_fields | st.text(max_size=5), json_values, max_size=4))
async def test_no_item_body_whatsoever_gets_a_server_error(client, changes):
    body = json.dumps(item_body(sku=random_ref("FUZZ")) | changes, allow_nan=False)

    response = await client.post(
        "/api/v1/items", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code in (201, 409, 422), response.text
    if response.status_code == 422:
        assert all(p["field"] and p["reason"] for p in response.json()["problems"])


csv_cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
csv_lines = st.lists(csv_cells, min_size=1, max_size=9).map(",".join)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.binary(max_size=200)
    | st.lists(csv_lines, max_size=4).map(
        lambda lines: "\n".join(
            ["sku,name,manufacturer,category,tracking_mode,unit_cost,currency", *lines]
        ).encode()
    )
)
async def test_no_import_file_whatsoever_gets_a_server_error(client, body):
    response = await client.post(
        "/api/v1/items/import", content=body, headers={"Content-Type": "text/csv"}
    )

    assert response.status_code in (200, 409, 422), response.text
