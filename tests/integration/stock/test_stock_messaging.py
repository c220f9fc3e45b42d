"""Stock's consumers on the real broker: FSM job events, scans, goods receipts and the
catalog copy, applied once each, with rejections and dead letters where they belong.

Records are published with a plain producer; effects are awaited in the database (or on
the output topics, read from their end with partitions assigned by hand, so no group join
is needed to read them).
"""

import asyncio
import json
import secrets
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from stock_refs import (
    PUBLIC_URL,
    assert_books_balance,
    item,
    outbox_payloads,
    q,
    receive,
    ref,
    seed,
    uow_for,
)
from stock_topics import eventually, ledger_rows, publish, records_for, stock_receive, tail

from stockwire.contracts.catalog import CatalogItemUpserted
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.fsm import DeviceSwapped, PartInstalled, PartLine, PartsIssued
from stockwire.contracts.receipts import GoodsReceived, ReceiptLine
from stockwire.contracts.scans import ScanMethod, ScanPurpose, ScanRecorded
from stockwire.contracts.topics import FSM_JOB_EVENTS, STOCK_ALERTS, STOCK_MOVEMENTS
from stockwire.stock import handlers
from stockwire.stock.domain.commands import Origin, ReceiveGoods
from stockwire.stock.domain.commands import ReceiptLine as StockReceiptLine
from stockwire.stock.tables import MESSAGING, catalog_items, count_lines, serials


async def test_the_same_fsm_event_delivered_many_times_is_applied_once(
    producer, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    job = ref("JOB")
    await stock_receive(stock_runtime, site.van, sku.sku, 10)
    issued = PartsIssued(
        job_id=job, from_location=site.van, lines=(PartLine(sku=sku.sku, quantity=q(2)),)
    )
    envelope = wrap(issued, producer="fsm-tests")
    for _ in range(3):
        await publish(producer, issued, envelope=envelope)
    follower = PartsIssued(
        job_id=job, from_location=site.van, lines=(PartLine(sku=sku.sku, quantity=q(1)),)
    )
    follower_envelope = await publish(producer, follower)

    await eventually(lambda: ledger_rows(stock_engine, source_event_id=follower_envelope.event_id))

    rows = await ledger_rows(stock_engine, job_id=job)
    assert [(r.source_event_id, r.on_hand_delta) for r in rows] == [
        (envelope.event_id, q(-2)),
        (follower_envelope.event_id, q(-1)),
    ]
    await assert_books_balance(stock_engine, [sku.sku])


async def test_a_malformed_fsm_event_goes_to_the_dead_letter_topic(settings, producer):
    key = ref("JOB")
    dead = await tail(settings, FSM_JOB_EVENTS.dlq, partitions=1)
    try:
        bad = wrap(
            PartsIssued(job_id=key, from_location="VAN", lines=(PartLine(sku="X", quantity=q(1)),)),
            producer="fsm-tests",
        ).model_dump(mode="json")
        bad["payload"]["lines"][0]["quantity"] = "-3"
        await producer.send_and_wait(
            FSM_JOB_EVENTS.name, value=json.dumps(bad).encode(), key=key.encode()
        )
        [record] = await records_for(dead, key)
    finally:
        await dead.stop()

    headers = dict(record.headers)
    assert b"payload.lines.0.quantity" in headers["dlq-reason"]
    assert headers["dlq-consumer"] == b"stock-movements"


@pytest.mark.parametrize("unknown", ["sku", "location"])
async def test_an_fsm_event_for_an_unknown_sku_or_location_is_published_as_a_rejection(
    settings, producer, stock_runtime, site, unknown
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    sku_code = ref("NOPE") if unknown == "sku" else sku.sku
    van = ref("NOWHERE") if unknown == "location" else site.van
    movements = await tail(settings, STOCK_MOVEMENTS)
    alerts = await tail(settings, STOCK_ALERTS)
    try:
        envelope = await publish(
            producer,
            PartsIssued(
                job_id=ref("JOB"), from_location=van, lines=(PartLine(sku=sku_code, quantity=q(1)),)
            ),
        )
        [rejected] = await records_for(movements, f"{sku_code}@{van}")
        [alert] = await records_for(alerts, f"{sku_code}@{van}")
    finally:
        await movements.stop()
        await alerts.stop()

    published = Envelope.model_validate_json(rejected.value)
    assert published.event_type == "stock.movement.rejected"
    assert published.payload["reason"] == f"unknown_{unknown}"
    assert published.payload["source_event_id"] == str(envelope.event_id)
    assert published.causation_id == envelope.event_id
    assert published.correlation_id == envelope.correlation_id
    assert Envelope.model_validate_json(alert.value).payload["kind"] == "rejected_movement"


async def test_a_device_swap_installs_the_new_device_and_quarantines_the_old_one(
    producer, stock_runtime, stock_engine, site
):
    ont = item("ONT", "serial")
    await seed(stock_runtime, items=[ont])
    new, old = ref("SN"), ref("SN")
    await stock_receive(stock_runtime, site.van, ont.sku, 1, serials=(new,))

    envelope = await publish(
        producer,
        DeviceSwapped(
            job_id=ref("JOB"),
            customer_site=site.customer,
            from_location=site.van,
            removed_sku=ont.sku,
            removed_serial=old,
            installed_sku=ont.sku,
            installed_serial=new,
        ),
    )
    rows = await eventually(lambda: ledger_rows(stock_engine, source_event_id=envelope.event_id))

    assert [(r.kind, r.serial, r.location) for r in rows] == [
        ("install", new, site.van),
        ("return", old, site.wh_q),
    ]
    async with stock_engine.connect() as conn:
        where = dict(
            (
                await conn.execute(
                    sa.select(serials.c.serial, serials.c.location).where(
                        serials.c.serial.in_([new, old])
                    )
                )
            ).all()
        )
    assert where == {new: site.customer, old: site.wh_q}


async def test_partial_spool_consumption_over_fsm_leaves_the_rest_on_the_spool(
    producer, stock_runtime, stock_engine, site
):
    fiber = item("FIBER", "length")
    await seed(stock_runtime, items=[fiber])
    await stock_receive(stock_runtime, site.van, fiber.sku, 500, lot="SPOOL-1")

    envelope = await publish(
        producer,
        PartInstalled(
            job_id=ref("JOB"),
            from_location=site.van,
            customer_site=site.customer,
            line=PartLine(sku=fiber.sku, quantity=q("37.5"), lot="SPOOL-1"),
        ),
    )
    [row] = await eventually(lambda: ledger_rows(stock_engine, source_event_id=envelope.event_id))

    assert (row.lot, row.on_hand_delta) == ("SPOOL-1", q("-37.5"))
    await assert_books_balance(stock_engine, [fiber.sku])
    from_ledger = await ledger_rows(stock_engine, sku=fiber.sku, location=site.van)
    assert sum(r.on_hand_delta for r in from_ledger) == q("462.5")


async def test_scans_receive_pick_and_count(producer, writer, stock_runtime, stock_engine, site):
    sku = item()
    await seed(stock_runtime, items=[sku])

    def scan(purpose: ScanPurpose, quantity: str, count_id: str | None = None) -> ScanRecorded:
        return ScanRecorded(
            scanner_id="gun-7",
            method=ScanMethod.BARCODE,
            purpose=purpose,
            location=site.wh,
            sku=sku.sku,
            quantity=q(quantity),
            count_id=count_id,
        )

    received = await publish(producer, scan(ScanPurpose.RECEIPT, "10"))
    picked = await publish(producer, scan(ScanPurpose.PICK, "4"))
    await eventually(lambda: ledger_rows(stock_engine, source_event_id=picked.event_id))
    opened = await writer.post("/api/v1/counts", json={"location": site.wh, "skus": [sku.sku]})
    count_id = opened.json()["count"]["count_id"]
    await publish(producer, scan(ScanPurpose.COUNT, "3", count_id))
    await publish(producer, scan(ScanPurpose.COUNT, "2", count_id))

    async def counted():
        async with stock_engine.connect() as conn:
            return await conn.scalar(
                sa.select(count_lines.c.counted).where(
                    count_lines.c.count_id == count_id, count_lines.c.counted == 5
                )
            )

    await eventually(counted)
    [receipt] = await ledger_rows(stock_engine, source_event_id=received.event_id)
    [pick] = await ledger_rows(stock_engine, source_event_id=picked.event_id)
    assert (receipt.reason_code, pick.reason_code, pick.kind) == (
        "scan_receipt",
        "scan_pick",
        "issue",
    )
    closed = await writer.post(f"/api/v1/counts/{count_id}/close")
    assert [(m["reason_code"], q(m["quantity"])) for m in closed.json()["movements"]] == [
        ("count_loss", q(1))
    ]


async def test_a_goods_receipt_records_exact_short_and_over_lines(
    producer, stock_runtime, stock_engine, site
):
    skus = [item() for _ in range(4)]
    await seed(stock_runtime, items=skus)
    po = ref("PO")

    await publish(
        producer,
        GoodsReceived(
            receipt_id=ref("GR"),
            po_number=po,
            supplier="Acme Optics",
            location=site.wh,
            lines=tuple(
                ReceiptLine(sku=s.sku, ordered_quantity=q(10), received_quantity=q(received))
                for s, received in zip(skus, (10, 8, 12, 0), strict=True)
            ),
        ),
    )
    rows = await eventually(lambda: ledger_rows(stock_engine, po_number=po))

    assert [(r.sku, r.reason_code, r.on_hand_delta) for r in rows] == [
        (skus[0].sku, "receipt_exact", q(10)),
        (skus[1].sku, "receipt_short", q(8)),
        (skus[2].sku, "receipt_over", q(12)),
    ]


async def test_the_catalog_copy_keeps_the_newest_version(producer, stock_engine):
    sku = ref("CAT")

    def version(number: int, status: str) -> CatalogItemUpserted:
        return CatalogItemUpserted(
            sku=sku,
            name=f"ONT v{number}",
            manufacturer="Nokia",
            category="ont",
            tracking_mode="serial",
            unit="each",
            handling_class="none",
            criticality="critical" if number == 2 else "low",
            unit_cost=q("10"),
            currency="EUR",
            default_lead_time_days=14 * number,
            end_of_life=date(2031, 12, 31) if number == 2 else None,
            warranty_months=36 if number == 2 else None,
            status=status,
            version=number,
            updated_at=datetime.now(UTC),
        )

    await publish(producer, version(2, "retired"))
    older = await publish(producer, version(1, "active"))

    async def applied():
        inbox = MESSAGING.inbox
        async with stock_engine.connect() as conn:
            return await conn.scalar(
                sa.select(inbox.c.event_id).where(inbox.c.event_id == older.event_id)
            )

    await eventually(applied)
    async with stock_engine.connect() as conn:
        row = (await conn.execute(sa.select(catalog_items).where(catalog_items.c.sku == sku))).one()
    assert (row.version, row.status, row.tracking_mode) == (2, "retired", "serial")
    assert (row.name, row.category, row.criticality) == ("ONT v2", "ont", "critical")
    assert (row.default_lead_time_days, row.end_of_life) == (28, date(2031, 12, 31))
    assert row.warranty_months == 36


async def test_a_receipt_beyond_a_billion_in_a_batch_is_a_rejection_not_a_poison_batch(
    producer, stock_runtime, stock_engine, site
):
    full, other = item(), item()
    await seed(stock_runtime, items=[full, other])
    await stock_receive_lines(stock_runtime, site.wh, full.sku, [1_000_000] * 1000)

    def receipt_scan(sku: str, quantity: str) -> ScanRecorded:
        return ScanRecorded(
            scanner_id="gun-7",
            method=ScanMethod.BARCODE,
            purpose=ScanPurpose.RECEIPT,
            location=site.wh,
            sku=sku,
            quantity=q(quantity),
        )

    beyond = await publish(producer, receipt_scan(full.sku, "1"))
    fine = await publish(producer, receipt_scan(other.sku, "5"))

    async def rejected():
        published = await outbox_payloads(stock_engine, f"{full.sku}@{site.wh}")
        return [e for e in published if e["event_type"] == "stock.movement.rejected"]

    [rejection] = await eventually(rejected)
    [applied] = await eventually(lambda: ledger_rows(stock_engine, source_event_id=fine.event_id))
    assert rejection["payload"]["reason"] == "invalid_quantity"
    assert rejection["payload"]["source_event_id"] == str(beyond.event_id)
    assert applied.on_hand_delta == q(5)
    await assert_books_balance(stock_engine, [full.sku, other.sku])


async def test_a_receipt_after_a_stockout_publishes_its_resolution_on_the_alerts_topic(
    settings, producer, writer, stock_runtime, site
):
    sku = item(tracking="bulk")
    await seed(stock_runtime, items=[sku])
    await stock_receive(stock_runtime, site.van, sku.sku, 2)
    key = f"{sku.sku}@{site.van}"
    alerts = await tail(settings, STOCK_ALERTS)
    try:
        job = ref("JOB")
        drained = await publish(
            producer,
            PartsIssued(
                job_id=job, from_location=site.van, lines=(PartLine(sku=sku.sku, quantity=q(2)),)
            ),
        )
        [raised_record] = await records_for(alerts, key)
        await receive(writer, site.van, sku.sku, 3)
        [resolved_record] = await records_for(alerts, key)
    finally:
        await alerts.stop()

    raised = Envelope.model_validate_json(raised_record.value)
    resolved = Envelope.model_validate_json(resolved_record.value)
    assert raised.event_type == "stock.alert.raised"
    assert raised.causation_id == drained.event_id
    assert raised.payload["kind"] == "stockout"
    assert (raised.payload["region"], raised.payload["category"]) == ("north", "other")
    assert raised.payload["labels"] == {"job_id": job}
    assert {k: q(v) for k, v in raised.payload["figures"].items()} == {
        "available": 0,
        "was_available": 2,
    }
    link = f"{PUBLIC_URL}/api/v1/balances?sku={sku.sku}&location={site.van}"
    assert raised.payload["link"] == link
    assert resolved.event_type == "stock.alert.resolved"
    assert resolved.payload["dedup_key"] == raised.payload["dedup_key"] == f"stockout:{key}"
    assert resolved.payload["kind"] == "stockout"
    assert (resolved.payload["region"], resolved.payload["category"]) == ("north", "other")
    assert {k: q(v) for k, v in resolved.payload["figures"].items()} == {
        "available": 3,
        "was_available": 0,
    }
    assert resolved.payload["link"] == link


async def test_an_alert_caused_by_the_second_event_of_a_batch_continues_that_events_trace(
    settings, producer, stock_runtime, site
):
    # Given a van with 2 on the shelf, and two FSM events of one job written in two traces,
    # sent together so the consumer applies them as one batch
    sku = item()
    await seed(stock_runtime, items=[sku])
    await stock_receive(stock_runtime, site.van, sku.sku, 2)
    job = ref("JOB")
    traceparents = [f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01" for _ in range(2)]
    alerts = await tail(settings, STOCK_ALERTS)
    try:
        sent = []
        for traceparent in traceparents:
            issued = PartsIssued(
                job_id=job, from_location=site.van, lines=(PartLine(sku=sku.sku, quantity=q(1)),)
            )
            sent.append(
                await producer.send(
                    FSM_JOB_EVENTS.name,
                    value=wrap(issued, producer="fsm-tests").model_dump_json().encode(),
                    key=job.encode(),
                    headers=[("traceparent", traceparent.encode())],
                )
            )
        await asyncio.gather(*sent)

        # When the second one drains the van
        [alert] = await records_for(alerts, f"{sku.sku}@{site.van}")
    finally:
        await alerts.stop()

    # Then the stockout it caused is published in the second event's trace
    assert Envelope.model_validate_json(alert.value).payload["kind"] == "stockout"
    assert dict(alert.headers)["traceparent"].decode() == traceparents[1]


async def test_a_serial_conflict_over_fsm_is_resolved_when_the_serial_next_moves(
    settings, producer, writer, stock_runtime, site
):
    ont = item("ONT", tracking="serial")
    await seed(stock_runtime, items=[ont])
    serial = ref("SN")
    await stock_receive(stock_runtime, site.wh, ont.sku, 1, serials=(serial,))
    key = f"{ont.sku}@{site.van}"
    alerts = await tail(settings, STOCK_ALERTS)
    try:
        await publish(
            producer,
            PartInstalled(
                job_id=ref("JOB"),
                customer_site=site.customer,
                from_location=site.van,
                line=PartLine(sku=ont.sku, quantity=q(1), serials=(serial,)),
            ),
        )
        raised = [Envelope.model_validate_json(r.value) for r in await records_for(alerts, key, 2)]
        shipped = await writer.post(
            "/api/v1/transfers",
            json={
                "sku": ont.sku,
                "from_location": site.wh,
                "to_location": site.van,
                "quantity": "1",
                "serials": [serial],
            },
        )
        assert shipped.status_code == 201, shipped.text
        [resolved_record] = await records_for(alerts, key)
    finally:
        await alerts.stop()

    conflict = next(e for e in raised if e.payload["kind"] == "serial_conflict")
    assert conflict.payload["labels"]["serial"] == serial
    assert conflict.payload["link"] == f"{PUBLIC_URL}/api/v1/serials/{serial}"
    resolved = Envelope.model_validate_json(resolved_record.value)
    assert resolved.event_type == "stock.alert.resolved"
    assert resolved.payload["dedup_key"] == conflict.payload["dedup_key"]
    assert resolved.payload["labels"] == {"serial": serial, "state": "in_transit"}


async def stock_receive_lines(runtime, location: str, sku: str, quantities: list) -> None:
    """Many lines of one SKU received in one command, through the handlers."""
    lines = tuple(StockReceiptLine(sku, q(quantity)) for quantity in quantities)
    [outcome] = await handlers.apply_commands(
        [ReceiveGoods(location, lines, Origin("tests"))], uow_for(runtime)
    )
    assert outcome.applied, outcome.rejection
