"""Wires stock once: runtime (database, broker, outbox relay), consumers (and the catalog
copy's), units of work, the kept Idempotency-Key answers and the HTTP app (commands,
queries and the FSM webhook)."""

from fastapi import FastAPI

from stockwire.contracts.topics import STOCK_ALERTS, STOCK_LEVELS, STOCK_MOVEMENTS
from stockwire.runtime.http.app import create_app
from stockwire.runtime.http.idempotency import keep_answers
from stockwire.runtime.service import ServiceRuntime, build_runtime
from stockwire.stock.api_commands import commands_router
from stockwire.stock.api_queries import queries_router
from stockwire.stock.consumers import register_consumers
from stockwire.stock.domain.model import Policy
from stockwire.stock.settings import StockSettings
from stockwire.stock.tables import IDEMPOTENCY_KEYS, MESSAGING
from stockwire.stock.unit_of_work import StockUnitOfWork
from stockwire.stock.webhook import MAX_BODY_BYTES, PATH, fsm_webhook_router

SERVICE = "stock"


def policy_of(settings: StockSettings) -> Policy:
    """The rules an operator configures, as the domain takes them."""
    return Policy(
        allow_negative_kinds=frozenset(kind.value for kind in settings.stock_allow_negative_kinds),
        count_variance_threshold=settings.stock_count_variance_threshold,
    )


def bootstrap(settings: StockSettings, *, consumers: bool = True) -> tuple[FastAPI, ServiceRuntime]:
    """The stock HTTP app and the runtime its lifespan starts and stops.

    ``consumers=False`` leaves the Kafka consumers out (an HTTP-only instance, or tests that
    do not want to wait for consumer groups to form).
    """
    runtime = build_runtime(SERVICE, settings, MESSAGING)
    policy = policy_of(settings)
    if consumers:
        register_consumers(runtime, settings, policy)
    public_url = settings.public_url()
    keys = keep_answers(runtime, IDEMPOTENCY_KEYS)

    def new_uow() -> StockUnitOfWork:
        return StockUnitOfWork(runtime.sessions, runtime.outbox, policy, public_url=public_url)

    return create_app(
        runtime,
        title="Stockwire stock",
        description="Balances per SKU x location, the movement ledger, transfers, cycle counts "
        f"and reservations. Every change is published on {STOCK_MOVEMENTS.name}, "
        f"{STOCK_LEVELS.name} and {STOCK_ALERTS.name}.",
        routers=[
            commands_router(new_uow, keys),
            queries_router(runtime.engine),
            fsm_webhook_router(runtime, settings),
        ],
        body_limits={f"/api/v1{PATH}": MAX_BODY_BYTES},
    ), runtime
