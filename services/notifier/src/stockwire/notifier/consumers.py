"""Kafka entry points: every topic the registry marks as carrying alerts, read through the
common alert shape only, so a new producer's alerts need no code here; and the catalog
read copy, which fills in an alert's location kind, region and category when the producer
left them out (rules match on them)."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.alerts import AlertRaised, AlertResolved
from stockwire.contracts.topics import ALERT_TOPICS
from stockwire.notifier import handlers
from stockwire.notifier.domain.alerts import Alert, Resolution
from stockwire.notifier.handlers import Incoming, Messenger
from stockwire.notifier.settings import NotifierSettings
from stockwire.notifier.state import KeptState
from stockwire.notifier.tables import CATALOG_COPY
from stockwire.notifier.unit_of_work import NotifierUnitOfWork
from stockwire.runtime.catalog_copy import CatalogCopy, register_catalog_copy
from stockwire.runtime.consumer import Consumer, Received
from stockwire.runtime.service import ServiceRuntime

ALERTS_CONSUMER = "notifier-alerts"
"""The consumer group (and inbox name) reading every alert topic."""


def alert_of(received: Received, places: "Places") -> Alert | Resolution | None:
    """The domain's alert or resolution for a received event; None for any other."""
    payload = received.payload
    if isinstance(payload, AlertRaised):
        return Alert(
            dedup_key=payload.dedup_key,
            alert_id=payload.alert_id,
            kind=payload.kind,
            severity=payload.severity,
            summary=payload.summary,
            raised_at=payload.raised_at,
            **places.context(payload, received.envelope.producer),
        )
    if isinstance(payload, AlertResolved):
        return Resolution(
            dedup_key=payload.dedup_key,
            kind=payload.kind,
            summary=payload.summary,
            resolved_at=payload.resolved_at,
            **places.context(payload, received.envelope.producer),
        )
    return None


class Places:
    """What the catalog copy says about the locations and SKUs of a batch of alerts."""

    def __init__(
        self, locations: dict[str, tuple[str, str]], categories: dict[str, str | None]
    ) -> None:
        self._locations = locations
        self._categories = categories

    @classmethod
    async def of(cls, session: AsyncSession, batch: Sequence[Received]) -> "Places":
        payloads = [r.payload for r in batch if isinstance(r.payload, AlertRaised | AlertResolved)]
        codes = sorted({p.location for p in payloads if p.location})
        skus = sorted({p.sku for p in payloads if p.sku})
        locations: dict[str, tuple[str, str]] = {}
        categories: dict[str, str | None] = {}
        if codes:
            table = CATALOG_COPY.locations
            result = await session.execute(
                sa.select(table.c.code, table.c.kind, table.c.region).where(table.c.code.in_(codes))
            )
            locations = {row.code: (row.kind, row.region) for row in result}
        if skus:
            table = CATALOG_COPY.items
            result = await session.execute(
                sa.select(table.c.sku, table.c.category).where(table.c.sku.in_(skus))
            )
            categories = {row.sku: row.category for row in result}
        return cls(locations, categories)

    def context(self, payload: AlertRaised | AlertResolved, producer: str) -> dict[str, Any]:
        """Where and what an alert or resolution is about, as the domain takes it: the
        producer's word first, then the catalog copy's (location kind, region, category)."""
        kind, region = self._locations.get(payload.location or "", (None, None))
        return {
            "producer": producer,
            "location": payload.location,
            "region": payload.region or region,
            "location_kind": kind,
            "sku": payload.sku,
            "category": payload.category or self._categories.get(payload.sku or ""),
            "labels": dict(payload.labels),
            "figures": dict(payload.figures),
            "link": payload.link,
        }


def register_consumers(
    runtime: ServiceRuntime,
    settings: NotifierSettings,
    messenger: Messenger,
    kept: KeptState,
) -> None:
    register_catalog_copy(runtime, CatalogCopy(CATALOG_COPY))

    async def handle(session: AsyncSession, batch: list[Received]) -> None:
        places = await Places.of(session, batch)
        incoming = [
            Incoming(item, received.trace)
            for received in batch
            if (item := alert_of(received, places)) is not None
        ]
        if incoming:
            uow = NotifierUnitOfWork.within(session, runtime.outbox, kept)
            await handlers.receive(incoming, uow, messenger)

    Consumer(
        settings=settings,
        broker=runtime.broker,
        topics=ALERT_TOPICS,
        consumer=ALERTS_CONSUMER,
        sessions=runtime.sessions,
        inbox=runtime.inbox,
        handle=handle,
        max_batch=settings.notifier_batch_size,
    )
