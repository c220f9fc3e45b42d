"""The demand history replenishment builds from stock's movement ledger: what consumes
stock (issues, and installs straight from a shelf) and what was refused for lack of it
(lost demand), per SKU x location and day, each movement once however often it arrives."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from replenishment_refs import (
    DEMAND_CONSUMER,
    consumed,
    issue,
    movement,
    publish,
    ref,
    rejected,
    send_envelope,
    stocked_region,
    today,
)

from stockwire.contracts.vocabulary import MovementKind, RejectionReason


async def demand(engine, sku: str) -> dict[tuple[str, date], tuple[Decimal, Decimal]]:
    """(used, lost) per location and day."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT location, day, quantity, lost_quantity FROM demand_daily WHERE sku = :sku"
            ),
            {"sku": sku},
        )
        return {(r.location, r.day): (r.quantity, r.lost_quantity) for r in rows}


async def test_issues_and_installs_from_a_shelf_are_demand_where_they_happen(
    producer, replenishment_runtime
):
    sku, van, site = ref("ONT"), ref("VAN"), ref("SITE")
    when = datetime.now(UTC) - timedelta(days=3)

    sent = [
        await publish(producer, issue(sku, van, 2, when)),
        await publish(
            producer,
            movement(MovementKind.INSTALL, sku, van, 1, when, from_location=van, to_location=site),
        ),
    ]
    await consumed(replenishment_runtime.engine, DEMAND_CONSUMER, *sent)

    assert await demand(replenishment_runtime.engine, sku) == {
        (van, when.date()): (Decimal(3), Decimal(0))
    }


async def test_installing_a_part_already_issued_to_the_job_is_not_counted_again(
    producer, replenishment_runtime
):
    sku, van, site = ref("ONT"), ref("VAN"), ref("SITE")
    when = datetime.now(UTC) - timedelta(days=1)

    sent = [
        await publish(producer, issue(sku, van, 1, when)),
        await publish(
            producer,
            movement(
                MovementKind.INSTALL,
                sku,
                site,
                1,
                when,
                from_location=van,
                to_location=site,
                reason_code="install_from_job",
            ),
        ),
    ]
    await consumed(replenishment_runtime.engine, DEMAND_CONSUMER, *sent)

    assert await demand(replenishment_runtime.engine, sku) == {
        (van, when.date()): (Decimal(1), Decimal(0))
    }


async def test_transfers_receipts_returns_and_adjustments_are_not_demand(
    producer, replenishment_runtime
):
    sku, warehouse, van = ref("ONT"), ref("WH"), ref("VAN")
    when = datetime.now(UTC)
    moves = [
        movement(
            MovementKind.TRANSFER_SHIP,
            sku,
            warehouse,
            5,
            when,
            from_location=warehouse,
            to_location=van,
        ),
        movement(
            MovementKind.TRANSFER_RECEIVE,
            sku,
            van,
            5,
            when,
            from_location=warehouse,
            to_location=van,
        ),
        movement(MovementKind.RECEIPT, sku, warehouse, 9, when),
        movement(MovementKind.RETURN, sku, van, 1, when),
        movement(MovementKind.ADJUSTMENT, sku, van, 2, when),
        movement(MovementKind.RESERVE, sku, van, 1, when),
    ]

    sent = [await publish(producer, m) for m in moves]
    await consumed(replenishment_runtime.engine, DEMAND_CONSUMER, *sent)

    assert await demand(replenishment_runtime.engine, sku) == {}


async def test_an_issue_or_install_refused_for_lack_of_stock_is_lost_demand(
    producer, replenishment_runtime
):
    sku, van = ref("ONT"), ref("VAN")
    refusals = [
        rejected(MovementKind.ISSUE, sku, van, 4, RejectionReason.NEGATIVE_STOCK),
        rejected(MovementKind.INSTALL, sku, van, 1, RejectionReason.NEGATIVE_STOCK),
        rejected(MovementKind.ISSUE, sku, van, 7, RejectionReason.INACTIVE_LOCATION),
        rejected(MovementKind.TRANSFER_SHIP, sku, van, 3, RejectionReason.NEGATIVE_STOCK),
    ]

    sent = [await publish(producer, r) for r in refusals]
    await consumed(replenishment_runtime.engine, DEMAND_CONSUMER, *sent)

    assert await demand(replenishment_runtime.engine, sku) == {
        (van, today()): (Decimal(0), Decimal(5))
    }


async def test_a_movement_delivered_twice_counts_once(producer, replenishment_runtime):
    sku, van = ref("ONT"), ref("VAN")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    first = issue(sku, van, 2, yesterday)
    envelope = await publish(producer, first)
    await send_envelope(producer, first, envelope)
    # Same key, so same partition: once this one is applied, the repeat before it was seen.
    after = await publish(producer, issue(sku, van, 1, datetime.now(UTC)))

    await consumed(replenishment_runtime.engine, DEMAND_CONSUMER, envelope, after)

    assert await demand(replenishment_runtime.engine, sku) == {
        (van, yesterday.date()): (Decimal(2), Decimal(0)),
        (van, today()): (Decimal(1), Decimal(0)),
    }


async def test_the_demand_api_answers_every_day_at_a_location_and_summed_over_its_region(
    producer, reader, replenishment_runtime
):
    engine = replenishment_runtime.engine
    s = await stocked_region(producer, engine)
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    sent = [
        await publish(producer, issue(s.sku, s.warehouse, 3, two_days_ago)),
        await publish(producer, issue(s.sku, s.van, 1, two_days_ago)),
        await publish(
            producer,
            rejected(MovementKind.ISSUE, s.sku, s.van, 2, RejectionReason.NEGATIVE_STOCK),
        ),
    ]
    await consumed(engine, DEMAND_CONSUMER, *sent)

    at_van = await reader.get("/api/v1/demand", params={"sku": s.sku, "location": s.van, "days": 3})
    in_region = await reader.get(
        "/api/v1/demand", params={"sku": s.sku, "region": s.region, "days": 3}
    )

    assert at_van.status_code == 200, at_van.text
    days = [
        (d["day"], Decimal(d["quantity"]), Decimal(d["lost_quantity"]))
        for d in at_van.json()["days"]
    ]
    first = today() - timedelta(days=2)
    assert days == [
        (first.isoformat(), Decimal(1), Decimal(0)),
        ((first + timedelta(days=1)).isoformat(), Decimal(0), Decimal(0)),
        (today().isoformat(), Decimal(0), Decimal(2)),
    ]
    assert [Decimal(d["quantity"]) for d in in_region.json()["days"]] == [4, 0, 0]


async def test_the_demand_api_wants_a_location_or_a_region_not_both(reader):
    both = await reader.get(
        "/api/v1/demand", params={"sku": "ONT", "location": "VAN-1", "region": "R"}
    )
    neither = await reader.get("/api/v1/demand", params={"sku": "ONT"})

    assert both.status_code == 422, both.text
    assert neither.status_code == 422, neither.text
