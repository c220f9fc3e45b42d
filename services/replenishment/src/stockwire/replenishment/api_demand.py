"""The demand history over HTTP: daily buckets of one SKU at a location, or summed over a
region's locations, with lost demand beside what was consumed (``read`` scope)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.replenishment.tables import CATALOG_COPY, demand_daily
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.query import QueryParams
from stockwire.runtime.http.reads import snapshots
from stockwire.runtime.http.text import text_field

Code = Annotated[str, text_field(64)]
MAX_DAYS = 3650
ZERO = Decimal(0)


class DemandParams(QueryParams):
    sku: Code
    location: Code | None = Field(default=None, description="One location's demand ...")
    region: Code | None = Field(
        default=None, description="... or the sum over a region's locations: give one."
    )
    days: int = Field(
        default=90, ge=1, le=MAX_DAYS, description="The last this many days, today included."
    )

    @model_validator(mode="after")
    def _one_place(self) -> "DemandParams":
        if (self.location is None) == (self.region is None):
            raise ValueError("give a location or a region, not both and not neither")
        return self


class DemandDay(BaseModel):
    day: date
    quantity: Decimal = Field(description="Consumed: issues and installs from a shelf.")
    lost_quantity: Decimal = Field(description="Refused for lack of stock.")


class DemandOut(BaseModel):
    sku: str
    location: str | None
    region: str | None
    days: list[DemandDay] = Field(description="Every day of the window, oldest first.")


def demand_router(engine: AsyncEngine) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    router = APIRouter(
        prefix="/demand",
        tags=["demand"],
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(401, 403, 422),
    )

    @router.get("", summary="Daily demand of a SKU at a location or in a region")
    async def get_demand(params: Annotated[DemandParams, Query()], conn: Snapshot) -> DemandOut:
        today = datetime.now(UTC).date()
        first = today - timedelta(days=params.days - 1)
        where = [demand_daily.c.sku == params.sku, demand_daily.c.day >= first]
        if params.location is not None:
            where.append(demand_daily.c.location == params.location)
        else:
            places = CATALOG_COPY.locations
            where.append(
                demand_daily.c.location.in_(
                    sa.select(places.c.code).where(places.c.region == params.region)
                )
            )
        rows = await conn.execute(
            sa.select(
                demand_daily.c.day,
                sa.func.sum(demand_daily.c.quantity).label("quantity"),
                sa.func.sum(demand_daily.c.lost_quantity).label("lost"),
            )
            .where(*where)
            .group_by(demand_daily.c.day)
        )
        found = {row.day: (row.quantity, row.lost) for row in rows}
        zero = (Decimal(0), Decimal(0))
        return DemandOut(
            sku=params.sku,
            location=params.location,
            region=params.region,
            days=[
                DemandDay(
                    day=day, quantity=found.get(day, zero)[0], lost_quantity=found.get(day, zero)[1]
                )
                for day in (first + timedelta(days=n) for n in range(params.days))
            ],
        )

    return router
