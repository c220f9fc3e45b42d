"""The scheduled full re-plan, one instance at a time: every stocked series' demand
history is forecast again, with its accuracy on a rolling holdout, then every SKU x
location with a stock level is evaluated against the new forecasts.

The forecasts run through :func:`stockwire.replenishment.forecasting.forecast_frame`, in
this process (``replenishment_replan_jobs`` processes) or, with
``replenishment_dask_scheduler`` set, on that Dask cluster through fugue: the same call,
another engine. The CPU-bound work runs in a thread, so the service keeps consuming and
answering while it re-plans. Evaluations then go in batches, each its own transaction.

Demand is kept in daily buckets and forecast in weekly ones (weeks ending yesterday): a
part at a van is asked for on a few days a year, so daily series are mostly zeros, and
weekly sums carry the same information in a seventh of the periods (decision 0011). Each
week's distribution is kept per day (:mod:`.demand_model` says how), so a lead time in
days keeps its own length.
The holdout is the engine's default windows of :data:`HOLDOUT_WEEKS` weeks; accuracy
(MASE, bias, pinball loss and coverage, on weekly sums) is scored at
:data:`ACCURACY_LEVEL`, the default cycle service level.
"""

import asyncio
import math
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from distributed import Client
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.replenishment import demand_model, handlers
from stockwire.replenishment.facts import Changed
from stockwire.replenishment.forecasting import (
    DemandDistribution,
    FrameForecast,
    forecast_frame,
)
from stockwire.replenishment.settings import ReplenishmentSettings
from stockwire.replenishment.tables import demand_daily, forecasts, positions
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.periodic import only_one
from stockwire.runtime.service import ServiceRuntime

REPLAN_JOB = "replenishment-replan"
EVALUATION_BATCH = 200
WRITE_BATCH = 5000
SEPARATOR = "@"
HOLDOUT_WEEKS = 8
"""Holdout windows of 8 weeks: a supplier lead time plus a review period, at most."""
ACCURACY_LEVEL = 0.95


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
        made = 0
        if not history.empty:
            forecast = await asyncio.to_thread(forecast_history, history, settings)
            made = await keep_forecasts(uow.session, forecast, uow.now())
        await uow.commit()
    forecast_s = time.monotonic() - started
    evaluated = await evaluate_all(runtime, new_uow)
    return (
        f"{made} series forecast in {forecast_s:.1f} s, {evaluated} SKU x locations "
        f"evaluated in {time.monotonic() - started - forecast_s:.1f} s"
    )


def forecast_history(history: pd.DataFrame, settings: ReplenishmentSettings) -> FrameForecast:
    """Every series' forecast, here or on the Dask cluster the settings name."""
    options: dict[str, Any] = {
        "horizon": HOLDOUT_WEEKS,
        "n_jobs": settings.replenishment_replan_jobs,
    }
    if settings.replenishment_dask_scheduler:
        with Client(settings.replenishment_dask_scheduler) as client:
            return forecast_frame(history, engine=client, **options)
    return forecast_frame(history, **options)


async def demand_history(session: AsyncSession, today: date, days: int) -> pd.DataFrame:
    """Weekly demand (used + lost) of every series with a stock level, over the ``days``
    days before today, in statsforecast's long format: weeks end yesterday, each series
    from the week of its first demand on, every week present (zeros included)."""
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
    days_back = (pd.Timestamp(today) - pd.to_datetime(frame["day"])).dt.days
    weeks_back = (days_back - 1) // demand_model.DAYS_PER_WEEK
    last = pd.Timestamp(today - timedelta(days=1))
    frame["ds"] = last - pd.to_timedelta(weeks_back * demand_model.DAYS_PER_WEEK, unit="D")
    weekly = frame.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    weekly["y"] = weekly["y"].astype(float)
    first = weekly.groupby("unique_id")["ds"].min()
    spans = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range(start, last, freq=f"{demand_model.DAYS_PER_WEEK}D"),
            }
        )
        for uid, start in first.items()
    ]
    full = pd.concat(spans, ignore_index=True)
    merged = full.merge(weekly, on=["unique_id", "ds"], how="left")
    merged["y"] = merged["y"].fillna(0.0)
    return merged


async def keep_forecasts(session: AsyncSession, made: FrameForecast, at: datetime) -> int:
    """Replace each forecast series' row: method, class, distribution and accuracy."""
    accuracy = made.accuracy(level=ACCURACY_LEVEL).set_index("unique_id")
    rows = []
    for series in made.series.itertuples(index=False):
        sku, _, location = str(series.unique_id).rpartition(SEPARATOR)
        distribution = demand_model.daily(
            DemandDistribution(
                mean=float(series.mean),
                dispersion=float(series.dispersion),
                level_uncertainty=float(series.level_uncertainty),
            )
        )
        scored = (
            accuracy.loc[series.unique_id].to_dict() if series.unique_id in accuracy.index else {}
        )
        rows.append(
            {
                "sku": sku,
                "location": location,
                "method": str(series.method),
                "demand_class": str(series.demand_class),
                "mean_per_day": distribution.mean,
                "distribution": demand_model.kept(distribution),
                "accuracy": {
                    "level": ACCURACY_LEVEL,
                    "period": "week",
                    **{name: _number(value) for name, value in scored.items()},
                },
                "history_days": int(series.periods) * demand_model.DAYS_PER_WEEK,
                "made_at": at,
            }
        )
    statement = insert(forecasts)
    columns = [c.name for c in forecasts.c if c.name not in ("sku", "location")]
    upsert = statement.on_conflict_do_update(
        index_elements=[forecasts.c.sku, forecasts.c.location],
        set_={name: statement.excluded[name] for name in columns},
    )
    for start in range(0, len(rows), WRITE_BATCH):
        await session.execute(upsert, rows[start : start + WRITE_BATCH])
    return len(rows)


def _number(value: Any) -> float | None:
    """A JSON number, None for what is not one (NaN: no holdout point)."""
    number = float(value)
    return number if math.isfinite(number) else None


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
