"""Assets' reports and firmware minimums over HTTP, through the real wiring: firmware
compliance, reconciliation with the network and its mismatches, utilization, models
nearing their end; minimums set, listed and removed once; bad, unauthenticated,
unauthorized and repeated requests answered clearly, with nothing written."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from assets_refs import device_in, movement, publish, ref
from sweep_refs import catalog_has, installed, places, runs_firmware, seen

from stockwire.assets.tables import firmware_minimums
from stockwire.contracts.vocabulary import MovementKind

RECENTLY = timedelta(days=1)
LONG_AGO = timedelta(days=30)


async def minimum_of(runtime, sku):
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(firmware_minimums.c.minimum_version, firmware_minimums.c.reason).where(
                    firmware_minimums.c.sku == sku
                )
            )
        ).first()
    return tuple(row) if row else None


# ---------------------------------------------------------------------- firmware minimums


async def test_a_minimum_is_set_listed_replaced_and_removed(
    producer, writer, reader, assets_runtime
):
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku)

    put = await writer.put(
        f"/api/v1/firmware-minimums/{sku}",
        json={"minimum_version": "R21.10a", "reason": "VSA-2026-07"},
    )

    assert put.status_code == 200, put.text
    body = put.json()
    assert (body["sku"], body["minimum_version"], body["reason"], body["set_by"]) == (
        sku,
        "R21.10a",
        "VSA-2026-07",
        "api:writer",
    )
    listed = await reader.get("/api/v1/firmware-minimums", params={"limit": 500})
    assert listed.status_code == 200
    mine = [m for m in listed.json()["minimums"] if m["sku"] == sku]
    assert mine == [body]

    replaced = await writer.put(f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "R22"})
    assert replaced.status_code == 200
    assert await minimum_of(assets_runtime, sku) == ("R22", None)

    removed = await writer.delete(f"/api/v1/firmware-minimums/{sku}")
    assert removed.status_code == 204 and removed.content == b""
    assert await minimum_of(assets_runtime, sku) is None
    again = await writer.delete(f"/api/v1/firmware-minimums/{sku}")
    assert again.status_code == 404


async def test_minimums_are_listed_by_sku_a_page_at_a_time(
    producer, writer, reader, assets_runtime
):
    skus = sorted(ref("PG") for _ in range(3))
    for sku in skus:
        await catalog_has(producer, assets_runtime, sku)
        await writer.put(f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "1.0"})

    seen_skus: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await reader.get("/api/v1/firmware-minimums", params=params)).json()
        assert len(page["minimums"]) <= 2
        seen_skus += [m["sku"] for m in page["minimums"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen_skus == sorted(seen_skus)
    assert [s for s in seen_skus if s in skus] == skus


async def test_a_repeated_request_with_its_idempotency_key_gets_the_first_answer(
    producer, writer, assets_runtime
):
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku)
    await writer.put(f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "2.0"})
    key = {"Idempotency-Key": ref("key")}

    first = await writer.delete(f"/api/v1/firmware-minimums/{sku}", headers=key)
    repeat = await writer.delete(f"/api/v1/firmware-minimums/{sku}", headers=key)

    assert (first.status_code, repeat.status_code) == (204, 204)

    put_key = {"Idempotency-Key": ref("key")}
    set_once = await writer.put(
        f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "3.0"}, headers=put_key
    )
    set_again = await writer.put(
        f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "3.0"}, headers=put_key
    )
    other_body = await writer.put(
        f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "4.0"}, headers=put_key
    )

    assert set_once.status_code == set_again.status_code == 200
    assert set_again.json() == set_once.json()
    assert other_body.status_code == 409
    assert await minimum_of(assets_runtime, sku) == ("3.0", None)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"minimum_version": ""},
        {"minimum_version": " 3.2"},
        {"minimum_version": "3 2"},
        {"minimum_version": "3" * 65},
        {"minimum_version": 3.2},
        {"minimum_version": None},
        {"minimum_version": "3.2", "reason": ""},
        {"minimum_version": "3.2", "reason": "x" * 501},
        {"minimum_version": "3.2", "reason": "a\u0000b"},
        {"minimum_version": "3.2", "set_by": "mallory"},
        ["3.2"],
    ],
)
async def test_a_malformed_minimum_is_refused_and_nothing_is_written(
    producer, writer, assets_runtime, body
):
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku)

    answer = await writer.put(f"/api/v1/firmware-minimums/{sku}", json=body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"]
    assert await minimum_of(assets_runtime, sku) is None


async def test_a_minimum_for_a_model_the_catalog_does_not_have_is_a_404(writer, assets_runtime):
    sku = ref("NOPE")

    answer = await writer.put(f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "1"})

    assert answer.status_code == 404
    assert await minimum_of(assets_runtime, sku) is None
    assert (
        await writer.put(f"/api/v1/firmware-minimums/{'x' * 65}", json={"minimum_version": "1"})
    ).status_code == 404


async def test_minimums_need_a_token_and_changes_need_the_write_scope(
    producer, reader, anonymous, assets_runtime
):
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku)
    body = {"minimum_version": "1.0"}

    assert (await anonymous.get("/api/v1/firmware-minimums")).status_code == 401
    assert (await anonymous.put(f"/api/v1/firmware-minimums/{sku}", json=body)).status_code == 401
    assert (await reader.put(f"/api/v1/firmware-minimums/{sku}", json=body)).status_code == 403
    assert (await reader.delete(f"/api/v1/firmware-minimums/{sku}")).status_code == 403
    assert await minimum_of(assets_runtime, sku) is None


# -------------------------------------------------------------------- firmware compliance


async def test_compliance_counts_each_model_and_region_against_its_minimum(
    producer, writer, reader, assets_runtime
):
    north, south = await places(producer, assets_runtime), await places(producer, assets_runtime)
    sku = ref("ONT")
    await catalog_has(producer, assets_runtime, sku)
    since = datetime.now(UTC) - RECENTLY
    for site, version in ((north, "3.2.10"), (north, "3.2.9"), (north, None), (south, "4.0")):
        serial = await installed(producer, reader, site, sku, since)
        await runs_firmware(writer, serial, version)
    await writer.put(f"/api/v1/firmware-minimums/{sku}", json={"minimum_version": "3.2.10"})

    report = await reader.get("/api/v1/reports/firmware-compliance", params={"sku": sku})

    assert report.status_code == 200, report.text
    rows = {row["region"]: row for row in report.json()["models"]}
    assert rows[north.region] == {
        "sku": sku,
        "region": north.region,
        "minimum_version": "3.2.10",
        "installed": 3,
        "compliant": 1,
        "below_minimum": 1,
        "unknown_firmware": 1,
        "share_compliant": "0.3333",
    }
    assert rows[south.region]["share_compliant"] == "1.0000"
    only_south = await reader.get(
        "/api/v1/reports/firmware-compliance", params={"sku": sku, "region": south.region}
    )
    assert [r["region"] for r in only_south.json()["models"]] == [south.region]


# ------------------------------------------------------------------------ reconciliation


async def test_reconciliation_counts_a_regions_agreement_with_the_network_and_lists_mismatches(
    producer, reader, assets_runtime
):
    s = await places(producer, assets_runtime)
    sku = ref("ONT")
    now = datetime.now(UTC)
    confirmed = await installed(producer, reader, s, sku, now - RECENTLY)
    misplaced = await installed(producer, reader, s, sku, now - RECENTLY)
    ghost = await installed(producer, reader, s, sku, now - LONG_AGO)
    stranger = ref("SN")
    await seen(producer, assets_runtime, confirmed, s.customer)
    await seen(producer, assets_runtime, misplaced, s.pop)
    await seen(producer, assets_runtime, stranger, s.pop)

    report = await reader.get("/api/v1/reports/reconciliation", params={"region": s.region})

    assert report.status_code == 200, report.text
    body = report.json()
    assert body["window_days"] == 7
    assert body["regions"] == [
        {
            "region": s.region,
            "installed": 3,
            "confirmed": 1,
            "misplaced": 1,
            "ghosts": 1,
            "unrecorded": 1,
            "agreement_ratio": "0.3333",
        }
    ]

    listed = await reader.get(
        "/api/v1/reports/reconciliation/mismatches", params={"region": s.region}
    )
    assert listed.status_code == 200, listed.text
    found = {m["serial"]: m for m in listed.json()["mismatches"]}
    assert {serial: m["mismatch"] for serial, m in found.items()} == {
        misplaced: "misplaced",
        ghost: "ghost",
        stranger: "unrecorded",
    }
    assert list(found) == sorted(found)
    assert (found[misplaced]["recorded_location"], found[misplaced]["seen_site"]) == (
        s.customer,
        s.pop,
    )
    assert found[stranger]["sku"] is None and found[stranger]["seen_site"] == s.pop
    assert found[ghost]["seen_at"] is None

    ghosts = await reader.get(
        "/api/v1/reports/reconciliation/mismatches",
        params={"region": s.region, "mismatch": "ghost"},
    )
    assert [m["serial"] for m in ghosts.json()["mismatches"]] == [ghost]
    first = await reader.get(
        "/api/v1/reports/reconciliation/mismatches", params={"region": s.region, "limit": 2}
    )
    rest = await reader.get(
        "/api/v1/reports/reconciliation/mismatches",
        params={"region": s.region, "limit": 2, "cursor": first.json()["next_cursor"]},
    )
    paged = [m["serial"] for m in first.json()["mismatches"] + rest.json()["mismatches"]]
    assert paged == sorted(found)
    assert rest.json()["next_cursor"] is None


# ---------------------------------------------------------------- utilization and models


async def test_utilization_is_installed_over_owned_per_model_and_region(
    producer, reader, assets_runtime
):
    s = await places(producer, assets_runtime)
    sku = ref("ONT")
    for _ in range(2):
        await installed(producer, reader, s, sku, datetime.now(UTC) - RECENTLY)
    for _ in range(2):
        spare = ref("SN")
        receipt = movement(MovementKind.RECEIPT, spare, sku, s.warehouse, to_location=s.warehouse)
        await publish(producer, receipt)
        await device_in(reader, spare, "in_stock")

    answer = await reader.get("/api/v1/reports/utilization", params={"sku": sku})

    assert answer.status_code == 200
    assert answer.json()["models"] == [
        {"sku": sku, "region": s.region, "installed": 2, "owned": 4, "utilization": "0.5000"}
    ]
    elsewhere = await reader.get(
        "/api/v1/reports/utilization", params={"sku": sku, "region": ref("REG")}
    )
    assert elsewhere.json()["models"] == []


async def test_models_nearing_or_past_their_end_are_listed_with_their_counts(
    producer, reader, assets_runtime
):
    s = await places(producer, assets_runtime)
    today = datetime.now(UTC).date()
    soon, past, later = ref("EOL"), ref("EOL"), ref("EOL")
    await catalog_has(producer, assets_runtime, soon, end_of_life=today + timedelta(days=30))
    await catalog_has(
        producer,
        assets_runtime,
        past,
        end_of_sale=today - timedelta(days=400),
        end_of_life=today - timedelta(days=5),
    )
    await catalog_has(producer, assets_runtime, later, end_of_life=today + timedelta(days=365))
    await installed(producer, reader, s, soon, datetime.now(UTC) - RECENTLY)

    near = await reader.get("/api/v1/models/end-of-life", params={"within_days": 60, "limit": 500})
    wider = await reader.get(
        "/api/v1/models/end-of-life", params={"within_days": 400, "limit": 500}
    )

    assert near.status_code == 200, near.text
    models = {m["sku"]: m for m in near.json()["models"]}
    assert near.json()["within_days"] == 60
    assert later not in models
    assert models[soon] == {
        "sku": soon,
        "name": soon,
        "category": "ont",
        "end_of_sale": None,
        "end_of_life": (today + timedelta(days=30)).isoformat(),
        "days_to_end_of_sale": None,
        "days_to_end_of_life": 30,
        "installed": 1,
        "owned": 1,
    }
    assert (models[past]["days_to_end_of_life"], models[past]["installed"]) == (-5, 0)
    assert later in {m["sku"] for m in wider.json()["models"]}


# ----------------------------------------------------------------------- hostile requests


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/reports/firmware-compliance", {"skuu": "X"}),
        ("/api/v1/reports/firmware-compliance", {"sku": ""}),
        ("/api/v1/reports/reconciliation", {"region": "x" * 200}),
        ("/api/v1/reports/reconciliation/mismatches", {"mismatch": "lost"}),
        ("/api/v1/reports/reconciliation/mismatches", {"cursor": "bm90LWEtY3Vyc29y"}),
        ("/api/v1/reports/reconciliation/mismatches", {"limit": 0}),
        ("/api/v1/reports/utilization", {"region": " NORTH"}),
        ("/api/v1/models/end-of-life", {"within_days": -1}),
        ("/api/v1/models/end-of-life", {"within_days": 3651}),
        ("/api/v1/models/end-of-life", {"within_days": "soon"}),
        ("/api/v1/firmware-minimums", {"cursor": "!!"}),
    ],
)
async def test_a_malformed_report_query_is_a_clear_422(reader, path, params):
    answer = await reader.get(path, params=params)

    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/firmware-compliance",
        "/api/v1/reports/reconciliation",
        "/api/v1/reports/reconciliation/mismatches",
        "/api/v1/reports/utilization",
        "/api/v1/models/end-of-life",
    ],
)
async def test_reports_need_a_token_with_the_read_scope(anonymous, admin, path):
    assert (await anonymous.get(path)).status_code == 401
    assert (await admin.get(path)).status_code == 200
