"""Policies over HTTP: the policy in effect per SKU x location, and the overrides people
set on the defaults per location kind and item category.

``GET /policies/{sku}/{location}`` answers the effective policy with where each value
came from; ``PUT`` sets an override (fields left out, or null, fall back to the
defaults), ``DELETE`` removes it. Reads take ``read``, changes ``write`` and may carry an
``Idempotency-Key``. Bad input is a 422 naming each field and why: a max below the min, a
service level outside (0, 1), a reorder point on a min/max policy.
"""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.replenishment import repository
from stockwire.replenishment.domain.policies import (
    EffectivePolicy,
    PolicyKind,
    PolicySettings,
    resolve_policy,
)
from stockwire.replenishment.handlers_policies import (
    PolicyView,
    SetPolicy,
    remove_policy,
    set_policy,
)
from stockwire.replenishment.repository import PolicyRow
from stockwire.replenishment.tables import policies
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.bodies import Body, Decimals
from stockwire.runtime.http.idempotency import (
    Answer,
    IdempotencyKey,
    IdempotencyKeys,
    execute,
    reply,
    request_key,
)
from stockwire.runtime.http.pages import PageParams, after_key, decode_cursor, next_cursor, page_of
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.reads import path_id, snapshots
from stockwire.runtime.settings import ApiToken

UnitOfWorkFactory = Callable[[], ReplenishmentUnitOfWork]
ID_MAX = 64
Units = Annotated[Decimal, Decimals(3, 10**6)]
ServiceLevel = Annotated[
    float,
    Field(gt=0, lt=1, description="A cycle service level, strictly between 0 and 1."),
]
Days = Annotated[int, Field(ge=1, le=3650)]


class PolicyIn(Body):
    """An override: every field may be left out (or null) to keep the default."""

    kind: PolicyKind | None = None
    service_level: ServiceLevel | None = None
    min_quantity: Units | None = Field(default=None, description="min_max policies only.")
    max_quantity: Units | None = Field(default=None, description="min_max policies only.")
    reorder_point: Units | None = Field(
        default=None, description="reorder_point policies: fixed instead of computed."
    )
    order_up_to: Units | None = Field(
        default=None, description="reorder_point policies: fixed instead of computed."
    )
    review_period_days: Days | None = None
    lead_time_days: Days | None = Field(
        default=None, description="The lead time the reorder point covers."
    )

    def settings(self) -> PolicySettings:
        def number(value: Decimal | None) -> float | None:
            return float(value) if value is not None else None

        return PolicySettings(
            kind=self.kind,
            service_level=self.service_level,
            min_quantity=number(self.min_quantity),
            max_quantity=number(self.max_quantity),
            reorder_point=number(self.reorder_point),
            order_up_to=number(self.order_up_to),
            review_period_days=self.review_period_days,
            lead_time_days=self.lead_time_days,
        )


class OverrideOut(BaseModel):
    sku: str
    location: str
    kind: PolicyKind | None
    service_level: float | None
    min_quantity: float | None
    max_quantity: float | None
    reorder_point: float | None
    order_up_to: float | None
    review_period_days: int | None
    lead_time_days: int | None
    version: int
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: PolicyRow) -> "OverrideOut":
        s = row.settings
        return cls(
            sku=row.sku,
            location=row.location,
            kind=s.kind,
            service_level=s.service_level,
            min_quantity=s.min_quantity,
            max_quantity=s.max_quantity,
            reorder_point=s.reorder_point,
            order_up_to=s.order_up_to,
            review_period_days=s.review_period_days,
            lead_time_days=s.lead_time_days,
            version=row.version,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )


class EffectiveOut(BaseModel):
    kind: PolicyKind
    service_level: float = Field(description="Planned at, after criticality.")
    service_level_reason: str
    min_quantity: float | None
    max_quantity: float | None
    reorder_point: float | None = Field(description="Fixed; null when computed.")
    order_up_to: float | None = Field(description="Fixed; null when computed.")
    review_period_days: int
    lead_time_days: int
    supplier_lead_time_days: int
    sources: dict[str, str] = Field(description="Where each value came from.")

    @classmethod
    def of(cls, p: EffectivePolicy) -> "EffectiveOut":
        return cls(
            kind=p.kind,
            service_level=p.service_level,
            service_level_reason=p.service_level_reason,
            min_quantity=p.min_quantity,
            max_quantity=p.max_quantity,
            reorder_point=p.reorder_point,
            order_up_to=p.order_up_to,
            review_period_days=p.review_period_days,
            lead_time_days=p.lead_time_days,
            supplier_lead_time_days=p.supplier_lead_time_days,
            sources={name: origin.value for name, origin in p.sources.items()},
        )


class PolicyOut(BaseModel):
    sku: str
    location: str
    override: OverrideOut | None
    effective: EffectiveOut

    @classmethod
    def of(cls, sku: str, location: str, view: PolicyView) -> "PolicyOut":
        return cls(
            sku=sku,
            location=location,
            override=OverrideOut.of(view.override) if view.override else None,
            effective=EffectiveOut.of(view.effective),
        )


class OverridePage(BaseModel):
    overrides: list[OverrideOut] = Field(description="By SKU, then location.")
    next_cursor: str | None


def policies_router(
    new_uow: UnitOfWorkFactory, keys: IdempotencyKeys, engine: AsyncEngine
) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    Writer = Annotated[ApiToken, Depends(require_scope("write"))]
    router = APIRouter(
        prefix="/policies", tags=["policies"], responses=error_responses(401, 403, 422)
    )

    @router.get("", dependencies=[Depends(require_scope("read"))], summary="Policy overrides")
    async def list_overrides(
        params: Annotated[PageParams, Query()], conn: Snapshot
    ) -> OverridePage:
        after = decode_cursor(params.cursor, "policies", (str, str))
        rows = await conn.execute(
            after_key(policies.select(), [policies.c.sku, policies.c.location], after, params.limit)
        )
        page = page_of([repository.policy_row(row) for row in rows], params.limit)
        return OverridePage(
            overrides=[OverrideOut.of(row) for row in page.rows],
            next_cursor=next_cursor("policies", page, lambda r: (r.sku, r.location)),
        )

    @router.get(
        "/{sku}/{location}",
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(404),
        summary="The policy in effect for a SKU at a location",
    )
    async def get_policy(sku: str, location: str, conn: Snapshot) -> PolicyOut:
        """404 when the catalog has no such item or location; 422 when the location holds
        no planned stock (a customer site)."""
        sku, location = _ids(sku, location)
        facts = await repository.catalog_facts(conn, sku, location)
        override = await repository.policy_of(conn, sku, location)
        effective = resolve_policy(
            facts.item, facts.location, override.settings if override else None
        )
        return PolicyOut.of(sku, location, PolicyView(override, effective))

    @router.put(
        "/{sku}/{location}",
        response_model=PolicyOut,
        responses=error_responses(404, 409),
        summary="Set the override of a SKU at a location",
    )
    async def put_policy(
        sku: str,
        location: str,
        body: PolicyIn,
        request: Request,
        token: Writer,
        key: IdempotencyKey = None,
    ) -> Response:
        """Replaces the whole override. The SKU x location is re-evaluated at once. A 409
        is an Idempotency-Key used for another request."""
        sku, location = _ids(sku, location)
        cmd = SetPolicy(sku, location, body.settings(), f"api:{token.name}")

        def answer(view: PolicyView) -> Answer:
            return Answer(HTTPStatus.OK, PolicyOut.of(sku, location, view).model_dump(mode="json"))

        return reply(
            await execute(
                lambda uow: set_policy(cmd, uow),
                new_uow,
                answer,
                keys,
                request_key(request, token, key, body),
            )
        )

    @router.delete(
        "/{sku}/{location}",
        status_code=HTTPStatus.NO_CONTENT,
        response_class=Response,
        responses=error_responses(404, 409),
        summary="Remove the override of a SKU at a location",
    )
    async def delete_policy(
        sku: str, location: str, request: Request, token: Writer, key: IdempotencyKey = None
    ) -> Response:
        """The defaults apply again. 404 when there is no override."""
        sku, location = _ids(sku, location)
        return reply(
            await execute(
                lambda uow: remove_policy(sku, location, uow),
                new_uow,
                lambda _: Answer(HTTPStatus.NO_CONTENT, None),
                keys,
                request_key(request, token, key, None),
            )
        )

    return router


def _ids(sku: str, location: str) -> tuple[str, str]:
    return path_id(sku, f"item {sku!r}", ID_MAX), path_id(
        location, f"location {location!r}", ID_MAX
    )
