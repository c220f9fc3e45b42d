"""Reads what one SKU x location's evaluation needs and asks the domain: the catalog's
facts, the policy in effect, the position (with purchases on order), the forecast's
lead-time demand, the failure exposure, and the other locations of the region with
their levels (as their latest evaluation left them in ``plans``).

Failure exposure: spares for failures of a region's installed base are held at the
region's warehouses (vans, PoPs and huts are restocked from them), so the failure-rate
term applies at warehouses only, each warehouse of the region taking an equal share of
the region's installed base.
"""

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.vocabulary import LocationKind
from stockwire.replenishment import demand_model, repository
from stockwire.replenishment.domain.explanation import ReorderExplanation
from stockwire.replenishment.domain.levels import Levels, levels
from stockwire.replenishment.domain.policies import (
    STOCKED_KINDS,
    EffectivePolicy,
    is_stocked,
    resolve_policy,
)
from stockwire.replenishment.domain.positions import LocationStock, Position
from stockwire.replenishment.domain.reorder import evaluate
from stockwire.replenishment.domain.safety_stock import FailureExposure
from stockwire.replenishment.forecasting import DemandDistribution
from stockwire.replenishment.repository import CatalogFacts
from stockwire.replenishment.tables import (
    CATALOG_COPY,
    demand_daily,
    forecasts,
    plans,
    positions,
    reliability,
    suggestions,
)
from stockwire.runtime.domain_errors import Invalid, NotFound

log = logging.getLogger("stockwire.replenishment.planning")

RECENT_DAYS = 90
"""The longest window of demand history a series with no forecast yet is planned from:
the days since its first recorded demand, up to this many (so a series that began
yesterday is not averaged over 90 days it did not exist)."""


async def evaluation(
    session: AsyncSession, sku: str, location: str, now: datetime
) -> ReorderExplanation | None:
    """The evaluation of ``sku`` at ``location``; None when there is nothing to plan (an
    item or location the catalog copy lacks, a location holding no planned stock, no
    stock level yet, or an override the defaults no longer admit)."""
    try:
        facts = await repository.catalog_facts(session, sku, location)
    except NotFound:
        return None
    if not is_stocked(facts.location.kind):
        return None
    today = now.date()
    position = await _position(session, sku, location, now)
    if position is None:
        return None
    planned = await _planned(session, facts, today)
    if planned is None:
        return None
    policy, planned_levels = planned
    peers = await _peers(session, facts, now)
    return evaluate(policy, planned_levels, position, peers, today)


async def _planned(
    session: AsyncSession, facts: CatalogFacts, today: date
) -> tuple[EffectivePolicy, Levels] | None:
    sku, location = facts.item.sku, facts.location.code
    override = await repository.policy_of(session, sku, location)
    try:
        policy = resolve_policy(facts.item, facts.location, override.settings if override else None)
    except Invalid as error:
        log.warning(
            "%s at %s is not planned: its override no longer fits: %s", sku, location, error
        )
        return None
    daily = await _forecast(session, sku, location) or demand_model.poisson(
        await _recent_daily_mean(session, sku, location, today)
    )
    demand = demand_model.lead_time_demand(daily, policy.lead_time_days, policy.service_level)
    failures = await _failures(session, facts)
    return policy, levels(policy, demand, daily.mean, failures)


async def _position(
    session: AsyncSession, sku: str, location: str, now: datetime
) -> Position | None:
    level = await session.execute(
        sa.select(positions).where(positions.c.sku == sku, positions.c.location == location)
    )
    row = level.first()
    if row is None:
        return None
    on_order = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(suggestions.c.quantity), 0)).where(
            suggestions.c.sku == sku,
            suggestions.c.location == location,
            repository.on_order(now),
        )
    )
    return Position(
        on_hand=float(row.on_hand),
        reserved=float(row.reserved),
        available=float(row.available),
        in_transit_in=float(row.in_transit_in),
        on_order=float(on_order or 0),
    )


async def _forecast(session: AsyncSession, sku: str, location: str) -> DemandDistribution | None:
    """The daily demand distribution of the series' latest forecast, if it has one."""
    kept = await session.scalar(
        sa.select(forecasts.c.distribution).where(
            forecasts.c.sku == sku, forecasts.c.location == location
        )
    )
    return demand_model.from_kept(kept) if kept is not None else None


async def _recent_daily_mean(session: AsyncSession, sku: str, location: str, today: date) -> float:
    since = today - timedelta(days=RECENT_DAYS)
    row = (
        await session.execute(
            sa.select(
                sa.func.coalesce(
                    sa.func.sum(demand_daily.c.quantity + demand_daily.c.lost_quantity), 0
                ).label("total"),
                sa.func.min(demand_daily.c.day).label("first"),
            ).where(
                demand_daily.c.sku == sku,
                demand_daily.c.location == location,
                demand_daily.c.day > since,
            )
        )
    ).one()
    if row.first is None:
        return 0.0
    first: date = row.first
    total = float(row.total or Decimal(0))
    return total / max(1, (today - first).days + 1)


async def _failures(session: AsyncSession, facts: CatalogFacts) -> FailureExposure | None:
    if facts.location.kind is not LocationKind.WAREHOUSE:
        return None
    row = (
        await session.execute(
            sa.select(reliability.c.installed_base, reliability.c.failures_per_device_year).where(
                reliability.c.sku == facts.item.sku, reliability.c.region == facts.location.region
            )
        )
    ).first()
    if row is None or row.failures_per_device_year is None or row.installed_base == 0:
        return None
    places = CATALOG_COPY.locations
    warehouses = await session.scalar(
        sa.select(sa.func.count()).where(
            places.c.region == facts.location.region,
            places.c.kind == LocationKind.WAREHOUSE.value,
            places.c.active,
        )
    )
    share = -(-row.installed_base // max(1, int(warehouses or 1)))
    return FailureExposure(share, row.failures_per_device_year)


async def _peers(
    session: AsyncSession, facts: CatalogFacts, now: datetime
) -> Sequence[LocationStock]:
    """The other stocked locations of the region holding the SKU, with their current
    positions and the levels of their latest evaluation (``plans``), in one query; a
    location not evaluated yet has its levels computed here. What they have on order is
    not counted, so their excess is never overstated."""
    places = CATALOG_COPY.locations
    rows = await session.execute(
        sa.select(
            positions.c.location,
            positions.c.on_hand,
            positions.c.reserved,
            positions.c.available,
            positions.c.in_transit_in,
            places.c.kind,
            plans.c.reorder_point,
            plans.c.order_up_to,
        )
        .join(places, places.c.code == positions.c.location)
        .outerjoin(
            plans,
            (plans.c.sku == positions.c.sku) & (plans.c.location == positions.c.location),
        )
        .where(
            positions.c.sku == facts.item.sku,
            places.c.region == facts.location.region,
            places.c.code != facts.location.code,
            places.c.kind.in_([kind.value for kind in STOCKED_KINDS]),
        )
        .order_by(positions.c.location)
    )
    peers = []
    for row in rows:
        position = Position(
            on_hand=float(row.on_hand),
            reserved=float(row.reserved),
            available=float(row.available),
            in_transit_in=float(row.in_transit_in),
        )
        if row.reorder_point is not None:
            point, most = float(row.reorder_point), float(row.order_up_to)
        else:
            other = await repository.catalog_facts(session, facts.item.sku, row.location)
            planned = await _planned(session, other, now.date())
            if planned is None:
                continue
            point, most = planned[1].reorder_point, planned[1].order_up_to
        peers.append(LocationStock(row.location, LocationKind(row.kind), position, point, most))
    return peers
