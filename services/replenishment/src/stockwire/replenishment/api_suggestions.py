"""Suggestions over HTTP: list them, read one and why it was made, accept or reject it.

Reads take the ``read`` scope; decisions take ``write`` and may carry an
``Idempotency-Key`` (a repeat with the same key and body gets the first answer without
being applied again). Deciding a suggestion that is no longer open is a 409.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.contracts.vocabulary import SuggestionKind
from stockwire.replenishment import queries
from stockwire.replenishment.decisions import Decide, accept_suggestion, reject_suggestion
from stockwire.replenishment.domain.suggestions import SuggestionStatus
from stockwire.replenishment.queries import SuggestionFilter
from stockwire.replenishment.repository import SuggestionRow
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.bodies import Body
from stockwire.runtime.http.idempotency import (
    Answer,
    IdempotencyKey,
    IdempotencyKeys,
    execute,
    reply,
    request_key,
)
from stockwire.runtime.http.pages import PageParams, decode_cursor, next_cursor
from stockwire.runtime.http.problems import error_responses, invalid, not_found
from stockwire.runtime.http.reads import snapshots
from stockwire.runtime.http.text import NO_NUL, text_field
from stockwire.runtime.settings import ApiToken

UnitOfWorkFactory = Callable[[], ReplenishmentUnitOfWork]
Code = Annotated[str, text_field(64)]


class SuggestionParams(PageParams):
    status: SuggestionStatus | None = None
    kind: SuggestionKind | None = None
    sku: Code | None = None
    location: Code | None = None


class SuggestionOut(BaseModel):
    suggestion_id: uuid.UUID
    kind: SuggestionKind
    sku: str
    location: str
    from_location: str | None = Field(description="Where a transfer comes from.")
    quantity: Decimal
    status: SuggestionStatus
    summary: str = Field(description="Why, in a sentence.")
    made_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None

    @classmethod
    def of(cls, row: SuggestionRow) -> "SuggestionOut":
        return cls(
            suggestion_id=row.suggestion_id,
            kind=SuggestionKind(row.kind),
            sku=row.sku,
            location=row.location,
            from_location=row.from_location,
            quantity=Decimal(row.quantity),
            status=SuggestionStatus(row.status),
            summary=str(row.explanation.get("summary", "")),
            made_at=row.made_at,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
            decision_reason=row.decision_reason,
        )


class SuggestionPage(BaseModel):
    suggestions: list[SuggestionOut] = Field(description="Newest first.")
    next_cursor: str | None


class WhyOut(BaseModel):
    suggestion: SuggestionOut
    explanation: dict[str, Any] = Field(
        description="Every number that went into the suggestion: the policy and where each "
        "value came from, the service level and why, lead-time demand (mean and quantile), "
        "the failure-rate term, each safety-stock term and which dominated, the reorder "
        "point and order-up-to level, the position, stock elsewhere in the region, lead "
        "time and arrival."
    )


class RejectIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]


def _answer(row: SuggestionRow) -> Answer:
    return Answer(200, SuggestionOut.of(row).model_dump(mode="json"))


def suggestions_router(
    new_uow: UnitOfWorkFactory, keys: IdempotencyKeys, engine: AsyncEngine
) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    Writer = Annotated[ApiToken, Depends(require_scope("write"))]
    router = APIRouter(
        prefix="/suggestions", tags=["suggestions"], responses=error_responses(401, 403, 422)
    )

    @router.get("", dependencies=[Depends(require_scope("read"))], summary="Suggestions")
    async def list_suggestions(
        params: Annotated[SuggestionParams, Query()], conn: Snapshot
    ) -> SuggestionPage:
        after = decode_cursor(params.cursor, "suggestions", (str,))
        where = SuggestionFilter(
            status=params.status.value if params.status else None,
            kind=params.kind.value if params.kind else None,
            sku=params.sku,
            location=params.location,
        )
        page = await queries.suggestion_page(
            conn, where, after=_uuid(after[0]) if after else None, limit=params.limit
        )
        return SuggestionPage(
            suggestions=[SuggestionOut.of(row) for row in page.rows],
            next_cursor=next_cursor("suggestions", page, lambda r: (str(r.suggestion_id),)),
        )

    @router.get(
        "/{suggestion_id}",
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(404),
        summary="One suggestion",
    )
    async def get_suggestion(suggestion_id: uuid.UUID, conn: Snapshot) -> SuggestionOut:
        return SuggestionOut.of(await _found(conn, suggestion_id))

    @router.get(
        "/{suggestion_id}/why",
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(404),
        summary="Why a suggestion was made, with every number behind it",
    )
    async def why(suggestion_id: uuid.UUID, conn: Snapshot) -> WhyOut:
        row = await _found(conn, suggestion_id)
        return WhyOut(suggestion=SuggestionOut.of(row), explanation=row.explanation)

    @router.post(
        "/{suggestion_id}/accept",
        response_model=SuggestionOut,
        responses=error_responses(404, 409),
        summary="Accept a suggestion: a transfer goes to stock, a purchase to the ERP",
    )
    async def accept(
        suggestion_id: uuid.UUID, request: Request, token: Writer, key: IdempotencyKey = None
    ) -> Response:
        """A transfer is requested from stock on ``replenishment.transfer-requests.v1``
        (shipped once, under the suggestion's id); a purchase or last-time buy becomes a
        purchase-order request for the ERP. 409 when the suggestion is not open."""
        cmd = Decide(suggestion_id, f"api:{token.name}")
        answer = await execute(
            lambda uow: accept_suggestion(cmd, uow),
            new_uow,
            _answer,
            keys,
            request_key(request, token, key, None),
        )
        return reply(answer)

    @router.post(
        "/{suggestion_id}/reject",
        response_model=SuggestionOut,
        responses=error_responses(404, 409),
        summary="Reject a suggestion, saying why",
    )
    async def reject(
        suggestion_id: uuid.UUID,
        body: RejectIn,
        request: Request,
        token: Writer,
        key: IdempotencyKey = None,
    ) -> Response:
        """409 when the suggestion is not open."""
        cmd = Decide(suggestion_id, f"api:{token.name}", body.reason)
        answer = await execute(
            lambda uow: reject_suggestion(cmd, uow),
            new_uow,
            _answer,
            keys,
            request_key(request, token, key, body),
        )
        return reply(answer)

    return router


async def _found(conn: AsyncConnection, suggestion_id: uuid.UUID) -> SuggestionRow:
    row = await queries.suggestion(conn, suggestion_id)
    if row is None:
        raise not_found(f"suggestion {suggestion_id}")
    return row


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise invalid("cursor", "is not a cursor this endpoint returned") from None
