"""Stock's use cases: each takes commands and a unit of work, and commits once.

A batch of commands is one transaction: load and lock what it touches, apply every
command in order to the book in memory, write back with bulk statements, stage the
outgoing events. Consumers hand whole batches here; an HTTP request is a batch of one.
"""

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc

from stockwire.runtime.transient import is_transient
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.commands import (
    Command,
    ItemCopy,
    LocationCopy,
    latest_items,
    latest_locations,
)
from stockwire.stock.domain.errors import Conflict
from stockwire.stock.domain.events import Outcome
from stockwire.stock.unit_of_work import StockUnitOfWork

ATTEMPTS = 5
"""An HTTP command retried on a transient failure or a lost creation race, at most."""
RETRY_DELAY_S = 0.05


@dataclass(frozen=True)
class Answer:
    """What an HTTP command answered, kept so a retried request gets the same answer."""

    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class RequestId:
    """A client's id for one request (its Idempotency-Key), and what the request said."""

    value: str
    fingerprint: str

    @classmethod
    def of(cls, value: str, *parts: object) -> "RequestId":
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
        return cls(value, digest.hexdigest())


async def apply_commands(cmds: Sequence[Command], uow: StockUnitOfWork) -> list[Outcome]:
    """Apply ``cmds`` in order in one transaction; each is applied whole or rejected."""
    async with uow:
        outcomes = await _apply(cmds, uow)
        await uow.commit()
    return outcomes


async def _apply(cmds: Sequence[Command], uow: StockUnitOfWork) -> list[Outcome]:
    state = await uow.stock.load(cmds)
    book = StockBook(state, uow.policy, uow.now())
    outcomes = book.execute_all(cmds)
    await uow.stock.save(book)
    uow.record(book)
    return outcomes


async def execute_command(
    cmd: Command,
    uow: StockUnitOfWork,
    answer: Callable[[Outcome], Answer],
    request_id: RequestId | None = None,
) -> Answer:
    """Apply one command for an HTTP request and answer it.

    With a request id, the answer is stored in the same transaction, and a repeat of the
    request gets that answer without being applied again (a concurrent repeat waits for
    the first to finish). A transient failure, or losing a race to create the same serial
    or document, is retried: the retry sees the winner's row and decides accordingly.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with uow:
                if request_id is not None:
                    stored = await uow.stock.claim_request(request_id.value, request_id.fingerprint)
                    if stored is not None:
                        return _replay(request_id, *stored)
                [outcome] = await _apply([cmd], uow)
                reply = answer(outcome)
                if request_id is not None:
                    await uow.stock.store_answer(
                        request_id.value, reply.status_code, json.dumps(reply.body)
                    )
                await uow.commit()
                return reply
        except Exception as error:
            if attempt == ATTEMPTS or not (is_transient(error) or _lost_creation_race(error)):
                raise
        await asyncio.sleep(RETRY_DELAY_S * attempt)
    raise AssertionError("unreachable")


def _replay(request_id: RequestId, fingerprint: str, status_code: int | None, body: Any) -> Answer:
    if fingerprint != request_id.fingerprint or status_code is None:
        raise Conflict(
            "Idempotency-Key",
            f"request id {request_id.value!r} was already used for a different request",
        )
    return Answer(status_code, body)


def _lost_creation_race(error: BaseException) -> bool:
    return isinstance(error, sa_exc.IntegrityError) and isinstance(
        getattr(error.orig, "__cause__", None), asyncpg.UniqueViolationError
    )


async def copy_catalog_items(copies: Sequence[ItemCopy], uow: StockUnitOfWork) -> None:
    """Keep the read copy of the catalog's items; an older version changes nothing."""
    async with uow:
        await uow.stock.copy_items(latest_items(copies))
        await uow.commit()


async def copy_catalog_locations(copies: Sequence[LocationCopy], uow: StockUnitOfWork) -> None:
    async with uow:
        await uow.stock.copy_locations(latest_locations(copies))
        await uow.commit()
