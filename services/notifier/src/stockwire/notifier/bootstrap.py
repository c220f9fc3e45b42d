"""Wires the notifier once: runtime (database, broker, outbox relay), the alert and
catalog consumers, the ticker and the delivery worker, and the HTTP app."""

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from fastapi import FastAPI

from stockwire.contracts.topics import ALERT_TOPICS, NOTIFIER_ACKNOWLEDGEMENTS
from stockwire.notifier import handlers
from stockwire.notifier.api import (
    ack_link_router,
    acknowledgements_router,
    alerts_router,
    configuration_router,
    deliveries_router,
)
from stockwire.notifier.consumers import register_consumers
from stockwire.notifier.deliveries import Claimed, DeliveryWorker, Outgoing
from stockwire.notifier.handlers import Messenger
from stockwire.notifier.links import AckLinks
from stockwire.notifier.settings import NotifierSettings
from stockwire.notifier.state import KeptState
from stockwire.notifier.tables import MESSAGING, acknowledgements, deliveries
from stockwire.notifier.unit_of_work import NotifierUnitOfWork
from stockwire.runtime.http.app import create_app
from stockwire.runtime.periodic import every
from stockwire.runtime.purging import purge_periodically
from stockwire.runtime.service import ServiceRuntime, build_runtime

SERVICE = "notifier"
PURGE_INTERVAL_S = 3600.0
"""How often the delivery log and acknowledgements are purged of what is past retention."""
log = logging.getLogger(__name__)


def links_of(settings: NotifierSettings) -> AckLinks | None:
    if settings.notifier_link_secret is None:
        return None
    base = settings.notifier_public_url or f"http://{settings.http_host}:{settings.notifier_port}"
    return AckLinks(
        settings.notifier_link_secret.get_secret_value().encode(),
        base,
        timedelta(hours=settings.notifier_link_ttl_hours),
    )


def bootstrap(
    settings: NotifierSettings, *, consumers: bool = True
) -> tuple[FastAPI, ServiceRuntime]:
    runtime = build_runtime(SERVICE, settings, MESSAGING)
    messenger = Messenger(settings, links_of(settings))

    kept = KeptState()

    def new_uow() -> NotifierUnitOfWork:
        return NotifierUnitOfWork(runtime.sessions, runtime.outbox, kept=kept)

    async def dead_letter(delivery: Claimed, error: str) -> Outgoing | None:
        return await handlers.dead_letter(delivery, error, new_uow(), messenger)

    worker = DeliveryWorker(
        settings,
        runtime.sessions,
        messenger.send,
        dead_letter,
        lambda: datetime.now(UTC),
        settings.service_url(SERVICE),
    )
    if consumers:
        register_consumers(runtime, settings, messenger, kept)

    async def tick() -> None:
        await handlers.tick(new_uow(), messenger)

    retention = timedelta(days=settings.notifier_log_retention_days)
    runtime.run_in_background(
        "delivery-purge",
        partial(
            purge_periodically,
            runtime.engine,
            deliveries,
            "created_at",
            retention,
            PURGE_INTERVAL_S,
            what="deliveries",
            only="status <> 'pending'",
        ),
    )
    runtime.run_in_background(
        "acknowledgement-purge",
        partial(
            purge_periodically,
            runtime.engine,
            acknowledgements,
            "acknowledged_at",
            retention,
            PURGE_INTERVAL_S,
            what="acknowledgements",
        ),
    )
    runtime.run_in_background("deliveries", worker.run)
    runtime.run_in_background("ticker", partial(every, settings.notifier_tick_s, tick, what="tick"))
    alert_topics = ", ".join(spec.name for spec in ALERT_TOPICS)
    app = create_app(
        runtime,
        title="Stockwire notifier",
        description="Routes every alert topic the registry marks "
        f"({alert_topics}) to email and chat, with grouping, de-duplication, digests, "
        "silences, inhibition, quiet hours, flap suppression, escalation and "
        f"acknowledgement; acknowledgements are published on {NOTIFIER_ACKNOWLEDGEMENTS.name}.",
        routers=[
            configuration_router(new_uow, messenger),
            alerts_router(new_uow, messenger),
            ack_link_router(new_uow, messenger, messenger.links),
            deliveries_router(runtime.engine),
            acknowledgements_router(runtime.engine),
        ],
    )
    return app, runtime
