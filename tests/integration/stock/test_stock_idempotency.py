"""Idempotency-Key answers through the real stock app and PostgreSQL: the key space is the
client's, answers are purged after the retention window (in chunks, beside the service),
and a command whose commit reply is lost is never applied twice."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from stock_refs import item, q, ref, seed

from stockwire.runtime import periodic
from stockwire.runtime.http.idempotency import purge_expired
from stockwire.stock.bootstrap import bootstrap
from stockwire.stock.settings import StockSettings
from stockwire.stock.tables import IDEMPOTENCY_KEYS, ledger

PURGE_TASK = "stock-idempotency-purge"


@pytest.fixture
def retention(stock_settings: StockSettings) -> timedelta:
    return timedelta(hours=stock_settings.idempotency_retention_hours)


async def kept_keys(engine: AsyncEngine, keys: list[str]) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT key FROM idempotency_keys WHERE key = ANY(:keys)"), {"keys": keys}
        )
        return {row.key for row in rows}


async def age(engine: AsyncEngine, keys: list[str], by: timedelta) -> None:
    """Make the kept answers look ``by`` older, as if they had been kept back then."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE idempotency_keys SET created_at = created_at - CAST(:by AS interval) "
                "WHERE key = ANY(:keys)"
            ),
            {"by": by, "keys": keys},
        )


async def keep_old_answers(engine: AsyncEngine, count: int, older_than: timedelta) -> list[str]:
    keys = [ref("old-key") for _ in range(count)]
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO idempotency_keys (client, key, fingerprint, status_code, body, "
                "created_at) SELECT 'writer', k, 'fingerprint', 201, '{}', "
                "now() - CAST(:older_than AS interval) FROM unnest(CAST(:keys AS text[])) AS k"
            ),
            {"keys": keys, "older_than": older_than + timedelta(minutes=1)},
        )
    return keys


async def wait_until(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def receipt(location: str, sku: str, quantity: str = "5") -> dict[str, object]:
    return {"location": location, "lines": [{"sku": sku, "received_quantity": quantity}]}


async def movements_of(engine: AsyncEngine, sku: str) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count(sa.distinct(ledger.c.movement_id))).where(ledger.c.sku == sku)
        )
    return int(found or 0)


async def test_another_client_reusing_your_key_makes_its_own_request_and_never_sees_yours(
    writer, admin, stock_runtime, stock_engine, site
):
    mine, theirs = item(), item()
    await seed(stock_runtime, items=[mine, theirs])
    key = {"Idempotency-Key": ref("shared-key")}

    first = await writer.post("/api/v1/receipts", json=receipt(site.wh, mine.sku), headers=key)
    other = await admin.post("/api/v1/receipts", json=receipt(site.wh, theirs.sku), headers=key)
    same_body = await admin.post("/api/v1/receipts", json=receipt(site.wh, mine.sku), headers=key)

    assert first.status_code == other.status_code == 201, other.text
    assert other.json()["movements"][0]["sku"] == theirs.sku
    assert same_body.status_code == 409
    assert same_body.json()["problems"][0]["field"] == "Idempotency-Key"
    assert await movements_of(stock_engine, mine.sku) == 1
    assert await movements_of(stock_engine, theirs.sku) == 1


async def test_an_expired_answer_is_purged_and_its_key_is_then_a_new_request(
    writer, stock_runtime, stock_engine, site, retention
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    key = ref("key")
    headers = {"Idempotency-Key": key}
    first = await writer.post("/api/v1/receipts", json=receipt(site.wh, sku.sku), headers=headers)
    await age(stock_engine, [key], by=retention + timedelta(minutes=1))

    purged = await purge_expired(stock_engine, IDEMPOTENCY_KEYS, retention)
    assert purged >= 1
    assert await kept_keys(stock_engine, [key]) == set()

    again = await writer.post("/api/v1/receipts", json=receipt(site.wh, sku.sku), headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert (
        again.json()["movements"][0]["movement_id"] != first.json()["movements"][0]["movement_id"]
    )
    [level] = again.json()["levels"]
    assert q(level["on_hand"]) == 10
    assert await kept_keys(stock_engine, [key]) == {key}


async def test_a_fresh_answer_is_kept_and_still_replayed(
    writer, stock_runtime, stock_engine, site, retention
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    key = ref("key")
    headers = {"Idempotency-Key": key}
    first = await writer.post("/api/v1/receipts", json=receipt(site.wh, sku.sku), headers=headers)
    await age(stock_engine, [key], by=retention - timedelta(minutes=5))

    await purge_expired(stock_engine, IDEMPOTENCY_KEYS, retention)
    again = await writer.post("/api/v1/receipts", json=receipt(site.wh, sku.sku), headers=headers)

    assert await kept_keys(stock_engine, [key]) == {key}
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    [level] = again.json()["levels"]
    assert q(level["on_hand"]) == 5


async def test_a_backlog_larger_than_one_chunk_is_purged_completely(stock_engine, retention):
    old = await keep_old_answers(stock_engine, 25, older_than=retention)

    purged = await purge_expired(stock_engine, IDEMPOTENCY_KEYS, retention, chunk_rows=10)

    assert purged >= 25
    assert await kept_keys(stock_engine, old) == set()


async def test_the_running_service_purges_on_its_interval_and_stops_the_purge_with_it(
    stock_settings, stock_engine, retention
):
    settings = stock_settings.model_copy(update={"idempotency_purge_interval_s": 0.1})
    app, _ = bootstrap(settings, consumers=False)
    running_before = asyncio.all_tasks()

    async with app.router.lifespan_context(app):
        [purge] = [
            task for task in asyncio.all_tasks() - running_before if task.get_name() == PURGE_TASK
        ]
        old = await keep_old_answers(stock_engine, 3, older_than=retention)
        await wait_until(lambda: _none_left(stock_engine, old))

    assert purge.cancelled()


async def test_an_unreachable_database_is_logged_and_retried_without_stopping_the_purge(
    stock_settings, caplog
):
    settings = stock_settings.model_copy(
        update={
            "database_url": SecretStr("postgresql://postgres@127.0.0.1:1/postgres"),
            "idempotency_purge_interval_s": 0.1,
        }
    )
    app, _ = bootstrap(settings, consumers=False)
    logger = logging.getLogger(periodic.__name__)
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


class LostCommitReply(AsyncSession):
    """A session whose COMMIT reaches PostgreSQL and commits, but whose reply is lost on
    the way back, as when the connection drops at that moment (the narrowest seam where a
    test can make that happen on purpose)."""

    async def commit(self) -> None:
        await super().commit()
        raise sa_exc.OperationalError(
            "COMMIT",
            None,
            ConnectionResetError(104, "Connection reset by peer"),
            connection_invalidated=True,
        )


@pytest.fixture
async def lossy(stock_settings: StockSettings, stock_runtime) -> httpx.AsyncClient:
    """A stock app whose HTTP commands commit through :class:`LostCommitReply`."""
    from stock_refs import WRITER_TOKEN

    app, runtime = bootstrap(stock_settings, consumers=False)
    runtime.sessions = async_sessionmaker(
        runtime.engine, class_=LostCommitReply, expire_on_commit=False
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://stock.test",
        headers={"Authorization": f"Bearer {WRITER_TOKEN}"},
    ) as client:
        yield client
    await runtime.engine.dispose()


async def test_a_command_whose_commit_reply_is_lost_is_applied_once_and_said_so(
    lossy, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])

    response = await lossy.post("/api/v1/receipts", json=receipt(site.wh, sku.sku))

    assert response.status_code == 500
    assert response.json()["error"] == "outcome_unknown"
    assert await movements_of(stock_engine, sku.sku) == 1


async def test_after_a_lost_commit_reply_a_retry_with_the_key_gets_the_applied_answer(
    lossy, writer, stock_runtime, stock_engine, site
):
    sku = item()
    await seed(stock_runtime, items=[sku])
    headers = {"Idempotency-Key": ref("key")}

    lost = await lossy.post("/api/v1/receipts", json=receipt(site.wh, sku.sku), headers=headers)
    retried = await writer.post("/api/v1/receipts", json=receipt(site.wh, sku.sku), headers=headers)

    assert lost.json()["error"] == "outcome_unknown"
    assert retried.status_code == 201, retried.text
    assert await movements_of(stock_engine, sku.sku) == 1
    [level] = retried.json()["levels"]
    assert q(level["on_hand"]) == 5


async def _none_left(engine: AsyncEngine, keys: list[str]) -> bool:
    return not await kept_keys(engine, keys)


async def _failures_logged(caplog: pytest.LogCaptureFixture, count: int) -> bool:
    failures = [
        record
        for record in caplog.records
        if record.name == periodic.__name__ and record.levelno == logging.WARNING
    ]
    return len(failures) >= count


async def test_a_command_that_hits_the_statement_timeout_is_not_retried(
    stock_settings: StockSettings, writer, stock_runtime, stock_engine, site
):
    """Given a receipt blocked on a row lock until the statement timeout cancels it, the
    answer is a 503 after one try: five tries would have made the client wait five
    timeouts for the same outcome."""
    sku = item()
    await seed(stock_runtime, items=[sku])
    assert (await writer.post("/api/v1/receipts", json=receipt(site.wh, sku.sku))).is_success
    settings = stock_settings.model_copy(update={"database_statement_timeout_s": 0.5})
    app, runtime = bootstrap(settings, consumers=False)
    from stock_refs import WRITER_TOKEN

    async with stock_engine.connect() as holder:
        await holder.execute(
            sa.text("SELECT 1 FROM levels WHERE sku = :sku FOR UPDATE"), {"sku": sku.sku}
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://stock.test",
            headers={"Authorization": f"Bearer {WRITER_TOKEN}"},
        ) as client:
            started = time.monotonic()
            response = await client.post("/api/v1/receipts", json=receipt(site.wh, sku.sku))
            elapsed = time.monotonic() - started
        await holder.rollback()
    await runtime.engine.dispose()

    assert response.status_code == 503
    assert elapsed < 1.75
    assert await movements_of(stock_engine, sku.sku) == 1
