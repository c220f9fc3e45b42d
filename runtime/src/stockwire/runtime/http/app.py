"""The HTTP app every service serves: its API under ``/api/v1``, plus health, readiness and
metrics, with the runtime started and stopped by the app's lifespan."""

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from stockwire.runtime.service import ServiceRuntime

log = logging.getLogger(__name__)


def create_app(
    runtime: ServiceRuntime, *, title: str, description: str, routers: list[APIRouter]
) -> FastAPI:
    """The service's HTTP app: its API under /api/v1, plus health, readiness and metrics."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        log.info("%s started", runtime.name)
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="1", lifespan=lifespan)
    app.state.settings = runtime.settings
    app.state.runtime = runtime
    for router in routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(_operations_router(runtime))
    app.middleware("http")(_record_request_metrics)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=runtime.tracer_provider, excluded_urls="healthz,readyz,metrics"
    )
    return app


HTTP_REQUESTS = Histogram(
    "stockwire_http_request_duration_seconds",
    "HTTP requests by route template, method and status",
    ["method", "route", "status"],
)


async def _record_request_metrics(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    HTTP_REQUESTS.labels(request.method, template, str(response.status_code)).observe(
        time.perf_counter() - started
    )
    return response


def _operations_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Broker and database are reachable")
    async def readyz(response: Response) -> dict[str, object]:
        checks = await runtime.readiness()
        ready = all(state == "ok" for state in checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", "checks": checks}

    @router.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
