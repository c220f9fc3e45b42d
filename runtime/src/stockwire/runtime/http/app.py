"""The HTTP app every service serves: its API under ``/api/v1``, plus health, readiness and
metrics, with the runtime started and stopped by the app's lifespan.

Every app gets the same request handling, in this order from the outside in: request
metrics, the body cap (:mod:`~stockwire.runtime.http.limits`), error answers of one shape
(:mod:`~stockwire.runtime.http.problems`), a closed set of query parameters per route
(:mod:`~stockwire.runtime.http.query`) and JSON bodies of exactly the documented types
(:mod:`~stockwire.runtime.http.bodies`). A service passes only its routers and the paths
that take larger bodies.
"""

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping

from fastapi import APIRouter, Depends, FastAPI, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockwire.runtime.http.bodies import require_exact_json
from stockwire.runtime.http.limits import BodyLimit
from stockwire.runtime.http.problems import install_error_handlers
from stockwire.runtime.http.query import reject_unknown_query_parameters
from stockwire.runtime.service import ServiceRuntime

log = logging.getLogger(__name__)


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """The service's HTTP app: ``routers`` under /api/v1, plus health, readiness and metrics.

    ``body_limits`` maps a full path (``/api/v1/items/import``) to its own body cap, instead
    of ``settings.http_max_body_bytes``.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await runtime.start()
            log.info("%s started", runtime.name)
            yield
        finally:
            # Also after a start that failed halfway: stop() releases what did start.
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version="1",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query_parameters), Depends(require_exact_json)],
    )
    app.state.settings = runtime.settings
    for router in routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(_operations_router(runtime))
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit, default=runtime.settings.http_max_body_bytes, by_path=body_limits or {}
    )
    app.add_middleware(RequestMetrics)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=runtime.tracer_provider, excluded_urls="healthz,readyz,metrics"
    )
    return app


HTTP_REQUESTS = Histogram(
    "stockwire_http_request_duration_seconds",
    "HTTP requests by route template, method and status",
    ["method", "route", "status"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other token a client sends is counted as ``other``, so a
client cannot grow the metric's series without bound."""


class RequestMetrics:
    """ASGI middleware: every request's duration by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            template = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(method, template, str(status)).observe(
                time.perf_counter() - started
            )


class HealthOut(BaseModel):
    status: str = Field(description="ok while the process runs.")


class ReadinessOut(BaseModel):
    status: str = Field(description="ready, or not ready.")
    checks: dict[str, str] = Field(description="Each dependency: ok, or what is wrong.")


def _operations_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> HealthOut:
        return HealthOut(status="ok")

    @router.get(
        "/readyz",
        summary="Broker, database and outbox relay are working",
        responses={503: {"model": ReadinessOut, "description": "Not ready"}},
    )
    async def readyz(response: Response) -> ReadinessOut:
        checks = await runtime.readiness()
        ready = all(state == "ok" for state in checks.values())
        response.status_code = 200 if ready else 503
        return ReadinessOut(status="ready" if ready else "not ready", checks=checks)

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
