"""No configured secret leaves the stock service: not in its logs, its answers, its
metrics, its OpenAPI document, ``repr(Settings())``, nor its start-up errors.

The secrets are a database password (the test PostgreSQL trusts local connections, so a
password in the URL is accepted when it has none of its own), an FSM webhook secret and
an API token. The service runs as a real process on a database of its own, with consumer
groups of its own, so nothing else in the session meets it.
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from stockwire.devstack.ports import free_port
from stockwire.runtime.auth import new_token
from stockwire.runtime.db import asyncpg_dsn
from stockwire.runtime.harness import ServiceProcess, migrate
from stockwire.runtime.settings import Settings
from stockwire.stock.settings import StockSettings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "contracts/examples/fsm.job-events.v1/v1/fsm.parts.issued.json"
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
WEBHOOK = "/api/v1/webhooks/fsm"


class Secrets:
    """Every secret one run configures, and the environment that carries them."""

    def __init__(self, settings: Settings, run: str) -> None:
        server = make_url(os.environ["STOCKWIRE_DATABASE_URL"])
        self.password = server.password or f"pw{secrets.token_hex(12)}"
        self.fsm_secret = f"fsm{secrets.token_hex(16)}"
        self.too_short_fsm_secret = f"short{secrets.token_hex(4)}"
        self.token, digest = new_token()
        self.database_url = server.set(password=self.password).render_as_string(hide_password=False)
        self.env = {
            **os.environ,
            "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "STOCKWIRE_DATABASE_URL": self.database_url,
            "STOCKWIRE_DATABASE_PREFIX": f"{settings.database_prefix}secrets_{run}_",
            "STOCKWIRE_CONSUMER_GROUP_PREFIX": f"secrets-{run}-",
            "STOCKWIRE_FSM_WEBHOOK_SECRET": self.fsm_secret,
            "STOCKWIRE_API_TOKENS": json.dumps(
                [{"name": "ops", "sha256": digest, "scopes": ["read", "write"]}]
            ),
            "PYTHONUNBUFFERED": "1",
        }

    @property
    def all(self) -> dict[str, str]:
        return {
            "database password": self.password,
            "FSM webhook secret": self.fsm_secret,
            "too short FSM webhook secret": self.too_short_fsm_secret,
            "API token": self.token,
        }

    def found_in(self, text: str) -> list[str]:
        return [name for name, value in self.all.items() if value in text]


@pytest.fixture
def run() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
async def configured(settings: Settings, run: str) -> AsyncIterator[Secrets]:
    """The secrets of one run; its database is dropped afterwards."""
    configured = Secrets(settings, run)
    yield configured
    await drop_database(settings, f"{configured.env['STOCKWIRE_DATABASE_PREFIX']}stock")


async def drop_database(settings: Settings, name: str) -> None:
    admin = await asyncpg.connect(asyncpg_dsn(settings.server_url()))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def show(response: httpx.Response) -> str:
    """Everything a client sees of an answer: status, headers and body."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return f"{response.request.method} {response.request.url} -> {response.status_code}\n" + (
        f"{headers}\n\n{response.text}"
    )


async def exercise(base: str, configured: Secrets) -> dict[str, httpx.Response]:
    """Good and bad calls of every kind; each answer by what was asked."""
    example = EXAMPLE.read_bytes()
    good = {"Authorization": f"Bearer {configured.token}"}
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as http:
        calls = {
            "balances": http.get("/api/v1/balances", headers=good),
            "no token": http.get("/api/v1/balances"),
            "bad token": http.get(
                "/api/v1/balances", headers={"Authorization": f"Bearer {configured.token}x"}
            ),
            "unknown route": http.get("/api/v1/no-such-thing", headers=good),
            "invalid query": http.get("/api/v1/balances?limit=many", headers=good),
            "invalid command": http.post("/api/v1/issues", headers=good, json={"lines": 3}),
            "signed event": http.post(
                WEBHOOK,
                content=example,
                headers={
                    "Content-Type": "application/json",
                    "X-Stockwire-Signature": sign(example, configured.fsm_secret),
                },
            ),
            "wrongly signed event": http.post(
                WEBHOOK,
                content=example,
                headers={
                    "Content-Type": "application/json",
                    "X-Stockwire-Signature": sign(example, configured.fsm_secret[::-1]),
                },
            ),
            "signed garbage": http.post(
                WEBHOOK,
                content=b"{not json",
                headers={"X-Stockwire-Signature": sign(b"{not json", configured.fsm_secret)},
            ),
            "openapi": http.get("/openapi.json"),
            "docs": http.get("/docs"),
            "readyz": http.get("/readyz"),
        }
        answers = {name: await call for name, call in calls.items()}
        # Last, so it counts every call above.
        answers["metrics"] = await http.get("/metrics")
    return answers


async def start_failing(
    case: str, env: dict[str, str], tmp_path: Path
) -> tuple[ServiceProcess, httpx.Response | None]:
    """The service started with a broken setting, run until it has exited or answers
    /readyz (whatever the status), then stopped; with that /readyz answer, if any."""
    process = ServiceProcess.service(
        "stock", port=free_port(), log_path=tmp_path / f"{case}.log", env=env
    )
    assert process.ready_url is not None
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
    await process.start()
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            while process.running:
                with contextlib.suppress(httpx.TransportError):
                    return process, await http.get(process.ready_url)
                assert asyncio.get_running_loop().time() < deadline, f"{case} never settled"
                await asyncio.sleep(0.25)
        return process, None
    finally:
        await process.stop(STOP_TIMEOUT_S)


async def test_no_configured_secret_appears_in_logs_answers_metrics_openapi_or_errors(
    configured: Secrets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given the stock service started with a database password, an FSM webhook secret
    # and an API token
    await migrate("stock", tmp_path / "migrate.log", configured.env)
    port = free_port()
    service = ServiceProcess.service(
        "stock", port=port, log_path=tmp_path / "stock.log", env=configured.env
    )
    await service.start()
    try:
        await service.wait_ready(READY_TIMEOUT_S)

        # When good and bad requests of every kind are made
        answers = await exercise(f"http://127.0.0.1:{port}", configured)
    finally:
        await service.stop(STOP_TIMEOUT_S)

    # And the settings are loaded and shown
    for name, value in configured.env.items():
        monkeypatch.setenv(name, value)
    loaded = StockSettings()

    # And the service is started with a too short webhook secret, and with a database
    # server that does not answer
    dead_database = make_url(configured.database_url).set(port=free_port())
    short_secret, short_ready = await start_failing(
        "short-secret",
        configured.env | {"STOCKWIRE_FSM_WEBHOOK_SECRET": configured.too_short_fsm_secret},
        tmp_path,
    )
    dead, dead_ready = await start_failing(
        "dead-database",
        configured.env
        | {"STOCKWIRE_DATABASE_URL": dead_database.render_as_string(hide_password=False)},
        tmp_path,
    )

    # Then every call was answered as intended (so the secrets were really in use)
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "balances": 200,
        "no token": 401,
        "bad token": 401,
        "unknown route": 404,
        "invalid query": 422,
        "invalid command": 422,
        "signed event": 202,
        "wrongly signed event": 401,
        "signed garbage": 422,
        "openapi": 200,
        "docs": 200,
        "readyz": 200,
        "metrics": 200,
    }, {name: answer.text for name, answer in answers.items()}
    assert loaded.fsm_webhook_secret is not None
    # And the broken starts failed: the short secret stops the service, the dead
    # database keeps it from being ready
    assert short_secret.returncode not in (None, 0) and short_ready is None
    assert "fsm_webhook_secret" in short_secret.log_path.read_text()
    assert dead_ready is not None and dead_ready.status_code != 200, dead.log_path.read_text()

    # And no secret shows anywhere
    shown = {f"answer to {name}": show(answer) for name, answer in answers.items()}
    shown |= {
        f"{path.name}": path.read_text()
        for path in (tmp_path / "migrate.log", service.log_path, short_secret.log_path)
    }
    shown |= {
        "dead-database.log": dead.log_path.read_text(),
        "dead-database readyz": show(dead_ready),
        "repr(StockSettings())": repr(loaded),
        "str(StockSettings())": str(loaded),
        "repr(Settings())": repr(Settings()),
    }
    leaks = {where: found for where, text in shown.items() if (found := configured.found_in(text))}
    assert leaks == {}, "\n\n".join(f"{where}:\n{shown[where]}" for where in leaks)
