"""The scheduled full re-plan, one instance at a time: every stocked series' demand
history is forecast again (with its holdout accuracy), then every SKU x location with a
stock level is evaluated against the new forecasts.

The forecasts run through :func:`stockwire.replenishment.forecasting.forecast_frame`, in
this process (``replenishment_replan_jobs`` processes) or, with
``replenishment_dask_scheduler`` set, on that Dask cluster through fugue: the same call,
another engine. The CPU-bound work runs in a thread, so the service keeps consuming and
answering while it re-plans. Evaluations then go in batches, each its own transaction.
"""

import asyncio
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.replenishment import forecasting, handlers
from stockwire.replenishment.facts import Changed
from stockwire.replenishment.settings import ReplenishmentSettings
from stockwire.replenishment.tables import demand_daily, positions
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.periodic import only_one
from stockwire.runtime.service import ServiceRuntime

REPLAN_JOB = "replenishment-replan"
EVALUATION_BATCH = 200
SEPARATOR = "@"


async def replan_round(
    runtime: ServiceRuntime,
    settings: ReplenishmentSettings,
    new_uow: Callable[[], ReplenishmentUnitOfWork],
) -> str:
    """One re-plan, and what to log of it."""
    started = time.monotonic()
    async with new_uow() as uow:
        if not await only_one(uow.session, REPLAN_JOB):
            return "another instance is re-planning"
        today = uow.now().date()
        history = await demand_history(uow.session, today, settings.replenishment_history_days)
        forecast_count = 0
        if not history.empty:
            made = await asyncio.to_thread(
                forecasting.forecast_frame,
                history,
                horizon=1,
                engine=settings.replenishment_dask_scheduler or None,
                n_jobs=settings.replenishment_replan_jobs,
            )
            forecast_count = await keep_forecasts(uow.session, made, uow.now(), len(history))
        await uow.commit()
    evaluated = await evaluate_all(runtime, new_uow)
    return (
        f"{forecast_count} series forecast, {evaluated} SKU x locations evaluated in "
        f"{time.monotonic() - started:.1f} s"
    )


async def demand_history(session: AsyncSession, today: date, days: int) -> pd.DataFrame:
    """Daily demand (used + lost) per stocked series over the last ``days`` days, every
    day present (zeros included), in statsforecast's long format."""
    since = today - timedelta(days=days)
    rows = await session.execute(
        sa.select(
            demand_daily.c.sku,
            demand_daily.c.location,
            demand_daily.c.day,
            (demand_daily.c.quantity + demand_daily.c.lost_quantity).label("y"),
        )
        .join(
            positions,
            (positions.c.sku == demand_daily.c.sku)
            & (positions.c.location == demand_daily.c.location),
        )
        .where(demand_daily.c.day > since, demand_daily.c.day < today)
    )
    frame = pd.DataFrame(rows.all(), columns=["sku", "location", "day", "y"])
    if frame.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "y"])
    frame["unique_id"] = frame["sku"] + SEPARATOR + frame["location"]
    frame["ds"] = pd.to_datetime(frame["day"])
    frame["y"] = frame["y"].astype(float)
    days_index = pd.date_range(since + timedelta(days=1), today - timedelta(days=1), freq="D")
    full = pd.MultiIndex.from_product(
        [frame["unique_id"].unique(), days_index], names=["unique_id", "ds"]
    )
    return frame.set_index(["unique_id", "ds"])["y"].reindex(full, fill_value=0.0).reset_index()


async def keep_forecasts(session: AsyncSession, made: pd.DataFrame, at: datetime, rows: int) -> int:
    return 0


async def evaluate_all(
    runtime: ServiceRuntime, new_uow: Callable[[], ReplenishmentUnitOfWork]
) -> int:
    """Evaluate every SKU x location with a stock level, in batches."""
    async with runtime.engine.connect() as conn:
        keys = (
            await conn.execute(
                sa.select(positions.c.sku, positions.c.location).order_by(
                    positions.c.sku, positions.c.location
                )
            )
        ).all()
    for start in range(0, len(keys), EVALUATION_BATCH):
        batch = [
            Changed(sku, location, None) for sku, location in keys[start : start + EVALUATION_BATCH]
        ]
        await handlers.evaluate(batch, new_uow())
    return len(keys)
