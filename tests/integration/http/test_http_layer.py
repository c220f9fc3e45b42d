"""The shared HTTP layer, through each service's real app: body caps, error shapes, strict
query parameters and JSON types, a database outage, and bounded metric labels."""

import logging
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from http_refs import TOKEN
from prometheus_client import REGISTRY

MIB = 1024 * 1024
CHUNK = 64 * 1024

LIST_ROUTE = {"catalog": "/api/v1/items", "stock": "/api/v1/balances"}
WRITE_ROUTE = {"catalog": "/api/v1/items", "stock": "/api/v1/receipts"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Exchange:
    """One request played straight into the ASGI app, counting the body bytes it read."""

    def __init__(self, body: bytes, chunk: int = CHUNK) -> None:
        self.pending = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
        self.consumed = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""

    async def run(
        self, app: FastAPI, method: str, path: str, headers: dict[str, str] | None = None
    ) -> "Exchange":
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 50000),
            "server": ("service.test", 80),
        }

        async def receive() -> dict[str, object]:
            if not self.pending:
                return {"type": "http.disconnect"}
            chunk = self.pending.pop(0)
            self.consumed += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.pending)}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                self.status = int(message["status"])  # type: ignore[call-overload]
                self.headers = {k.decode(): v.decode() for k, v in message["headers"]}  # type: ignore[attr-defined]
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")  # type: ignore[operator]

        await app(scope, receive, send)
        return self


def client(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service.test", headers=headers
    )


async def test_a_streamed_body_over_the_cap_is_413_before_auth_after_reading_at_most_the_cap(
    app_of: Callable[..., FastAPI], service: str
):
    app = app_of(service)
    exchange = Exchange(b"x" * (8 * MIB))

    await exchange.run(app, "POST", WRITE_ROUTE[service], {"content-type": "application/json"})

    assert exchange.status == 413
    assert exchange.consumed <= MIB + CHUNK
    assert b'"error":"request_entity_too_large"' in exchange.body


async def test_a_declared_length_over_the_cap_is_413_without_reading_the_body(
    app_of: Callable[..., FastAPI], service: str
):
    app = app_of(service)
    exchange = Exchange(b"x" * (2 * MIB))

    await exchange.run(
        app,
        "POST",
        WRITE_ROUTE[service],
        {"content-type": "application/json", "content-length": str(2 * MIB)},
    )

    assert exchange.status == 413
    assert exchange.consumed == 0


async def test_the_cap_is_a_setting(app_of: Callable[..., FastAPI], service: str):
    app = app_of(service, http_max_body_bytes=4096)
    exchange = Exchange(b"x" * 10_000, chunk=1000)

    await exchange.run(app, "POST", WRITE_ROUTE[service], {"content-type": "application/json"})

    assert exchange.status == 413
    assert exchange.consumed <= 5000


async def test_the_catalog_import_takes_a_larger_file_up_to_its_own_cap(
    app_of: Callable[..., FastAPI],
):
    app = app_of("catalog")
    three_mib = Exchange(b"sku\n" + b"x" * (3 * MIB))
    too_large = Exchange(b"sku\n" + b"x" * (6 * MIB))

    for exchange in (three_mib, too_large):
        await exchange.run(
            app, "POST", "/api/v1/items/import", {**AUTH, "content-type": "text/csv"}
        )

    assert three_mib.status == 422
    assert three_mib.consumed == 3 * MIB + 4
    assert too_large.status == 413
    assert too_large.consumed <= 5 * MIB + CHUNK


async def test_an_unknown_query_parameter_is_422_naming_it_on_every_route(
    app_of: Callable[..., FastAPI], service: str
):
    async with client(app_of(service), AUTH) as http:
        listed = await http.get(LIST_ROUTE[service], params={"colour": "red"})
        health = await http.get("/healthz", params={"verbose": "1"})

    for response, name in ((listed, "colour"), (health, "verbose")):
        assert response.status_code == 422
        assert response.json()["problems"] == [
            {"field": name, "reason": "is not a parameter of this endpoint"}
        ]


async def test_an_unmatched_route_is_404_in_the_error_shape(
    app_of: Callable[..., FastAPI], service: str
):
    async with client(app_of(service), AUTH) as http:
        response = await http.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert response.json()["problems"] == []


async def test_a_wrong_method_is_405_allowing_every_method_of_the_path(
    app_of: Callable[..., FastAPI], service: str
):
    path = {"catalog": "/api/v1/items", "stock": "/api/v1/transfers"}[service]

    async with client(app_of(service), AUTH) as http:
        response = await http.request("OPTIONS", path)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["error"] == "method_not_allowed"


async def test_a_json_value_of_another_type_than_documented_is_422(
    app_of: Callable[..., FastAPI],
):
    body = {
        "sku": "ONT-TYPES",
        "name": "GPON ONT",
        "manufacturer": "Nokia",
        "category": "ont",
        "tracking_mode": "serial",
        "unit_cost": "54.90",
        "currency": "EUR",
        "default_lead_time_days": "14",
    }

    async with client(app_of("catalog"), AUTH) as http:
        response = await http.post("/api/v1/items", json=body)

    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == ["default_lead_time_days"]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_database_outage_is_503_with_retry_after_and_logged_once(
    app_of: Callable[..., FastAPI], service: str
):
    app = app_of(service, database_url="postgresql://postgres@127.0.0.1:1/postgres")
    logs = Records()
    logging.getLogger().addHandler(logs)  # after the app's bootstrap configured logging

    try:
        async with client(app, AUTH) as http:
            responses = [await http.get(LIST_ROUTE[service]) for _ in range(5)]
    finally:
        logging.getLogger().removeHandler(logs)

    assert [r.status_code for r in responses] == [503] * 5
    assert all(r.headers["retry-after"] == "5" for r in responses)
    assert responses[0].json()["error"] == "unavailable"
    outage = [r for r in logs.records if r.name == "stockwire.runtime.http.problems"]
    assert len(outage) == 1
    assert outage[0].exc_info is None
    assert not [r for r in logs.records if r.levelno >= logging.ERROR]


async def test_a_method_no_route_knows_is_counted_as_other(
    app_of: Callable[..., FastAPI], service: str
):
    def count(method: str) -> float:
        samples = [
            s.value
            for metric in REGISTRY.collect()
            if metric.name == "stockwire_http_request_duration_seconds"
            for s in metric.samples
            if s.name.endswith("_count") and s.labels["method"] == method
        ]
        return sum(samples)

    before = count("other")
    async with client(app_of(service), AUTH) as http:
        for token in ("QUERY", "BREW", "X-ANYTHING"):
            await http.request(token, LIST_ROUTE[service])

    assert count("other") == before + 3
    assert count("QUERY") == count("BREW") == 0


async def test_a_body_sent_without_a_content_type_is_held_to_the_documented_types(
    app_of: Callable[..., FastAPI],
):
    """FastAPI parses a body without Content-Type as JSON; the exact-types check does too."""
    body = (
        b'{"sku": "ONT-NOTYPE", "name": "GPON ONT", "manufacturer": "Nokia", "category": "ont",'
        b' "tracking_mode": "serial", "unit_cost": "54.90", "currency": "EUR",'
        b' "default_lead_time_days": "14"}'
    )
    exchange = Exchange(body)

    await exchange.run(app_of("catalog"), "POST", "/api/v1/items", AUTH)

    assert exchange.status == 422
    assert b'"field":"default_lead_time_days"' in exchange.body
