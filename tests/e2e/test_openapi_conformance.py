"""Each service answers exactly what its OpenAPI document says: schemathesis, with every
check, against the real service process, finds nothing.

This is the same ``st run`` anyone can point at ``make up`` (see ``schemathesis.toml``
at the top of the repository, which names the few answers a rule no JSON Schema can state
may still cause). Each service runs as a process on a database and consumer groups of its
own, so the fuzzer's records meet no other test. The seed is fixed so a failure
reproduces; ``STOCKWIRE_SCHEMATHESIS_SEED`` and ``STOCKWIRE_SCHEMATHESIS_EXAMPLES`` try
other and more cases.
"""

import asyncio
import json
import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stockwire.devstack.ports import free_port
from stockwire.devstack.services import SERVICES
from stockwire.runtime.auth import new_token
from stockwire.runtime.harness import ServiceProcess, migrate, tail
from stockwire.runtime.settings import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "schemathesis.toml"
SEED = os.environ.get("STOCKWIRE_SCHEMATHESIS_SEED", "20261202")
EXAMPLES = os.environ.get("STOCKWIRE_SCHEMATHESIS_EXAMPLES", "40")
READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
RUN_TIMEOUT_S = 600


@pytest.fixture(params=[service.name for service in SERVICES])
async def running(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """The service as a process: its base URL and a token with every scope."""
    service = str(request.param)
    run = uuid.uuid4().hex[:8]
    token, digest = new_token()
    env = {
        **os.environ,
        "STOCKWIRE_DATABASE_PREFIX": f"{settings.database_prefix}openapi_{run}_",
        "STOCKWIRE_CONSUMER_GROUP_PREFIX": f"openapi-{run}-",
        "STOCKWIRE_API_TOKENS": json.dumps(
            [{"name": "fuzzer", "sha256": digest, "scopes": ["admin"]}]
        ),
        "STOCKWIRE_FSM_WEBHOOK_SECRET": secrets.token_hex(16),
        # The fuzzer's token is also the monitoring webhooks' bearer secret, so its calls
        # reach the intake itself rather than stopping at a 401.
        "STOCKWIRE_ASSETS_MONITORING_WEBHOOK_SECRET": token,
        "PYTHONUNBUFFERED": "1",
    }
    await migrate(service, tmp_path / "migrate.log", env)
    port = free_port()
    process = ServiceProcess.service(service, port=port, log_path=tmp_path / "service.log", env=env)
    await process.start()
    try:
        await process.wait_ready(READY_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}", token
    finally:
        await process.stop(STOP_TIMEOUT_S)


async def test_the_service_answers_as_its_openapi_document_says(
    running: tuple[str, str], tmp_path: Path
):
    base, token = running
    argv = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--no-color",
    ]
    log = tmp_path / "schemathesis.log"
    with log.open("wb") as output:
        fuzzer = await asyncio.create_subprocess_exec(
            *argv, stdout=output, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path
        )
        code = await asyncio.wait_for(fuzzer.wait(), RUN_TIMEOUT_S)

    assert code == 0, f"schemathesis found failures:\n{tail(log, 200)}"
