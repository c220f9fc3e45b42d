"""Talking to stock over the broker in tests: publish to its inbound topics, then await
the effects in the database or on its output topics (read from their end, with partitions
assigned by hand, so no group join is needed to read them)."""

import asyncio
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from stock_refs import q, uow_for

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.topics import TopicSpec, topic_for
from stockwire.runtime.service import ServiceRuntime
from stockwire.stock import handlers
from stockwire.stock.domain.commands import Origin, ReceiveGoods
from stockwire.stock.domain.commands import ReceiptLine as StockReceiptLine
from stockwire.stock.tables import ledger

TIMEOUT_S = 60.0


async def publish(
    producer: AIOKafkaProducer,
    payload: Event,
    *,
    envelope: Envelope | None = None,
    by: str = "fsm-tests",
) -> Envelope:
    """Publish ``payload`` on its topic, under its key, in ``envelope`` or a new one."""
    spec = topic_for(type(payload))
    envelope = envelope or wrap(payload, producer=by)
    await producer.send_and_wait(
        spec.name, value=envelope.model_dump_json().encode(), key=spec.key_for(payload).encode()
    )
    return envelope


async def eventually(check: Callable[[], Awaitable[object]], timeout_s: float = TIMEOUT_S):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.1)


async def ledger_rows(engine, **where: object) -> list[sa.Row]:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.select(ledger)
            .where(*(ledger.c[name] == value for name, value in where.items()))
            .order_by(ledger.c.id)
        )
        return list(result)


async def tail(settings, spec: TopicSpec | str, partitions: int | None = None) -> AIOKafkaConsumer:
    name = spec if isinstance(spec, str) else spec.name
    count = partitions if partitions is not None else spec.partitions  # type: ignore[union-attr]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    assigned = [TopicPartition(name, p) for p in range(count)]
    consumer.assign(assigned)
    await consumer.seek_to_end(*assigned)
    for partition in assigned:
        await consumer.position(partition)
    return consumer


async def records_for(
    consumer: AIOKafkaConsumer, key: str, expect: int = 1
) -> list[ConsumerRecord]:
    found: list[ConsumerRecord] = []
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while len(found) < expect and asyncio.get_running_loop().time() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        found.extend(r for batch in batches.values() for r in batch if r.key == key.encode())
    return found


async def stock_receive(
    runtime: ServiceRuntime, location: str, sku: str, quantity, *, serials=(), lot=None
) -> None:
    """Stock on the shelf, through the handlers (what a receipt event would do)."""
    line = StockReceiptLine(sku, q(quantity), serials=tuple(serials), lot=lot)
    [outcome] = await handlers.apply_commands(
        [ReceiveGoods(location, (line,), Origin("tests"))], uow_for(runtime)
    )
    assert outcome.applied, outcome.rejection
