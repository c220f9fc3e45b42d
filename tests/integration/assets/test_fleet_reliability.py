"""Reliability per model and per model and region: devices installed and failed through
stock's movements, figures computed and published only when they change, the same
figures over HTTP, and a failure spike raised and later resolved.

Every figure below is hand-computed from the devices' operating hours (see each test's
comment); the chi-square quantiles are the table's: chi2(0.95, 6) = 12.591587...,
chi2(0.05, 4) = 0.710723... (90% two-sided, two failures)."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from assets_refs import (
    PUBLIC_URL,
    Sites,
    device_in,
    eventually,
    item,
    life,
    movement,
    outbox_events,
    publish,
    ref,
    sites,
)

from stockwire.assets.reliability import (
    ReliabilityPolicy,
    ReliabilityRun,
    compute_reliability,
    compute_round,
)
from stockwire.assets.tables import CATALOG_COPY
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.vocabulary import MovementKind, ReturnCondition
from stockwire.runtime.periodic import every

COMPUTED = "assets.reliability.computed"


def new_uow(runtime) -> AssetsUnitOfWork:
    return AssetsUnitOfWork(runtime.sessions, runtime.outbox, public_url=PUBLIC_URL)


async def compute(runtime, settings, now: datetime) -> ReliabilityRun:
    """One run at ``now``, once no other instance (the session's own job) is computing."""
    policy = ReliabilityPolicy.of(settings)
    for _ in range(100):
        run = await compute_reliability(now, policy, new_uow(runtime))
        if run is not None:
            return run
        await asyncio.sleep(0.1)
    raise AssertionError("the reliability lock was never free")


async def known_sites(producer, engine) -> Sites:
    """A region's sites, once assets' catalog copy knows them (a device moved there
    before would have no region: the catalog's topics and stock's are not ordered)."""
    made = await sites(producer)
    codes = [made.warehouse, made.van, made.customer, made.pop]
    locations = CATALOG_COPY.locations

    async def known() -> int:
        async with engine.connect() as conn:
            query = sa.select(sa.func.count()).where(locations.c.code.in_(codes))
            return int((await conn.execute(query)).scalar_one())

    assert await eventually(known, lambda count: count == len(codes)) == len(codes)
    return made


async def installed_device(producer, reader, sku: str, s: Sites, installed_at: datetime) -> str:
    serial = ref("SN")
    for step in life(serial, sku, s, installed_at - timedelta(hours=2)):
        await publish(producer, step)
    await device_in(reader, serial, "installed")
    return serial


async def failed_device(
    producer, reader, sku: str, s: Sites, installed_at: datetime, failed_at: datetime
) -> str:
    serial = await installed_device(producer, reader, sku, s, installed_at)
    await fail(producer, reader, serial, sku, s, failed_at)
    return serial


async def fail(producer, reader, serial: str, sku: str, s: Sites, at: datetime) -> None:
    """The device comes back faulty from the field: a failure is recorded."""
    await publish(
        producer,
        movement(
            MovementKind.RETURN,
            serial,
            sku,
            s.warehouse,
            at=at,
            condition=ReturnCondition.FAULTY,
        ),
    )
    await device_in(reader, serial, "faulty")


async def computed(engine, key: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in await outbox_events(engine, key) if e["event_type"] == COMPUTED]


def region_of(figures: Sequence[dict[str, Any]], region: str | None) -> dict[str, Any]:
    [found] = [f for f in figures if f["region"] == region]
    return found


@pytest.fixture
async def fleet(producer, reader, assets_runtime):
    """Model A: in region 1, one device installed 718 h ago and two that failed after
    100 h and 300 h; in region 2, one device installed 718 h ago.

    T = 718 + 100 + 300 + 718 = 1836 h, r = 2 (region 1: 1118 h, r = 2; region 2: 718 h,
    r = 0), installed base 2 (1 and 1), at ``now``."""
    now = datetime.now(UTC).replace(microsecond=0)
    sku = ref("ONT")
    await publish(producer, item(sku), producer_name="catalog")
    one = await known_sites(producer, assets_runtime.engine)
    two = await known_sites(producer, assets_runtime.engine)
    installed = now - timedelta(hours=718)
    serials = [
        await installed_device(producer, reader, sku, one, installed),
        await failed_device(
            producer, reader, sku, one, installed, installed + timedelta(hours=100)
        ),
        await failed_device(
            producer, reader, sku, one, installed, installed + timedelta(hours=300)
        ),
        await installed_device(producer, reader, sku, two, installed),
    ]
    return now, sku, one, two, serials


async def test_figures_per_model_and_region_are_published_on_their_keys(
    fleet, assets_runtime, assets_settings
):
    now, sku, one, two, _ = fleet

    run = await compute(assets_runtime, assets_settings, now)

    keys = {sku, f"{sku}@{one.region}", f"{sku}@{two.region}"}
    assert keys <= set(run.published)
    [everywhere] = await computed(assets_runtime.engine, sku)
    [region_one] = await computed(assets_runtime.engine, f"{sku}@{one.region}")
    [region_two] = await computed(assets_runtime.engine, f"{sku}@{two.region}")
    as_of = now.isoformat().replace("+00:00", "Z")
    assert everywhere == {
        "sku": sku,
        "region": None,
        "installed_base": 2,
        "operating_hours": "1836.000",
        "device_years": "0.209",  # 1836 / 8766
        "failures": 2,
        "failures_per_device_year": "9.549020",  # 2 * 8766 / 1836
        "mtbf_hours": "918.000",  # 1836 / 2
        "mtbf_lower_hours": "291.623",  # 2 * 1836 / 12.591587
        "mtbf_upper_hours": "5166.570",  # 2 * 1836 / 0.710723
        "confidence": "0.9",
        "as_of": as_of,
    }
    assert region_one | {"as_of": None} == {
        "sku": sku,
        "region": one.region,
        "installed_base": 1,
        "operating_hours": "1118.000",
        "device_years": "0.128",
        "failures": 2,
        "failures_per_device_year": "15.681574",  # 2 * 8766 / 1118
        "mtbf_hours": "559.000",
        "mtbf_lower_hours": "177.579",  # 2 * 1118 / 12.591587
        "mtbf_upper_hours": "3146.092",  # 2 * 1118 / 0.710723
        "confidence": "0.9",
        "as_of": None,
    }
    assert region_two | {"as_of": None} == {
        "sku": sku,
        "region": two.region,
        "installed_base": 1,
        "operating_hours": "718.000",
        "device_years": "0.082",
        "failures": 0,
        "failures_per_device_year": "0.000000",
        "mtbf_hours": None,
        "mtbf_lower_hours": "311.823",  # 718 / ln(1 / 0.1)
        "mtbf_upper_hours": None,
        "confidence": "0.9",
        "as_of": None,
    }


async def test_only_figures_that_changed_are_published_again(
    fleet, producer, reader, assets_runtime, assets_settings
):
    now, sku, one, two, serials = fleet
    keys = [sku, f"{sku}@{one.region}", f"{sku}@{two.region}"]
    await compute(assets_runtime, assets_settings, now)

    again = await compute(assets_runtime, assets_settings, now)
    a_minute_later = await compute(assets_runtime, assets_settings, now + timedelta(minutes=1))

    assert set(keys) & set(again.published) == set()
    assert set(keys) & set(a_minute_later.published) == set()
    assert [len(await computed(assets_runtime.engine, key)) for key in keys] == [1, 1, 1]

    # The device of region 1 still installed fails a day ago: 694 h instead of 718.
    await fail(producer, reader, serials[0], sku, one, now - timedelta(days=1))
    after_failure = await compute(assets_runtime, assets_settings, now)

    assert set(keys) & set(after_failure.published) == {sku, f"{sku}@{one.region}"}
    latest = (await computed(assets_runtime.engine, sku))[-1]
    assert (latest["installed_base"], latest["operating_hours"], latest["failures"]) == (
        1,
        "1812.000",
        3,
    )
    assert (latest["mtbf_hours"], latest["mtbf_lower_hours"], latest["mtbf_upper_hours"]) == (
        "604.000",
        "233.696",
        "2215.995",
    )


def hours_since(moment: datetime, as_of: str) -> Decimal:
    return Decimal(str((datetime.fromisoformat(as_of) - moment).total_seconds())) / 3600


async def test_the_api_answers_the_figures_as_computed_now(fleet, reader):
    now, sku, one, two, _ = fleet

    answer = await reader.get("/api/v1/reliability", params={"sku": sku})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["next_cursor"] is None
    figures = body["figures"]
    assert figures[0]["region"] is None
    assert sorted(f["region"] or "" for f in figures) == sorted(["", one.region, two.region])
    everywhere = region_of(figures, None)
    # The two devices still installed have run on since ``now``.
    hours = round(1836 + 2 * hours_since(now, everywhere["as_of"]), 3)
    assert Decimal(everywhere["operating_hours"]) == hours
    assert (everywhere["installed_base"], everywhere["failures"]) == (2, 2)
    assert Decimal(everywhere["mtbf_hours"]) == round(hours / 2, 3)
    assert Decimal(everywhere["mtbf_lower_hours"]) == round(
        2 * hours / Decimal("12.591587243743977"), 3
    )
    assert Decimal(everywhere["mtbf_upper_hours"]) == round(
        2 * hours / Decimal("0.7107230213973239"), 3
    )
    two_only = (
        await reader.get("/api/v1/reliability", params={"sku": sku, "region": two.region})
    ).json()["figures"]
    [region_two] = two_only
    assert (region_two["region"], region_two["failures"], region_two["mtbf_hours"]) == (
        two.region,
        0,
        None,
    )
    assert Decimal(region_two["operating_hours"]) == round(
        718 + hours_since(now, region_two["as_of"]), 3
    )


async def test_reliability_pages_by_model(fleet, reader):
    _, sku, one, _, _ = fleet

    first = (await reader.get("/api/v1/reliability", params={"region": one.region})).json()

    assert [(f["sku"], f["region"]) for f in first["figures"]] == [(sku, one.region)]
    page = (await reader.get("/api/v1/reliability", params={"limit": 1})).json()
    models = {f["sku"] for f in page["figures"]}
    assert len(models) == 1 and page["next_cursor"] is not None
    following = (
        await reader.get("/api/v1/reliability", params={"limit": 1, "cursor": page["next_cursor"]})
    ).json()
    assert {f["sku"] for f in following["figures"]}.isdisjoint(models)


async def test_the_installed_base_is_counted_per_model_and_region_or_location(fleet, reader):
    _, sku, one, two, _ = fleet

    by_region = await reader.get("/api/v1/installed-base", params={"sku": sku})
    by_location = await reader.get("/api/v1/installed-base", params={"sku": sku, "by": "location"})
    at_one = await reader.get(
        "/api/v1/installed-base", params={"location": one.customer, "by": "location"}
    )

    assert by_region.status_code == 200, by_region.text
    assert by_region.json() == {
        "installed_base": [
            {"sku": sku, "region": region, "location": None, "installed": 1}
            for region in sorted([one.region, two.region])
        ],
        "next_cursor": None,
    }
    assert by_location.json()["installed_base"] == sorted(
        [
            {"sku": sku, "region": one.region, "location": one.customer, "installed": 1},
            {"sku": sku, "region": two.region, "location": two.customer, "installed": 1},
        ],
        key=lambda row: row["location"],
    )
    assert at_one.json()["installed_base"] == [
        {"sku": sku, "region": one.region, "location": one.customer, "installed": 1}
    ]


async def test_the_installed_base_pages_in_order(fleet, reader):
    _, sku, one, two, _ = fleet

    first = (await reader.get("/api/v1/installed-base", params={"sku": sku, "limit": 1})).json()
    second = (
        await reader.get(
            "/api/v1/installed-base",
            params={"sku": sku, "limit": 1, "cursor": first["next_cursor"]},
        )
    ).json()

    regions = [row["region"] for row in first["installed_base"] + second["installed_base"]]
    assert regions == sorted([one.region, two.region])
    assert second["next_cursor"] is None


@pytest.mark.parametrize("path", ["/api/v1/reliability", "/api/v1/installed-base"])
@pytest.mark.parametrize(
    "params",
    [
        {"sku": "ONT\x01"},
        {"sku": "x" * 129},
        {"region": " TX"},
        {"limit": 0},
        {"limit": 501},
        {"cursor": "not-a-cursor"},
        {"cursor": "!!"},
        {"unknown": "1"},
    ],
    ids=lambda p: next(iter(p)) if isinstance(p, dict) else p,
)
async def test_malformed_queries_are_a_422(reader, path, params):
    answer = await reader.get(path, params=params)

    assert answer.status_code == 422, answer.text


async def test_a_cursor_of_one_list_is_refused_by_another(fleet, reader):
    _, sku, *_ = fleet
    page = (await reader.get("/api/v1/installed-base", params={"sku": sku, "limit": 1})).json()

    other = await reader.get(
        "/api/v1/installed-base", params={"by": "location", "cursor": page["next_cursor"]}
    )
    reliability = await reader.get("/api/v1/reliability", params={"cursor": page["next_cursor"]})

    assert (other.status_code, reliability.status_code) == (422, 422)


async def test_an_unknown_grouping_is_a_422(reader):
    answer = await reader.get("/api/v1/installed-base", params={"by": "customer"})

    assert answer.status_code == 422
    assert "by" in answer.text


@pytest.mark.parametrize("path", ["/api/v1/reliability", "/api/v1/installed-base"])
async def test_fleet_reads_need_a_valid_token(anonymous, path):
    unknown = {"Authorization": "Bearer not-a-token"}

    assert (await anonymous.get(path)).status_code == 401
    assert (await anonymous.get(path, headers=unknown)).status_code == 401


async def test_a_failure_spike_is_raised_and_resolved_once_it_leaves_the_window(
    producer, reader, assets_runtime, assets_settings
):
    """Model B, eleven devices installed 100 days ago: six still run, four failed two days
    ago, one failed 50 days ago (the baseline's only failure).

    Baseline (97 to 7 days ago): 10 x 2160 h + 47 days = 22728 h, 1 failure. Recent (the
    last 7 days): 6 x 168 h + 4 x 120 h = 1488 h, so 1488 / 22728 = 0.065470 failures
    expected, and 4 observed: P(X >= 4 | 0.06547) = 7.3e-7 < 0.001."""
    now = datetime.now(UTC).replace(microsecond=0)
    sku = ref("ONT")
    s = await known_sites(producer, assets_runtime.engine)
    installed = now - timedelta(days=100)
    for _ in range(6):
        await installed_device(producer, reader, sku, s, installed)
    for _ in range(4):
        await failed_device(producer, reader, sku, s, installed, now - timedelta(days=2))
    await failed_device(producer, reader, sku, s, installed, now - timedelta(days=50))
    keys = [f"failure_spike:{sku}", f"failure_spike:{sku}:{s.region}"]

    run = await compute(assets_runtime, assets_settings, now)

    assert set(keys) <= set(run.raised)
    for key in keys:
        [raised] = await outbox_events(assets_runtime.engine, key)
        assert raised["event_type"] == "assets.alert.raised"
        payload = raised["payload"]
        assert (payload["kind"], payload["sku"], payload["serial"]) == ("failure_spike", sku, None)
        assert payload["figures"] == {
            "observed": "4",
            "expected": "0.065470",
            "p_value": "0.000001",
            "window_days": "7",
            "baseline_days": "90",
            "installed_base": "6",
        }
    assert (await outbox_events(assets_runtime.engine, keys[1]))[0]["payload"]["region"] == s.region

    again = await compute(assets_runtime, assets_settings, now + timedelta(hours=1))
    assert set(keys) & set(again.raised) == set()

    # Eight days on, the four failures have left the recent window.
    later = await compute(assets_runtime, assets_settings, now + timedelta(days=8))

    assert set(keys) <= set(later.resolved)
    for key in keys:
        raised, resolved = await outbox_events(assets_runtime.engine, key)
        assert resolved["event_type"] == "assets.alert.resolved"
        assert resolved["payload"]["dedup_key"] == key


async def test_the_background_job_publishes_without_being_asked(
    producer, reader, assets_runtime, assets_settings
):
    now = datetime.now(UTC)
    sku = ref("ONT")
    s = await known_sites(producer, assets_runtime.engine)
    await installed_device(producer, reader, sku, s, now - timedelta(days=3))
    policy = ReliabilityPolicy.of(assets_settings)
    names = {task.get_name() for task in asyncio.all_tasks()}

    job = asyncio.create_task(
        every(0.2, partial(compute_round, lambda: new_uow(assets_runtime), policy), what="test")
    )
    try:
        found = await eventually(lambda: computed(assets_runtime.engine, sku), bool)
    finally:
        job.cancel()

    assert "assets-reliability" in names
    [figures] = found
    assert (figures["installed_base"], figures["failures"]) == (1, 0)
    assert Decimal(figures["operating_hours"]) >= 72
