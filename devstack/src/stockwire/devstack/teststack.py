"""The broker and database server the tests run against, chosen once per test session.

The default (local) backend uses KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL when they
answer; otherwise it starts Tansu, and an embedded PostgreSQL unless one answers at
the default URL, each on a free port so parallel sessions never meet. Tests get their
own databases (prefix ``stockwire_test_``, or ``STOCKWIRE_TEST_DATABASE_PREFIX``), never
the ones ``make up`` uses. STOCKWIRE_TEST_BACKEND=containers selects Apache Kafka and
PostgreSQL in Docker instead.
"""

import asyncio
import json
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from pydantic import SecretStr

from stockwire.devstack import broker, database, processes
from stockwire.devstack.containers import container_servers
from stockwire.devstack.errors import StackError
from stockwire.devstack.ports import free_port
from stockwire.devstack.topics import create_topics
from stockwire.runtime.settings import Settings

BACKEND_ENV = "STOCKWIRE_TEST_BACKEND"
PREFIX_ENV = "STOCKWIRE_TEST_DATABASE_PREFIX"
TEST_DATABASE_PREFIX = "stockwire_test_"
"""The default; two test sessions on one database server at once need a prefix each."""
CONFIGURED_TIMEOUT_S = 5
SESSION_PREFIX = "session-"
SESSION_RECORD = "session.json"

T = TypeVar("T")


@contextmanager
def test_stack(state_dir: Path = Path(".stockwire")) -> Iterator[Settings]:
    """Settings pointing at a running broker (with every topic) and database server."""
    backend = os.environ.get(BACKEND_ENV, "local")
    with BackgroundLoop() as loop:
        if backend == "containers":
            with container_servers() as (bootstrap, database_url):
                loop.run(create_topics(bootstrap))
                yield _settings(bootstrap, database_url, idempotence=True)
        elif backend == "local":
            servers = LocalServers(state_dir / "test-stack")
            try:
                bootstrap, database_url = loop.run(servers.start())
                loop.run(create_topics(bootstrap))
                yield _settings(bootstrap, database_url, idempotence=False)
            finally:
                loop.run(servers.stop())
        else:
            raise ValueError(f"{BACKEND_ENV}={backend!r}: expected 'local' or 'containers'")


test_stack.__test__ = False  # type: ignore[attr-defined]  # a fixture helper, not a test


def environment(settings: Settings) -> dict[str, str]:
    """The variables that give a child process's ``Settings()`` the same servers."""
    return {
        "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "STOCKWIRE_KAFKA_IDEMPOTENCE": str(settings.kafka_idempotence).lower(),
        "STOCKWIRE_DATABASE_URL": settings.database_url.get_secret_value(),
        "STOCKWIRE_DATABASE_PREFIX": settings.database_prefix,
    }


def _settings(bootstrap: str, database_url: str, idempotence: bool) -> Settings:
    return Settings(
        kafka_bootstrap_servers=bootstrap,
        kafka_idempotence=idempotence,
        database_url=SecretStr(database_url),
        database_prefix=os.environ.get(PREFIX_ENV, TEST_DATABASE_PREFIX),
    )


class LocalServers:
    """Whatever answers already, plus a Tansu and an embedded PostgreSQL for what does not."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work: Path | None = None
        self.tansu: broker.TansuBroker | None = None
        self.postgres: database.EmbeddedPostgres | None = None

    async def start(self) -> tuple[str, str]:
        self.root.mkdir(parents=True, exist_ok=True)
        await reap_abandoned_sessions(self.root)
        self.work = Path(tempfile.mkdtemp(prefix=SESSION_PREFIX, dir=self.root))
        self._write_record()
        bootstrap = await self._broker(self.work)
        self._write_record()
        return bootstrap, await self._database(self.work)

    def _write_record(self) -> None:
        """Who owns this session's servers, for :func:`reap_abandoned_sessions`."""
        if self.work is None:
            raise RuntimeError("the test session has no directory yet")
        record = {"owner": _process_record(os.getpid())}
        if self.tansu is not None and (pid := self.tansu.pid) is not None:
            record["tansu"] = _process_record(pid)
        (self.work / SESSION_RECORD).write_text(json.dumps(record))

    async def _broker(self, work: Path) -> str:
        if configured := broker.configured_bootstrap():
            try:
                await broker.wait_for_kafka(configured, CONFIGURED_TIMEOUT_S)
            except StackError as error:
                warnings.warn(
                    f"KAFKA_BOOTSTRAP_SERVERS: {error}; the tests start their own Tansu",
                    stacklevel=1,
                )
            else:
                return configured
        self.tansu = broker.TansuBroker(free_port(), work / "broker.log")
        await self.tansu.start()
        return self.tansu.bootstrap

    async def _database(self, work: Path) -> str:
        configured = database.configured_url()
        for url in (configured, database.DEFAULT_URL):
            if url is None:
                continue
            reason = await database.unreachable_reason(url)
            if reason is None:
                return url
            if url == configured:
                warnings.warn(
                    f"DATABASE_URL={database.display_url(url)} does not answer ({reason})",
                    stacklevel=1,
                )
        self.postgres = database.EmbeddedPostgres(
            work / "pgdata", free_port(), work / "postgres.log", work / "run"
        )
        await self.postgres.start()
        return self.postgres.url

    async def stop(self) -> None:
        if self.postgres is not None:
            await self.postgres.stop()
        if self.tansu is not None:
            await self.tansu.stop()
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


def _process_record(pid: int) -> dict[str, Any]:
    return {"pid": pid, "started_at": processes.identity(pid)}


async def reap_abandoned_sessions(root: Path) -> None:
    """Stop the servers of test sessions that were killed before their teardown ran.

    A session killed outright (SIGKILL, or SIGTERM, which pytest does not turn into a
    teardown) leaves its Tansu and its embedded PostgreSQL running; the next session
    stops them and removes their directory.
    """
    for work, record in await asyncio.to_thread(_abandoned_sessions, root):
        if tansu := record.get("tansu"):
            await asyncio.to_thread(processes.stop_leftover, tansu["pid"], tansu.get("started_at"))
        await database.EmbeddedPostgres(
            work / "pgdata", 0, work / "postgres.log", work / "run"
        ).stop()
        await asyncio.to_thread(shutil.rmtree, work, ignore_errors=True)


def _abandoned_sessions(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Session directories, with their records, whose owning process is gone."""
    abandoned = []
    for work in root.glob(f"{SESSION_PREFIX}*"):
        try:
            record = json.loads((work / SESSION_RECORD).read_text())
        except (OSError, ValueError):
            continue
        owner = record.get("owner", {})
        if not processes.still_running(owner.get("pid", 0), owner.get("started_at")):
            abandoned.append((work, record))
    return abandoned


class BackgroundLoop:
    """An event loop on its own thread for the whole test session.

    The test stack's child processes belong to the loop that started them, while
    pytest-asyncio runs its loops on the main thread; a loop of our own keeps the two apart.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="stockwire-test-stack", daemon=True
        )

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
