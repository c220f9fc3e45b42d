"""Stored Idempotency-Key answers are purged after the retention window, through the real
app and PostgreSQL: what is purged, what is kept, and the purge running with the service."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from stock_refs import item, q, ref, seed

from stockwire.stock import request_retention
from stockwire.stock.bootstrap import bootstrap
from stockwire.stock.request_retention import purge_expired_requests
from stockwire.stock.settings import StockSettings

PURGE_TASK = "stock-request-retention"


@pytest.fixture
def retention(stock_settings: StockSettings) -> timedelta:
    return timedelta(hours=stock_settings.stock_request_retention_hours)


async def stored_requests(engine: AsyncEngine, request_ids: list[str]) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT request_id FROM command_requests WHERE request_id = ANY(:ids)"),
            {"ids": request_ids},
        )
        return {row.request_id for row in rows}


async def age(engine: AsyncEngine, request_ids: list[str], by: timedelta) -> None:
    """Make the stored answers look ``by`` older, as if they had been stored back then."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE command_requests SET created_at = created_at - CAST(:by AS interval) "
                "WHERE request_id = ANY(:ids)"
            ),
            {"by": by, "ids": request_ids},
        )


async def store_old_answers(engine: AsyncEngine, count: int, older_than: timedelta) -> list[str]:
    request_ids = [ref("old-req") for _ in range(count)]
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO command_requests (request_id, fingerprint, status_code, body, "
                "created_at) SELECT id, 'fingerprint', 201, '{}', "
                "now() - CAST(:older_than AS interval) FROM unnest(CAST(:ids AS text[])) AS id"
            ),
            {"ids": request_ids, "older_than": older_than + timedelta(minutes=1)},
        )
    return request_ids


async def wait_until(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_an_expired_answer_is_purged_and_its_key_is_then_a_new_request(
    writer, stock_runtime, stock_engine, site, retention
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    body = {"location": site.wh, "lines": [{"sku": sku.sku, "received_quantity": "5"}]}
    key = ref("req")
    first = await writer.post("/api/v1/receipts", json=body, headers={"Idempotency-Key": key})
    await age(stock_engine, [key], by=retention + timedelta(minutes=1))

    purged = await purge_expired_requests(stock_engine, retention)
    assert purged >= 1
    assert await stored_requests(stock_engine, [key]) == set()

    again = await writer.post("/api/v1/receipts", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201, again.text
    assert (
        again.json()["movements"][0]["movement_id"] != first.json()["movements"][0]["movement_id"]
    )
    [level] = again.json()["levels"]
    assert q(level["on_hand"]) == 10
    assert await stored_requests(stock_engine, [key]) == {key}


async def test_a_fresh_answer_is_kept_and_still_replayed(
    writer, stock_runtime, stock_engine, site, retention
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    body = {"location": site.wh, "lines": [{"sku": sku.sku, "received_quantity": "5"}]}
    key = {"Idempotency-Key": ref("req")}
    first = await writer.post("/api/v1/receipts", json=body, headers=key)
    await age(stock_engine, [key["Idempotency-Key"]], by=retention - timedelta(minutes=5))

    await purge_expired_requests(stock_engine, retention)
    again = await writer.post("/api/v1/receipts", json=body, headers=key)

    assert await stored_requests(stock_engine, [key["Idempotency-Key"]]) == {key["Idempotency-Key"]}
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    [level] = again.json()["levels"]
    assert q(level["on_hand"]) == 5


async def test_a_backlog_larger_than_one_chunk_is_purged_completely(stock_engine, retention):
    old = await store_old_answers(stock_engine, 25, older_than=retention)

    purged = await purge_expired_requests(stock_engine, retention, chunk_rows=10)

    assert purged >= 25
    assert await stored_requests(stock_engine, old) == set()


async def test_the_running_service_purges_on_its_interval_and_stops_the_purge_with_it(
    stock_settings, stock_engine, retention
):
    settings = stock_settings.model_copy(update={"stock_request_purge_interval_s": 0.1})
    app, _ = bootstrap(settings, consumers=False)
    running_before = asyncio.all_tasks()

    async with app.router.lifespan_context(app):
        [purge] = [
            task for task in asyncio.all_tasks() - running_before if task.get_name() == PURGE_TASK
        ]
        old = await store_old_answers(stock_engine, 3, older_than=retention)
        await wait_until(lambda: _none_left(stock_engine, old))

    assert purge.cancelled()


async def test_an_unreachable_database_is_logged_and_retried_without_stopping_the_purge(
    stock_settings, caplog
):
    settings = stock_settings.model_copy(
        update={
            "database_url": SecretStr("postgresql://postgres@127.0.0.1:1/postgres"),
            "stock_request_purge_interval_s": 0.1,
        }
    )
    app, _ = bootstrap(settings, consumers=False)
    logger = logging.getLogger(request_retention.__name__)
    logger.addHandler(caplog.handler)
    running_before = asyncio.all_tasks()
    try:
        async with app.router.lifespan_context(app):
            [purge] = [
                task
                for task in asyncio.all_tasks() - running_before
                if task.get_name() == PURGE_TASK
            ]
            await wait_until(lambda: _failures_logged(caplog, 2))
            assert not purge.done()
    finally:
        logger.removeHandler(caplog.handler)

    assert purge.cancelled()


async def _none_left(engine: AsyncEngine, request_ids: list[str]) -> bool:
    return not await stored_requests(engine, request_ids)


async def _failures_logged(caplog: pytest.LogCaptureFixture, count: int) -> bool:
    failures = [
        record
        for record in caplog.records
        if record.name == request_retention.__name__ and record.levelno == logging.ERROR
    ]
    return len(failures) >= count
