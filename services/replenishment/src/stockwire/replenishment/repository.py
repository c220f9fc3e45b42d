"""Replenishment's own SQL: open alerts, suggestions, policy overrides and forecasts, and
what an evaluation of one SKU x location reads."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from stockwire.contracts.vocabulary import (
    AlertSeverity,
    Category,
    Criticality,
    LocationKind,
    ReplenishmentAlertKind,
    SuggestionKind,
    TrackingMode,
)
from stockwire.replenishment.domain.alerts import OpenAlert
from stockwire.replenishment.domain.policies import (
    SETTINGS_FIELDS,
    ItemFacts,
    LocationFacts,
    PolicyKind,
    PolicySettings,
)
from stockwire.replenishment.domain.suggestions import SuggestionStatus
from stockwire.replenishment.tables import CATALOG_COPY, open_alerts, policies, suggestions
from stockwire.runtime.domain_errors import NotFound


@dataclass(frozen=True, slots=True)
class OpenAlertRow:
    dedup_key: str
    kind: str
    severity: str
    sku: str
    location: str | None
    region: str | None
    suggestion_id: uuid.UUID | None
    raised_at: datetime

    def domain(self) -> OpenAlert:
        return OpenAlert(
            kind=ReplenishmentAlertKind(self.kind),
            dedup_key=self.dedup_key,
            severity=AlertSeverity(self.severity),
            sku=self.sku,
            location=self.location,
            region=self.region,
        )


@dataclass(frozen=True, slots=True)
class SuggestionRow:
    suggestion_id: uuid.UUID
    kind: str
    sku: str
    location: str
    from_location: str | None
    quantity: Any
    status: str
    explanation: dict[str, Any]
    made_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    purchase_request_id: uuid.UUID | None
    received_at: datetime | None


TRANSFER_SHIP_WAIT = timedelta(days=1)
"""How long an accepted transfer counts as on its way before stock ships it; past that it
was refused or lost, and the location is suggested again."""


def on_order(now: datetime) -> sa.ColumnElement[bool]:
    """Accepted suggestions on their way to their location that stock's levels do not show
    yet: purchases until a receipt quotes their request id, transfers until stock ships
    them (then they are in transit in the level) or :data:`TRANSFER_SHIP_WAIT` passes."""
    return sa.and_(
        suggestions.c.status == SuggestionStatus.ACCEPTED.value,
        suggestions.c.received_at.is_(None),
        sa.or_(
            suggestions.c.kind != SuggestionKind.TRANSFER.value,
            suggestions.c.decided_at > now - TRANSFER_SHIP_WAIT,
        ),
    )


class PlansRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_alerts(self, keys: Iterable[str]) -> dict[str, OpenAlertRow]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = await self.session.execute(
            sa.select(open_alerts).where(open_alerts.c.dedup_key.in_(wanted))
        )
        return {row.dedup_key: OpenAlertRow(**row._mapping) for row in rows}

    async def open_alerts_of(self, kind: str) -> dict[str, OpenAlertRow]:
        rows = await self.session.execute(sa.select(open_alerts).where(open_alerts.c.kind == kind))
        return {row.dedup_key: OpenAlertRow(**row._mapping) for row in rows}

    async def keep_open(self, alerts: Sequence[OpenAlertRow]) -> None:
        """Remember alerts as open; one raised again (it got worse) takes the new row."""
        if alerts:
            statement = insert(open_alerts)
            await self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=[open_alerts.c.dedup_key],
                    set_={
                        "severity": statement.excluded.severity,
                        "suggestion_id": statement.excluded.suggestion_id,
                    },
                ),
                [{name: getattr(a, name) for name in OpenAlertRow.__slots__} for a in alerts],
            )

    async def close(self, keys: Iterable[str]) -> None:
        wanted = sorted(set(keys))
        if wanted:
            await self.session.execute(
                sa.delete(open_alerts).where(open_alerts.c.dedup_key.in_(wanted))
            )

    async def open_suggestions(self, sku: str, location: str) -> list[SuggestionRow]:
        """The open suggestions for one SKU x location (at most one per kind), locked."""
        rows = await self.session.execute(
            sa.select(suggestions)
            .where(
                suggestions.c.sku == sku,
                suggestions.c.location == location,
                suggestions.c.status == SuggestionStatus.OPEN.value,
            )
            .order_by(suggestions.c.kind)
            .with_for_update()
        )
        return [SuggestionRow(**row._mapping) for row in rows]

    async def rejected_since(self, sku: str, location: str, since: datetime) -> list[SuggestionRow]:
        """The suggestions for one SKU x location a person rejected after ``since``."""
        rows = await self.session.execute(
            sa.select(suggestions).where(
                suggestions.c.sku == sku,
                suggestions.c.location == location,
                suggestions.c.status == SuggestionStatus.REJECTED.value,
                suggestions.c.decided_at > since,
            )
        )
        return [SuggestionRow(**row._mapping) for row in rows]

    async def suggestion(self, suggestion_id: uuid.UUID, *, lock: bool) -> SuggestionRow | None:
        query = sa.select(suggestions).where(suggestions.c.suggestion_id == suggestion_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return SuggestionRow(**row._mapping) if row else None

    async def add_suggestion(self, row: Mapping[str, Any]) -> None:
        await self.session.execute(sa.insert(suggestions).values(**row))

    async def decide(
        self,
        suggestion_id: uuid.UUID,
        status: SuggestionStatus,
        at: datetime,
        by: str | None,
        reason: str | None,
        purchase_request_id: uuid.UUID | None = None,
    ) -> None:
        await self.session.execute(
            sa.update(suggestions)
            .where(suggestions.c.suggestion_id == suggestion_id)
            .values(
                status=status,
                decided_at=at,
                decided_by=by,
                decision_reason=reason,
                purchase_request_id=purchase_request_id,
            )
        )


ASSUMED_LEAD_TIME_DAYS = 14
"""The supplier lead time of an item the catalog gives none for."""


@dataclass(frozen=True, slots=True)
class CatalogFacts:
    item: ItemFacts
    location: LocationFacts


async def catalog_facts(
    session: AsyncSession | AsyncConnection, sku: str, location: str
) -> CatalogFacts:
    """What the catalog copy says of ``sku`` and ``location``; NotFound for either missing."""
    items, places = CATALOG_COPY.items, CATALOG_COPY.locations
    item = (await session.execute(sa.select(items).where(items.c.sku == sku))).first()
    if item is None:
        raise NotFound("item", sku)
    place = (await session.execute(sa.select(places).where(places.c.code == location))).first()
    if place is None:
        raise NotFound("location", location)
    return CatalogFacts(
        item=ItemFacts(
            sku=sku,
            category=Category(item.category) if item.category else Category.OTHER,
            criticality=(Criticality(item.criticality) if item.criticality else Criticality.MEDIUM),
            tracking_mode=TrackingMode(item.tracking_mode),
            lead_time_days=(
                item.default_lead_time_days
                if item.default_lead_time_days is not None
                else ASSUMED_LEAD_TIME_DAYS
            ),
        ),
        location=LocationFacts(code=location, kind=LocationKind(place.kind), region=place.region),
    )


@dataclass(frozen=True, slots=True)
class PolicyRow:
    sku: str
    location: str
    settings: PolicySettings
    version: int
    updated_by: str
    updated_at: datetime


def policy_row(row: sa.Row[Any]) -> PolicyRow:
    m = row._mapping
    return PolicyRow(
        sku=m["sku"],
        location=m["location"],
        settings=PolicySettings(
            kind=PolicyKind(m["kind"]) if m["kind"] else None,
            service_level=m["service_level"],
            min_quantity=_float(m["min_quantity"]),
            max_quantity=_float(m["max_quantity"]),
            reorder_point=_float(m["reorder_point"]),
            order_up_to=_float(m["order_up_to"]),
            review_period_days=m["review_period_days"],
            lead_time_days=m["lead_time_days"],
        ),
        version=m["version"],
        updated_by=m["updated_by"],
        updated_at=m["updated_at"],
    )


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


async def policy_of(
    session: AsyncSession | AsyncConnection, sku: str, location: str
) -> PolicyRow | None:
    row = (
        await session.execute(
            sa.select(policies).where(policies.c.sku == sku, policies.c.location == location)
        )
    ).first()
    return policy_row(row) if row else None


async def save_policy(
    session: AsyncSession, sku: str, location: str, settings: PolicySettings, by: str, at: datetime
) -> PolicyRow:
    values = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
    values["kind"] = settings.kind.value if settings.kind else None
    statement = insert(policies).values(
        sku=sku, location=location, version=1, updated_by=by, updated_at=at, **values
    )
    row = (
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[policies.c.sku, policies.c.location],
                set_={
                    **values,
                    "version": policies.c.version + 1,
                    "updated_by": by,
                    "updated_at": at,
                },
            ).returning(*policies.c)
        )
    ).one()
    return policy_row(row)


async def remove_policy(session: AsyncSession, sku: str, location: str) -> bool:
    removed = await session.execute(
        sa.delete(policies)
        .where(policies.c.sku == sku, policies.c.location == location)
        .returning(policies.c.sku)
    )
    return removed.first() is not None
