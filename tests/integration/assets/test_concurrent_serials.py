"""Two transactions applying facts of one serial at once (its movements arrive on
different partitions, applied by different consumers or replicas) take turns: the second
sees the device the first created instead of parking a fact nobody would replay."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from assets_refs import PUBLIC_URL, device_in, ref

from stockwire.assets import handlers
from stockwire.assets.domain.movements import Moved
from stockwire.assets.tables import parked_facts
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.vocabulary import MovementKind


def moved(kind: MovementKind, serial: str, sku: str, at: datetime) -> Moved:
    return Moved(
        serial=serial,
        sku=sku,
        kind=kind,
        reason_code=kind.value,
        location="WH-CONCURRENT",
        from_location="WH-CONCURRENT" if kind is MovementKind.ISSUE else None,
        to_location="WH-CONCURRENT" if kind is MovementKind.RECEIPT else None,
        condition=None,
        job_id=None,
        at=at,
        source_event_id=uuid.uuid4(),
    )


async def test_a_serials_second_fact_waits_for_the_transaction_creating_its_device(
    assets_runtime, reader
):
    serial, sku = ref("SN"), ref("ONT")
    start = datetime.now(UTC) - timedelta(hours=1)
    runtime = assets_runtime
    async with runtime.sessions() as first, first.begin():
        receipt = AssetsUnitOfWork.within(first, runtime.outbox, [], public_url=PUBLIC_URL)
        await handlers.apply_movements([moved(MovementKind.RECEIPT, serial, sku, start)], receipt)
        issue = AssetsUnitOfWork(runtime.sessions, runtime.outbox, public_url=PUBLIC_URL)
        second = asyncio.create_task(
            handlers.apply_movements(
                [moved(MovementKind.ISSUE, serial, sku, start + timedelta(minutes=5))], issue
            )
        )
        await asyncio.sleep(0.5)
        assert not second.done(), "the second transaction went ahead of the first"
    await asyncio.wait_for(second, timeout=10)

    found = await device_in(reader, serial, "allocated")
    assert found is not None and found["device"]["state"] == "allocated"
    async with runtime.engine.connect() as conn:
        waiting = await conn.scalar(
            sa.select(sa.func.count()).where(parked_facts.c.serial == serial)
        )
    assert waiting == 0
