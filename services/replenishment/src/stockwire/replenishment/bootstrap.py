"""Wires replenishment once: runtime (database, broker, outbox relay), consumers (and the
catalog copy's), units of work, the periodic jobs (the full re-plan, the sweep for
overdue suggestions, regional imbalances and last-time buys), the kept Idempotency-Key
answers and the HTTP app."""

from functools import partial

from fastapi import FastAPI

from stockwire.contracts.topics import (
    ASSETS_RELIABILITY,
    REPLENISHMENT_ALERTS,
    REPLENISHMENT_PURCHASE_ORDERS,
    REPLENISHMENT_SUGGESTIONS,
    REPLENISHMENT_TRANSFER_REQUESTS,
    STOCK_LEVELS,
    STOCK_MOVEMENTS,
)
from stockwire.replenishment.api_demand import demand_router
from stockwire.replenishment.api_forecasts import forecasts_router
from stockwire.replenishment.api_policies import policies_router
from stockwire.replenishment.api_suggestions import suggestions_router
from stockwire.replenishment.consumers import register_consumers
from stockwire.replenishment.replan import replan_round
from stockwire.replenishment.settings import ReplenishmentSettings
from stockwire.replenishment.sweeps import sweep_round
from stockwire.replenishment.tables import IDEMPOTENCY_KEYS, MESSAGING
from stockwire.replenishment.unit_of_work import ReplenishmentUnitOfWork
from stockwire.runtime.http.app import create_app
from stockwire.runtime.http.idempotency import keep_answers
from stockwire.runtime.periodic import every
from stockwire.runtime.service import ServiceRuntime, build_runtime

SERVICE = "replenishment"


def bootstrap(
    settings: ReplenishmentSettings, *, consumers: bool = True
) -> tuple[FastAPI, ServiceRuntime]:
    """The replenishment HTTP app and the runtime its lifespan starts and stops
    (``consumers=False``: an HTTP-only instance, without the consumers and the periodic
    jobs)."""
    runtime = build_runtime(SERVICE, settings, MESSAGING)
    keys = keep_answers(runtime, IDEMPOTENCY_KEYS)
    planning = settings.planning()

    def new_uow() -> ReplenishmentUnitOfWork:
        return ReplenishmentUnitOfWork(runtime.sessions, runtime.outbox, planning=planning)

    if consumers:
        register_consumers(runtime, settings)
        runtime.run_in_background(
            "replan",
            partial(
                every,
                settings.replenishment_replan_interval_s,
                partial(replan_round, runtime, settings, new_uow),
                what="re-plan",
            ),
        )
        runtime.run_in_background(
            "sweep",
            partial(
                every,
                settings.replenishment_sweep_interval_s,
                partial(sweep_round, settings, new_uow),
                what="sweep",
            ),
        )
    app = create_app(
        runtime,
        title="Stockwire replenishment",
        description="Demand history from "
        f"{STOCK_MOVEMENTS.name}, positions from {STOCK_LEVELS.name} and failure rates from "
        f"{ASSETS_RELIABILITY.name}; forecasts made for spare parts, policies, safety stock "
        "and the transfer, purchase and last-time-buy suggestions they lead to. Published on "
        f"{REPLENISHMENT_SUGGESTIONS.name}, {REPLENISHMENT_TRANSFER_REQUESTS.name}, "
        f"{REPLENISHMENT_PURCHASE_ORDERS.name} and {REPLENISHMENT_ALERTS.name}.",
        routers=[
            policies_router(new_uow, keys, runtime.engine),
            suggestions_router(new_uow, keys, runtime.engine),
            forecasts_router(runtime.engine),
            demand_router(runtime.engine),
        ],
    )
    return app, runtime
