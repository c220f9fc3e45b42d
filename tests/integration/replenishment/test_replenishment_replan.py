"""The scheduled re-plan forecasts every stocked series from its demand history, keeps
each forecast with its holdout accuracy, and evaluates every SKU x location against it;
the same forecasts come out when the re-plan runs on a Dask cluster."""

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest
from distributed import LocalCluster
from replenishment_refs import (
    DEMAND_CONSUMER,
    consumed,
    issue,
    level,
    levels,
    publish,
    stocked_region,
)

from stockwire.replenishment.replan import replan_round
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork

DAYS = 210


def weekly_pattern(day: int) -> int:
    """A part asked for on about half the days, 1 to 3 at a time."""
    return 0 if day % 2 else 1 + day % 3


async def history(producer, engine, sku: str, at: str) -> int:
    """``DAYS`` days of issues at ``at``, applied; the units issued."""
    now = datetime.now(UTC)
    sent = [
        await publish(producer, issue(sku, at, weekly_pattern(day), now - timedelta(days=day)))
        for day in range(1, DAYS + 1)
        if weekly_pattern(day)
    ]
    await consumed(engine, DEMAND_CONSUMER, *sent)
    return sum(weekly_pattern(day) for day in range(1, DAYS + 1))


def replan(runtime, settings):
    def new_uow() -> ReplenishmentUnitOfWork:
        return ReplenishmentUnitOfWork(
            runtime.sessions, runtime.outbox, planning=settings.planning()
        )

    return replan_round(runtime, settings, new_uow)


async def forecast_of(reader, sku: str, at: str) -> dict:
    answer = await reader.get(f"/api/v1/forecasts/{sku}/{at}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_replan_forecasts_each_series_with_its_accuracy_and_plans_from_it(
    producer, reader, replenishment_settings, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await levels(producer, engine, level(s.sku, s.warehouse, 60))
    issued = await history(producer, engine, s.sku, s.warehouse)
    assert (await reader.get(f"/api/v1/forecasts/{s.sku}/{s.warehouse}")).status_code == 404

    said = await replan(replenishment_runtime, replenishment_settings)

    assert "series forecast" in said, said
    found = await forecast_of(reader, s.sku, s.warehouse)
    assert found["method"]
    assert found["demand_class"] in ("smooth", "erratic", "intermittent", "lumpy")
    assert found["mean_per_day"] == pytest.approx(issued / DAYS, rel=0.35)
    assert found["distribution"]["dispersion"] >= 1
    assert found["accuracy"]["points"] > 0
    assert math.isfinite(found["accuracy"]["mase"])
    assert 0 <= found["accuracy"]["coverage"] <= 1
    listed = await reader.get("/api/v1/forecasts", params={"sku": s.sku})
    assert [f["location"] for f in listed.json()["forecasts"]] == [s.warehouse]
    policy = await reader.get(f"/api/v1/policies/{s.sku}/{s.warehouse}")
    assert policy.status_code == 200, policy.text


async def test_a_replan_on_a_dask_cluster_forecasts_as_one_in_the_service(
    producer, reader, replenishment_settings, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    await levels(producer, engine, level(s.sku, s.warehouse, 60))
    await history(producer, engine, s.sku, s.warehouse)
    await replan(replenishment_runtime, replenishment_settings)
    here = await forecast_of(reader, s.sku, s.warehouse)

    cluster = await asyncio.to_thread(
        LocalCluster, processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    )
    try:
        on_dask = replenishment_settings.model_copy(
            update={"replenishment_dask_scheduler": cluster.scheduler_address}
        )
        said = await replan(replenishment_runtime, on_dask)
    finally:
        await asyncio.to_thread(cluster.close)

    assert "series forecast" in said, said
    there = await forecast_of(reader, s.sku, s.warehouse)
    assert there["made_at"] > here["made_at"]
    assert there["method"] == here["method"]
    assert there["distribution"] == pytest.approx(here["distribution"])
    assert there["mean_per_day"] == pytest.approx(here["mean_per_day"])
