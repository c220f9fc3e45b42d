"""Wires the catalog once: runtime (database, broker, outbox relay), units of work, HTTP app."""

from fastapi import FastAPI

from stockwire.catalog.api import items_router, locations_router
from stockwire.catalog.settings import CatalogSettings
from stockwire.catalog.tables import MESSAGING
from stockwire.catalog.unit_of_work import CatalogUnitOfWork
from stockwire.contracts.topics import CATALOG_ITEMS, CATALOG_LOCATIONS
from stockwire.runtime.http.app import create_app
from stockwire.runtime.service import ServiceRuntime, build_runtime

SERVICE = "catalog"
IMPORT_PATH = "/api/v1/items/import"


def bootstrap(settings: CatalogSettings) -> tuple[FastAPI, ServiceRuntime]:
    """The catalog's HTTP app and the runtime its lifespan starts and stops."""
    runtime = build_runtime(SERVICE, settings, MESSAGING)

    def new_uow() -> CatalogUnitOfWork:
        return CatalogUnitOfWork(runtime.sessions, runtime.outbox)

    app = create_app(
        runtime,
        title="Stockwire catalog",
        description="Equipment models (SKUs) and locations. Every change is published on "
        f"{CATALOG_ITEMS.name} or {CATALOG_LOCATIONS.name}.",
        routers=[items_router(new_uow), locations_router(new_uow)],
        body_limits={IMPORT_PATH: settings.catalog_import_max_bytes},
    )
    return app, runtime
