"""Forecasts over HTTP: each series' latest forecast, its method and demand class, and its
accuracy on a rolling holdout (MASE, bias, the pinball loss at the service level): the
forecast-accuracy KPI. All read with the ``read`` scope, on one snapshot."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.replenishment import queries
from stockwire.replenishment.queries import ForecastRow
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.pages import PageParams, decode_cursor, next_cursor
from stockwire.runtime.http.problems import error_responses, not_found
from stockwire.runtime.http.reads import path_id, snapshots
from stockwire.runtime.http.text import text_field

Code = Annotated[str, text_field(64)]
ID_MAX = 64


class ForecastParams(PageParams):
    sku: Code | None = None
    location: Code | None = None


class ForecastOut(BaseModel):
    sku: str
    location: str
    method: str = Field(description="The method chosen for the series.")
    demand_class: str = Field(
        description="Syntetos-Boylan class: smooth, erratic, intermittent or lumpy."
    )
    mean_per_day: float
    distribution: dict[str, Any] = Field(
        description="What lead-time quantiles are computed from (the family and its parameters)."
    )
    accuracy: dict[str, Any] = Field(
        description="On the rolling holdout: mase, bias, pinball (at the service level) "
        "and the points scored."
    )
    history_days: int
    made_at: datetime

    @classmethod
    def of(cls, row: ForecastRow) -> "ForecastOut":
        return cls(
            sku=row.sku,
            location=row.location,
            method=row.method,
            demand_class=row.demand_class,
            mean_per_day=row.mean_per_day,
            distribution=row.distribution,
            accuracy=row.accuracy,
            history_days=row.history_days,
            made_at=row.made_at,
        )


class ForecastPage(BaseModel):
    forecasts: list[ForecastOut] = Field(description="By SKU, then location.")
    next_cursor: str | None


def forecasts_router(engine: AsyncEngine) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    router = APIRouter(
        prefix="/forecasts",
        tags=["forecasts"],
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(401, 403, 422),
    )

    @router.get("", summary="Every series' latest forecast and its accuracy")
    async def list_forecasts(
        params: Annotated[ForecastParams, Query()], conn: Snapshot
    ) -> ForecastPage:
        after = decode_cursor(params.cursor, "forecasts", (str, str))
        page = await queries.forecast_page(
            conn, sku=params.sku, location=params.location, after=after, limit=params.limit
        )
        return ForecastPage(
            forecasts=[ForecastOut.of(row) for row in page.rows],
            next_cursor=next_cursor("forecasts", page, lambda r: (r.sku, r.location)),
        )

    @router.get(
        "/{sku}/{location}",
        responses=error_responses(404),
        summary="One series' latest forecast and its accuracy",
    )
    async def get_forecast(sku: str, location: str, conn: Snapshot) -> ForecastOut:
        """404 until a re-plan has forecast the series."""
        sku = path_id(sku, f"item {sku!r}", ID_MAX)
        location = path_id(location, f"location {location!r}", ID_MAX)
        row = await queries.forecast(conn, sku, location)
        if row is None:
            raise not_found(f"forecast of {sku} at {location}")
        return ForecastOut.of(row)

    return router
