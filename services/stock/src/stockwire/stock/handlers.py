"""Stock's use cases: each takes commands and a unit of work, and commits once.

A batch of commands is one transaction: load and lock what it touches, apply every
command in order to the book in memory, write back with bulk statements, stage the
outgoing events. Consumers hand whole batches here; an HTTP request is a batch of one.
"""

from collections.abc import Callable, Sequence

import asyncpg
from sqlalchemy import exc as sa_exc

from stockwire.runtime.http.idempotency import Answer, IdempotencyKeys, RequestKey
from stockwire.runtime.transient import retry_transaction
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.commands import Command
from stockwire.stock.domain.events import Outcome
from stockwire.stock.unit_of_work import StockUnitOfWork


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
    uow: Callable[[], StockUnitOfWork],
    answer: Callable[[Outcome], Answer],
    keys: IdempotencyKeys,
    request: RequestKey | None = None,
) -> Answer:
    """Apply one command for an HTTP request and answer it.

    With a request key, the answer is kept in the same transaction, and a repeat gets it
    without the command being applied again (a concurrent repeat waits for the first to
    finish). A transient failure, or losing a race to create the same serial or document,
    is retried in a new transaction: the retry sees the winner's row and decides
    accordingly. A commit whose outcome is unknown is never retried.
    """

    async def attempt() -> Answer:
        async with uow() as work:

            async def apply() -> Answer:
                [outcome] = await _apply([cmd], work)
                return answer(outcome)

            reply = await keys.answer_once(work.session, request, apply)
            await work.commit()
            return reply

    return await retry_transaction(attempt, also=_lost_creation_race)


def _lost_creation_race(error: BaseException) -> bool:
    return isinstance(error, sa_exc.IntegrityError) and isinstance(
        getattr(error.orig, "__cause__", None), asyncpg.UniqueViolationError
    )
