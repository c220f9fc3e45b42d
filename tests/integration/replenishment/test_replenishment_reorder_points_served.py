"""Reorder points computed from what replenishment is told: the demand history of a
location, and the failure rate and installed base assets publishes for a region. Spares
for failures are held at the region's warehouses, which share its installed base
equally; the larger of the two lead-time quantiles sets the reorder point, and the why of
the suggestion names it. The expected figures are computed here by hand."""

import math
from datetime import UTC, datetime, timedelta

from replenishment_refs import (
    DEMAND_CONSUMER,
    RELIABILITY_CONSUMER,
    consumed,
    events,
    issue,
    known_item,
    known_places,
    level,
    levels,
    place,
    plan,
    publish,
    ref,
    reliability,
    suggestions,
    why,
)
from scipy.stats import poisson

from stockwire.contracts.vocabulary import LocationKind

DAYS_PER_YEAR = 365.25
LEAD_TIME_DAYS = 14  # the item's supplier lead time: a warehouse's reorder point covers it
REVIEW_DAYS = 7  # a warehouse's review period
WAREHOUSE_SERVICE_LEVEL = 0.97


async def test_a_warehouse_sized_by_its_share_of_the_failures_says_the_failure_rate_dominated(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    region = ref("REG")
    warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, region)
    other = await place(producer, ref("WH"), LocationKind.WAREHOUSE, region)
    pop = await place(producer, ref("POP"), LocationKind.POINT_OF_PRESENCE, region)
    await known_places(engine, warehouse, other, pop)
    await consumed(
        engine,
        RELIABILITY_CONSUMER,
        await publish(producer, reliability(sku, region, 401, "0.5"), producer_name="assets"),
    )

    await levels(producer, engine, level(sku, warehouse, 0), level(sku, pop, 0))

    share = 201  # 401 installed, shared between two warehouses, rounded up
    daily = share * 0.5 / DAYS_PER_YEAR
    mean = daily * LEAD_TIME_DAYS
    point = int(poisson.ppf(WAREHOUSE_SERVICE_LEVEL, mean))
    up_to = math.ceil(point + daily * REVIEW_DAYS)
    [found] = await suggestions(writer, sku=sku, location=warehouse)
    assert found["kind"] == "purchase"
    assert float(found["quantity"]) == up_to
    explanation = await why(writer, found["suggestion_id"])
    safety = explanation["levels"]["safety"]
    assert safety["dominant"] == "failure_rate"
    assert safety["installed_base"] == share
    assert safety["failures_per_device_year"] == 0.5
    assert safety["lead_time_days"] == LEAD_TIME_DAYS
    assert safety["service_level"] == WAREHOUSE_SERVICE_LEVEL
    assert math.isclose(safety["failure_mean"], mean)
    assert safety["failure_quantile"] == point
    assert math.isclose(safety["failure_term"], point - mean)
    assert (safety["demand_mean"], safety["demand_quantile"]) == (0, 0)
    assert math.isclose(safety["safety_stock"], point - mean)
    assert explanation["levels"]["reorder_point"] == point
    assert explanation["levels"]["order_up_to"] == up_to
    assert math.isclose(explanation["levels"]["daily_demand_mean"], daily)
    [made] = await events(engine, f"{sku}@{warehouse}", "replenishment.suggestion.made")
    assert made["payload"]["dominant_term"] == "failure_rate"
    assert float(made["payload"]["reorder_point"]) == point
    assert float(made["payload"]["order_up_to"]) == up_to
    # A point of presence is restocked from the warehouses: no failure term of its own.
    pop_plan = await plan(engine, sku, pop)
    assert pop_plan is not None
    assert pop_plan["dominant_term"] == "demand_variability"
    assert float(pop_plan["reorder_point"]) == 0
    assert await suggestions(writer, sku=sku, location=pop) == []


async def test_a_warehouse_with_demand_above_its_failures_says_the_demand_variability_dominated(
    producer, writer, replenishment_runtime
):
    engine = replenishment_runtime.engine
    sku = await known_item(producer, engine, ref("ONT"))
    region = ref("REG")
    warehouse = await place(producer, ref("WH"), LocationKind.WAREHOUSE, region)
    await known_places(engine, warehouse)
    ten_days_ago = datetime.now(UTC) - timedelta(days=9)
    await consumed(
        engine,
        DEMAND_CONSUMER,
        await publish(producer, issue(sku, warehouse, 20, ten_days_ago)),
    )
    await consumed(
        engine,
        RELIABILITY_CONSUMER,
        await publish(producer, reliability(sku, region, 10, "0.2"), producer_name="assets"),
    )

    await levels(producer, engine, level(sku, warehouse, 5))

    daily = 20 / 10  # 20 issued over the 10 days since the first demand
    mean = daily * LEAD_TIME_DAYS
    quantile = poisson.ppf(WAREHOUSE_SERVICE_LEVEL, mean)
    failure_mean = 10 * 0.2 * LEAD_TIME_DAYS / DAYS_PER_YEAR
    up_to = math.ceil(quantile + daily * REVIEW_DAYS)
    [found] = await suggestions(writer, sku=sku, location=warehouse)
    assert found["kind"] == "purchase"
    assert float(found["quantity"]) == up_to - 5
    explanation = await why(writer, found["suggestion_id"])
    safety = explanation["levels"]["safety"]
    assert safety["dominant"] == "demand_variability"
    assert math.isclose(safety["demand_mean"], mean)
    assert safety["demand_quantile"] == quantile
    assert math.isclose(safety["variability_term"], quantile - mean)
    assert safety["installed_base"] == 10
    assert math.isclose(safety["failure_mean"], failure_mean)
    assert safety["failure_quantile"] == poisson.ppf(WAREHOUSE_SERVICE_LEVEL, failure_mean)
    assert explanation["levels"]["reorder_point"] == quantile
    assert explanation["levels"]["order_up_to"] == up_to
    assert explanation["levels"]["daily_demand_mean"] == daily
    assert explanation["position"]["available"] == 5
    assert explanation["need"] == up_to - 5
