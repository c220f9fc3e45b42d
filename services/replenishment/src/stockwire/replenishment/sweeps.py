"""The periodic sweep, one instance at a time: suggestions not acted on in time, regional
imbalances, and last-time buys before end of life. The domain decides each alert
(:mod:`.domain.alerts`); the sweep gathers what it judges and publishes the changes.

- **Overdue:** an open suggestion older than ``replenishment_suggestion_overdue_hours``
  raises ``suggestion_overdue``; deciding it, or its withdrawal, resolves it.
- **Regional imbalance:** a SKU in a region where one location is at or below its reorder
  point (and below its max) while another holds stock above its max, from the latest evaluations in
  ``plans``. The transfer suggestion is the remedy; the alert says the region's stock is
  in the wrong places.
- **Last-time buy:** a model whose end of life is within
  ``replenishment_last_time_buy_days`` and that has an installed base in a region gets a
  last-time-buy suggestion at the region's first warehouse (by code), sized from the
  region's failure rate over ``replenishment_service_years_after_end_of_life``, less what
  the region's stocked locations hold, with ``last_time_buy_due``.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.vocabulary import (
    LocationKind,
    ReplenishmentAlertKind,
    SafetyStockTerm,
    SuggestionKind,
)
from stockwire.replenishment import handlers, repository
from stockwire.replenishment.domain.alerts import (
    Alert,
    changes,
    imbalance_alert,
    last_time_buy_alert,
    overdue_alert,
)
from stockwire.replenishment.domain.last_time_buy import last_time_buy
from stockwire.replenishment.domain.policies import STOCKED_KINDS, resolve_policy
from stockwire.replenishment.domain.positions import LocationStock, Position
from stockwire.replenishment.domain.suggestions import Suggestion, SuggestionStatus
from stockwire.replenishment.repository import SuggestionRow
from stockwire.replenishment.settings import ReplenishmentSettings
from stockwire.replenishment.tables import (
    CATALOG_COPY,
    plans,
    positions,
    reliability,
    suggestions,
)
from stockwire.replenishment.unit_of_work import AlertContext, ReplenishmentUnitOfWork
from stockwire.runtime.domain_errors import Invalid, NotFound
from stockwire.runtime.periodic import only_one

SWEEP_JOB = "replenishment-sweep"


async def sweep_round(
    settings: ReplenishmentSettings, new_uow: Callable[[], ReplenishmentUnitOfWork]
) -> str:
    """One sweep, and what to log of it."""
    async with new_uow() as uow:
        if not await only_one(uow.session, SWEEP_JOB):
            return "another instance is sweeping"
        overdue = await _overdue(settings, uow)
        imbalances = await _imbalances(uow)
        buys = await _last_time_buys(settings, uow)
        await uow.commit()
    return (
        f"{overdue} suggestions overdue, {imbalances} regional imbalances, "
        f"{buys} last-time buys due"
    )


def suggestion_of(row: SuggestionRow) -> Suggestion:
    return Suggestion(
        SuggestionKind(row.kind),
        row.sku,
        row.location,
        float(row.quantity),
        source_location=row.from_location,
    )


async def _overdue(settings: ReplenishmentSettings, uow: ReplenishmentUnitOfWork) -> int:
    now = uow.now()
    decision_time = timedelta(hours=settings.replenishment_suggestion_overdue_hours)
    places = CATALOG_COPY.locations
    rows = await uow.session.execute(
        sa.select(suggestions, places.c.region)
        .outerjoin(places, places.c.code == suggestions.c.location)
        .where(suggestions.c.status == SuggestionStatus.OPEN.value)
        .order_by(suggestions.c.suggestion_id)
    )
    current: list[Alert] = []
    context: dict[str, AlertContext] = {}
    for found in rows:
        fields = {name: found._mapping[name] for name in SuggestionRow.__slots__}
        row = SuggestionRow(**fields)
        alert = overdue_alert(suggestion_of(row), found.region, row.made_at, now, decision_time)
        if alert is not None:
            current.append(alert)
            link = uow.suggestion_link(row.suggestion_id)
            context[alert.dedup_key] = AlertContext(row.suggestion_id, link)
    previous = await uow.open_alerts_of(ReplenishmentAlertKind.SUGGESTION_OVERDUE)
    await uow.apply_alerts(changes(previous, current), context)
    return len(current)


async def _imbalances(uow: ReplenishmentUnitOfWork) -> int:
    """Only SKU x regions with a location short and one with excess are read in full."""
    short = (plans.c.inventory_position <= plans.c.reorder_point) & (
        plans.c.inventory_position < plans.c.order_up_to
    )
    uneven = (
        sa.select(plans.c.sku, plans.c.region)
        .group_by(plans.c.sku, plans.c.region)
        .having(sa.func.bool_or(short) & sa.func.bool_or(plans.c.excess > 0))
        .subquery()
    )
    rows = await uow.session.execute(
        sa.select(plans)
        .join(uneven, (uneven.c.sku == plans.c.sku) & (uneven.c.region == plans.c.region))
        .order_by(plans.c.sku, plans.c.region, plans.c.location)
    )
    regions: dict[tuple[str, str], list[LocationStock]] = defaultdict(list)
    discrete: dict[tuple[str, str], bool] = {}
    for row in rows:
        available = float(row.available)
        position = Position(
            on_hand=available,
            reserved=0.0,
            available=available,
            in_transit_in=float(row.inventory_position) - available,
        )
        regions[row.sku, row.region].append(
            LocationStock(
                location=row.location,
                kind=LocationKind(row.location_kind),
                position=position,
                reorder_point=float(row.reorder_point),
                max_level=float(row.order_up_to),
            )
        )
        discrete[row.sku, row.region] = row.discrete
    current = [
        alert
        for (sku, region), stock in regions.items()
        if (alert := imbalance_alert(sku, region, stock, discrete[sku, region])) is not None
    ]
    previous = await uow.open_alerts_of(ReplenishmentAlertKind.REGIONAL_IMBALANCE)
    await uow.apply_alerts(changes(previous, current))
    return len(current)


@dataclass(frozen=True, slots=True)
class Exposure:
    """A model nearing end of life with an installed base in a region."""

    sku: str
    region: str
    installed_base: int
    failures_per_device_year: float
    end_of_life: date


async def _last_time_buys(settings: ReplenishmentSettings, uow: ReplenishmentUnitOfWork) -> int:
    today = uow.now().date()
    horizon = today + timedelta(days=settings.replenishment_last_time_buy_days)
    items = CATALOG_COPY.items
    rows = await uow.session.execute(
        sa.select(
            reliability.c.sku,
            reliability.c.region,
            reliability.c.installed_base,
            reliability.c.failures_per_device_year,
            items.c.end_of_life,
        )
        .join(items, items.c.sku == reliability.c.sku)
        .where(
            reliability.c.region != "",
            reliability.c.installed_base > 0,
            reliability.c.failures_per_device_year.is_not(None),
            items.c.end_of_life.is_not(None),
            items.c.end_of_life >= today,
            items.c.end_of_life <= horizon,
        )
        .order_by(reliability.c.sku, reliability.c.region)
    )
    current: list[Alert] = []
    context: dict[str, AlertContext] = {}
    for row in rows:
        exposure = Exposure(
            row.sku, row.region, row.installed_base, row.failures_per_device_year, row.end_of_life
        )
        found = await _last_time_buy(settings, uow, exposure, today)
        if found is not None:
            alert, suggestion_id = found
            current.append(alert)
            context[alert.dedup_key] = AlertContext(
                suggestion_id, uow.suggestion_link(suggestion_id)
            )
    previous = await uow.open_alerts_of(ReplenishmentAlertKind.LAST_TIME_BUY_DUE)
    await uow.apply_alerts(changes(previous, current), context)
    return len(current)


async def _last_time_buy(
    settings: ReplenishmentSettings,
    uow: ReplenishmentUnitOfWork,
    exposure: Exposure,
    today: date,
) -> tuple[Alert, uuid.UUID] | None:
    """Evaluate one model's last-time buy in one region: its alert and open suggestion,
    or None when none is due."""
    warehouse = await _first_warehouse(uow.session, exposure.region)
    if warehouse is None:
        return None
    try:
        facts = await repository.catalog_facts(uow.session, exposure.sku, warehouse)
        override = await repository.policy_of(uow.session, exposure.sku, warehouse)
        policy = resolve_policy(facts.item, facts.location, override.settings if override else None)
    except (NotFound, Invalid):
        return None
    evaluation = last_time_buy(
        sku=exposure.sku,
        location=warehouse,
        end_of_life=exposure.end_of_life,
        today=today,
        installed_base=exposure.installed_base,
        failures_per_device_year=exposure.failures_per_device_year,
        remaining_service_years=settings.replenishment_service_years_after_end_of_life,
        service_level=policy.service_level,
        held=await _held_in_region(uow.session, exposure.sku, exposure.region, uow.now()),
        discrete=policy.discrete,
        supplier_lead_time_days=policy.supplier_lead_time_days,
        horizon_days=settings.replenishment_last_time_buy_days,
    )
    opened = await _open_last_time_buy(uow, exposure.sku, warehouse)
    wanted = evaluation.suggestion if evaluation else None
    alert = last_time_buy_alert(evaluation, exposure.region) if evaluation else None
    if wanted is None or alert is None or evaluation is None:
        if opened is not None:
            reason = evaluation.reason if evaluation else "the last-time buy is no longer due"
            await handlers.withdraw(opened, reason, None, uow)
        return None
    if opened is not None:
        return alert, opened.suggestion_id
    made = await handlers.make_suggestion(
        handlers.NewSuggestion(
            suggestion=wanted,
            available=evaluation.held,
            inbound=0.0,
            reorder_point=evaluation.failures_quantile,
            order_up_to=evaluation.failures_quantile,
            service_level=policy.service_level,
            dominant=SafetyStockTerm.FAILURE_RATE,
            lead_time_days=policy.supplier_lead_time_days,
            reason=evaluation.reason,
            explanation=evaluation.as_dict(),
        ),
        None,
        uow,
    )
    return alert, made


async def _first_warehouse(session: AsyncSession, region: str) -> str | None:
    places = CATALOG_COPY.locations
    found: str | None = await session.scalar(
        sa.select(places.c.code)
        .where(
            places.c.region == region,
            places.c.kind == LocationKind.WAREHOUSE.value,
            places.c.active,
        )
        .order_by(places.c.code)
        .limit(1)
    )
    return found


async def _held_in_region(session: AsyncSession, sku: str, region: str, now: datetime) -> float:
    """What the region's stocked locations hold now and have on their way: available
    stock, transfers in transit to them, and accepted purchases not yet received. Read
    from the levels and the suggestions themselves, not from the latest evaluations, so a
    last-time buy accepted since counts at once and is not suggested a second time."""
    places = CATALOG_COPY.locations
    stocked = sa.select(places.c.code).where(
        places.c.region == region, places.c.kind.in_([kind.value for kind in STOCKED_KINDS])
    )
    on_hand = await session.scalar(
        sa.select(
            sa.func.coalesce(sa.func.sum(positions.c.available + positions.c.in_transit_in), 0)
        ).where(positions.c.sku == sku, positions.c.location.in_(stocked))
    )
    on_order = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(suggestions.c.quantity), 0)).where(
            suggestions.c.sku == sku,
            suggestions.c.location.in_(stocked),
            repository.on_order(now),
        )
    )
    return max(0.0, float(on_hand or 0) + float(on_order or 0))


async def _open_last_time_buy(
    uow: ReplenishmentUnitOfWork, sku: str, location: str
) -> SuggestionRow | None:
    opened = await uow.plans.open_suggestions(sku, location)
    return next((row for row in opened if row.kind == SuggestionKind.LAST_TIME_BUY.value), None)
