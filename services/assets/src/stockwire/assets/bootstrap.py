"""Wires assets once: runtime (database, broker, outbox relay), consumers (and the
catalog copy's), units of work, the periodic jobs (reliability figures, the sweep for
alert conditions), the kept Idempotency-Key answers and the HTTP app."""

from functools import partial

from fastapi import FastAPI

from stockwire.assets.api_commands import commands_router
from stockwire.assets.api_monitoring import BODY_LIMITS, monitoring_router
from stockwire.assets.api_queries import queries_router
from stockwire.assets.api_records import records_router
from stockwire.assets.api_reliability import reliability_router
from stockwire.assets.api_reports import minimums_router, reports_router
from stockwire.assets.consumers import register_consumers
from stockwire.assets.reliability import ReliabilityPolicy, compute_round
from stockwire.assets.settings import AssetsSettings
from stockwire.assets.sweeps import sweep_round, windows_of
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
from stockwire.runtime.periodic import every
from stockwire.runtime.service import ServiceRuntime, build_runtime

SERVICE = "assets"


def bootstrap(
    settings: AssetsSettings, *, consumers: bool = True
) -> tuple[FastAPI, ServiceRuntime]:
    """The assets HTTP app and the runtime its lifespan starts and stops
    (``consumers=False``: an HTTP-only instance, without the consumers and the periodic
    jobs)."""
    runtime = build_runtime(SERVICE, settings, MESSAGING)
    policy = ReliabilityPolicy.of(settings)
    keys = keep_answers(runtime, IDEMPOTENCY_KEYS)
    public_url = settings.public_url()

    def new_uow() -> AssetsUnitOfWork:
        return AssetsUnitOfWork(runtime.sessions, runtime.outbox, public_url=public_url)

    if consumers:
        register_consumers(runtime, settings)
        runtime.run_in_background(
            "reliability",
            partial(
                every,
                settings.assets_reliability_interval_s,
                partial(compute_round, new_uow, policy),
                what="reliability",
            ),
        )
        runtime.run_in_background(
            "sweep",
            partial(
                every,
                settings.assets_sweep_interval_s,
                partial(sweep_round, runtime, settings),
                what="sweep",
            ),
        )
    app = create_app(
        runtime,
        title="Stockwire assets",
        description="The life of every serialized device, from receipt to disposal, kept "
        f"from {STOCK_MOVEMENTS.name}; maintenance, failures, warranty and RMAs; "
        "reliability per model and how far the records agree with the network. Published "
        f"on {ASSETS_LIFECYCLE.name}, {ASSETS_RELIABILITY.name} and {ASSETS_ALERTS.name}.",
        # queries_router last: its /devices/{serial:path} takes '/' in serials.
        routers=[
            commands_router(new_uow, keys),
            records_router(runtime.engine),
            reliability_router(runtime.engine, policy),
            monitoring_router(runtime, settings),
            minimums_router(new_uow, keys, runtime.engine),
            reports_router(runtime.engine, windows_of(settings)),
            queries_router(runtime.engine),
        ],
        body_limits=BODY_LIMITS,
    )
    return app, runtime
