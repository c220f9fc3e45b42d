"""What the HTTP API reads: suggestions, forecasts and their accuracy, on one snapshot."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from stockwire.replenishment.repository import SuggestionRow
from stockwire.replenishment.tables import forecasts, suggestions
from stockwire.runtime.http.pages import Page, after_key, page_of


@dataclass(frozen=True, slots=True)
class SuggestionFilter:
    status: str | None = None
    kind: str | None = None
    sku: str | None = None
    location: str | None = None


async def suggestion_page(
    conn: AsyncConnection, where: SuggestionFilter, *, after: uuid.UUID | None, limit: int
) -> Page[SuggestionRow]:
    """Newest first (suggestion ids are time-ordered)."""
    statement = sa.select(suggestions)
    for column, value in (
        (suggestions.c.status, where.status),
        (suggestions.c.kind, where.kind),
        (suggestions.c.sku, where.sku),
        (suggestions.c.location, where.location),
    ):
        if value is not None:
            statement = statement.where(column == value)
    rows = await conn.execute(
        after_key(
            statement,
            [suggestions.c.suggestion_id],
            (after,) if after else None,
            limit,
            descending=True,
        )
    )
    return page_of([SuggestionRow(**row._mapping) for row in rows], limit)


async def suggestion(conn: AsyncConnection, suggestion_id: uuid.UUID) -> SuggestionRow | None:
    row = (
        await conn.execute(
            sa.select(suggestions).where(suggestions.c.suggestion_id == suggestion_id)
        )
    ).first()
    return SuggestionRow(**row._mapping) if row else None


@dataclass(frozen=True, slots=True)
class ForecastRow:
    sku: str
    location: str
    method: str
    demand_class: str
    mean_per_day: float
    distribution: dict[str, Any]
    accuracy: dict[str, Any]
    history_days: int
    made_at: datetime


async def forecast_page(
    conn: AsyncConnection,
    *,
    sku: str | None,
    location: str | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> Page[ForecastRow]:
    statement = sa.select(forecasts)
    if sku is not None:
        statement = statement.where(forecasts.c.sku == sku)
    if location is not None:
        statement = statement.where(forecasts.c.location == location)
    rows = await conn.execute(
        after_key(statement, [forecasts.c.sku, forecasts.c.location], after, limit)
    )
    return page_of([ForecastRow(**row._mapping) for row in rows], limit)


async def forecast(conn: AsyncConnection, sku: str, location: str) -> ForecastRow | None:
    row = (
        await conn.execute(
            sa.select(forecasts).where(forecasts.c.sku == sku, forecasts.c.location == location)
        )
    ).first()
    return ForecastRow(**row._mapping) if row else None
