"""Wires assets once: runtime (database, broker, outbox relay), consumers (and the
catalog copy's), units of work, the kept Idempotency-Key answers, the periodic sweep for
alert conditions and the HTTP app."""

from functools import partial

from fastapi import FastAPI

from stockwire.assets.api_queries import queries_router
from stockwire.assets.api_reports import minimums_router, reports_router
from stockwire.assets.consumers import register_consumers
from stockwire.assets.settings import AssetsSettings
from stockwire.assets.sweeps import sweep_periodically, windows_of
from stockwire.assets.tables import IDEMPOTENCY_KEYS, MESSAGING
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.topics import (
    ASSETS_ALERTS,
    ASSETS_LIFECYCLE,
    ASSETS_RELIABILITY,
    STOCK_MOVEMENTS,
)
from stockwire.runtime.http.app import create_app
from stockwire.runtime.http.idempotency import keep_answers
from stockwire.runtime.service import ServiceRuntime, build_runtime

SERVICE = "assets"


def bootstrap(
    settings: AssetsSettings, *, consumers: bool = True
) -> tuple[FastAPI, ServiceRuntime]:
    """The assets HTTP app and the runtime its lifespan starts and stops
    (``consumers=False``: an HTTP-only instance)."""
    runtime = build_runtime(SERVICE, settings, MESSAGING)
    if consumers:
        register_consumers(runtime, settings)

    def new_uow() -> AssetsUnitOfWork:
        return AssetsUnitOfWork(runtime.sessions, runtime.outbox, public_url=settings.public_url())

    keys = keep_answers(runtime, IDEMPOTENCY_KEYS)
    runtime.run_in_background("sweep", partial(sweep_periodically, runtime, settings))
    app = create_app(
        runtime,
        title="Stockwire assets",
        description="The life of every serialized device, from receipt to disposal, kept "
        f"from {STOCK_MOVEMENTS.name}; maintenance, failures, warranty and RMAs; "
        "reliability per model and how far the records agree with the network. Published "
        f"on {ASSETS_LIFECYCLE.name}, {ASSETS_RELIABILITY.name} and {ASSETS_ALERTS.name}.",
        routers=[
            queries_router(runtime.engine),
            minimums_router(new_uow, keys, runtime.engine),
            reports_router(runtime.engine, windows_of(settings)),
        ],
    )
    return app, runtime
