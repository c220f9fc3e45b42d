"""Idempotency-Key: a command sent twice is applied once, and the repeat gets the first
answer.

A client that may retry (a scanner on a flaky link, a script) sends ``Idempotency-Key``
with any id of its own. The first request with a key is applied and its answer kept, in
the same transaction as the change; a repeat with the same key and the same request gets
that answer without being applied again, and a concurrent repeat waits for the first to
finish. The same key with a different request is a 409. Keys are per client: the key
space is the API token's, so another client reusing your key gets nothing of yours.

Answers are kept for ``STOCKWIRE_IDEMPOTENCY_RETENTION_HOURS``; the runtime's
:mod:`~stockwire.runtime.purging` deletes older ones in small chunks, and after that the
key is a new request.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from stockwire.runtime.domain_errors import Conflict
from stockwire.runtime.http.openapi import not_nullable
from stockwire.runtime.plain_text import text_pattern
from stockwire.runtime.purging import CHUNK_ROWS, purge_older, purge_periodically
from stockwire.runtime.service import ServiceRuntime
from stockwire.runtime.settings import ApiToken
from stockwire.runtime.transient import retry_transaction
from stockwire.runtime.unit_of_work import SessionScope

KEY_MAX = 128

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX,
        pattern=text_pattern(),
        description="Your id for this request; a repeat with it gets the first answer, "
        "without being applied again.",
        json_schema_extra=not_nullable,
    ),
]
"""The header, as a route parameter."""


def define_idempotency_keys(metadata: sa.MetaData) -> sa.Table:
    """The kept answers, on the service's own MetaData (created by the runtime's
    ``IDEMPOTENCY_KEYS`` migration step)."""
    return sa.Table(
        "idempotency_keys",
        metadata,
        sa.Column("client", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=True),
        sa.Column("body", JSONB, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Index("idempotency_keys_created_at", "created_at"),
    )


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, as kept for a repeat: status and JSON body."""

    status_code: int
    body: Any


@dataclass(frozen=True)
class RequestKey:
    """One client's key for one request, and a fingerprint of what the request asked."""

    client: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, client: str, key: str, *request: object) -> "RequestKey":
        """``request`` is everything that makes the request what it is (method, path,
        body); the same key with anything else is another request."""
        digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode())
        return cls(client, key, digest.hexdigest())


class IdempotencyKeys:
    """Claims keys and keeps answers in the caller's transaction."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self._claim = sa.text(
            f"INSERT INTO {table.name} (client, key, fingerprint) "
            "VALUES (:client, :key, :fingerprint) "
            "ON CONFLICT (client, key) DO NOTHING RETURNING key"
        )
        self._stored = sa.text(
            f"SELECT fingerprint, status_code, body FROM {table.name} "
            "WHERE client = :client AND key = :key"
        )
        self._keep = sa.text(
            f"UPDATE {table.name} SET status_code = :status, body = CAST(:body AS jsonb) "
            "WHERE client = :client AND key = :key"
        )

    async def answer_once(
        self,
        session: AsyncSession,
        request: RequestKey | None,
        compute: Callable[[], Awaitable[Answer]],
    ) -> Answer:
        """The kept answer to ``request``, or ``compute()``'s, kept in the same transaction
        (which the caller commits). Without a key, simply ``compute()``."""
        if request is None:
            return await compute()
        kept = await self._claim_or_read(session, request)
        if kept is not None:
            return kept
        answer = await compute()
        await session.execute(
            self._keep,
            {
                "client": request.client,
                "key": request.key,
                "status": answer.status_code,
                "body": json.dumps(answer.body),
            },
        )
        return answer

    async def _claim_or_read(self, session: AsyncSession, request: RequestKey) -> Answer | None:
        """None once the key is ours until this transaction ends; else the earlier answer.
        A concurrent claim of the same key waits here for the first transaction. An answer
        purged between a failed claim and the read (its retention ran out just then)
        leaves the key free, and it is claimed again."""
        names = {"client": request.client, "key": request.key}
        while True:
            claimed = await session.scalar(
                self._claim, {**names, "fingerprint": request.fingerprint}
            )
            if claimed is not None:
                return None
            row = (await session.execute(self._stored, names)).one_or_none()
            if row is None:
                continue
            if row.fingerprint != request.fingerprint or row.status_code is None:
                raise Conflict(
                    "Idempotency-Key",
                    f"key {request.key!r} was already used for a different request",
                )
            return Answer(row.status_code, row.body)


def request_key(
    request: Request, token: ApiToken, key: str | None, body: BaseModel | None
) -> RequestKey | None:
    """The key of an HTTP command sent with an Idempotency-Key (None without one): per
    token, method, path and body."""
    if key is None:
        return None
    sent = body.model_dump(mode="json") if body is not None else None
    return RequestKey.of(token.name, key, request.method, request.url.path, sent)


def reply(answer: Answer) -> Response:
    """The HTTP response of a (kept) answer."""
    if answer.body is None:
        return Response(status_code=answer.status_code)
    return JSONResponse(answer.body, status_code=answer.status_code)


Scope = TypeVar("Scope", bound=SessionScope)
Result = TypeVar("Result")


async def execute(
    use_case: Callable[[Scope], Awaitable[Result]],
    new_uow: Callable[[], Scope],
    answer: Callable[[Result], Answer],
    keys: IdempotencyKeys,
    request: RequestKey | None = None,
) -> Answer:
    """Run an HTTP command's ``use_case`` in one unit of work and answer it. With a
    request key, the answer is kept in that transaction and a repeat gets it without the
    command running again. A transient failure is retried in a new transaction; an
    unknown commit outcome never."""

    async def attempt() -> Answer:
        async with new_uow() as uow:

            async def compute() -> Answer:
                return answer(await use_case(uow))

            reply = await keys.answer_once(uow.session, request, compute)
            await uow.commit()
            return reply

    return await retry_transaction(attempt)


async def purge_expired(
    engine: AsyncEngine, table: sa.Table, retention: timedelta, chunk_rows: int = CHUNK_ROWS
) -> int:
    """Delete the answers kept longer than ``retention``; how many."""
    return await purge_older(engine, table, "created_at", retention, chunk_rows=chunk_rows)


def keep_answers(runtime: ServiceRuntime, table: sa.Table) -> IdempotencyKeys:
    """The service's Idempotency-Key answers in ``table``, purged beside the service
    after ``STOCKWIRE_IDEMPOTENCY_RETENTION_HOURS``."""
    settings = runtime.settings
    retention = timedelta(hours=settings.idempotency_retention_hours)
    purge = partial(
        purge_periodically,
        runtime.engine,
        table,
        "created_at",
        retention,
        settings.idempotency_purge_interval_s,
        what="Idempotency-Key answers",
    )
    runtime.run_in_background("idempotency-purge", purge)
    return IdempotencyKeys(table)
