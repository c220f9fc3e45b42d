"""``make up``: the whole platform on one machine, in the foreground, until Ctrl-C.

Order matters: broker and database first, then topics (Tansu creates none), then each
service's migrations, then the services, which are ready only once their Kafka
consumers have joined their groups.
"""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from stockwire.devstack import broker, database, processes
from stockwire.devstack.console import say, step
from stockwire.devstack.errors import StackError
from stockwire.devstack.lock import InstanceLock
from stockwire.devstack.ports import ensure_port_free
from stockwire.devstack.services import SERVICES, Service
from stockwire.devstack.state import StateDir
from stockwire.devstack.supervisor import SupervisedService
from stockwire.devstack.tokens import api_tokens_json, new_secret, write_secret
from stockwire.devstack.topics import create_topics
from stockwire.runtime.auth import new_token
from stockwire.runtime.harness import ProcessFailed, ServiceProcess, migrate
from stockwire.runtime.settings import Settings

SERVICE_STOP_TIMEOUT_S = 10
EXTERNAL_KAFKA_TIMEOUT_S = 15
INTERRUPTED = 130
REPEAT_SIGNAL_WINDOW_S = 1.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""SIGHUP too: a closed terminal must stop the children, not orphan them."""


@dataclass(frozen=True)
class UpOptions:
    state_dir: Path = Path(".stockwire")
    broker_port: int = broker.DEFAULT_PORT
    database_port: int = 5433
    ready_timeout_s: float = 120


@dataclass
class Running:
    """What startup produced: the broker to watch and the lines of the ready summary."""

    tansu: broker.TansuBroker | None = None
    summary: list[str] = field(default_factory=list)


def up(options: UpOptions) -> int:
    """Run the platform until SIGINT or SIGTERM; the exit code for the shell."""
    began = time.monotonic()
    state = StateDir(options.state_dir)
    state.create()
    lock = InstanceLock(state.lock)
    previous = lock.acquire()
    try:
        _stop_leftovers(previous.get("children", {}))
        code = asyncio.run(_run(options, state, lock, began))
    except BaseException:
        lock.release(keep_record=True)
        raise
    lock.release()
    return code


def _stop_leftovers(children: dict[str, dict[str, Any]]) -> None:
    for name, child in children.items():
        if processes.stop_leftover(int(child["pid"]), child.get("started_at")):
            say(f"stopped {name} (pid {child['pid']}), left running by an earlier make up")


async def _run(options: UpOptions, state: StateDir, lock: InstanceLock, began: float) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    first_signal_at = 0.0
    async with AsyncExitStack() as cleanup:
        startup = asyncio.create_task(_start(options, state, lock, cleanup))

        def on_signal(signum: signal.Signals) -> None:
            nonlocal first_signal_at
            if stopping.is_set():
                # `uv run` passes on the Ctrl-C the terminal already sent us: one press
                # arrives twice, and only a later press deserves an answer.
                if time.monotonic() - first_signal_at > REPEAT_SIGNAL_WINDOW_S:
                    say("already stopping, please wait")
                return
            first_signal_at = time.monotonic()
            say(f"\n{signum.name}: stopping Stockwire...")
            stopping.set()
            startup.cancel()

        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            running = await startup
        except asyncio.CancelledError:
            if not stopping.is_set():
                raise
            return INTERRUPTED
        except StackError as error:
            say(f"error: {error}")
            say("stopping what was started...")
            return 1
        say(f"Stockwire is up ({time.monotonic() - began:.1f} s).")
        for line in running.summary:
            say(f"  {line}")
        say("Press Ctrl-C to stop.")
        return await _until_stopped(stopping, running.tansu)


async def _until_stopped(stopping: asyncio.Event, tansu: broker.TansuBroker | None) -> int:
    """0 after Ctrl-C or SIGTERM; 1 if the broker died, since services cannot work on."""
    waits: set[asyncio.Task[object]] = {asyncio.create_task(stopping.wait())}
    if tansu is not None and tansu.process is not None:
        waits.add(asyncio.create_task(tansu.process.wait()))
    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if stopping.is_set():
        return 0
    say(f"error: {tansu.exit_report() if tansu else 'the broker stopped'}; stopping Stockwire")
    return 1


def _announced(
    what: str, stop: Callable[[], Awaitable[None]], started: Callable[[], bool]
) -> Callable[[], Awaitable[None]]:
    """``stop`` preceded by a progress line, when there is something to stop."""

    async def announced_stop() -> None:
        if started():
            say(f"stopping {what}...")
            await stop()

    return announced_stop


async def _start(
    options: UpOptions, state: StateDir, lock: InstanceLock, cleanup: AsyncExitStack
) -> Running:
    running = Running()
    _check_service_ports(Settings())
    bootstrap, broker_line = await _start_broker(options, state, lock, cleanup, running)
    database_url, database_line = await _start_database(options, state, cleanup)
    env = {
        **os.environ,
        "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "STOCKWIRE_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
    }
    replication = 1
    if running.tansu is not None:
        # This Tansu build rejects idempotent producers, whatever the shell exported.
        env["STOCKWIRE_KAFKA_IDEMPOTENCE"] = "false"
    else:
        replication = Settings().topic_replication
    with step("creating topics", "topics ready"):
        created = await create_topics(bootstrap, replication)
    if created:
        say(f"  created {len(created)} topics")
    await _together(_migrate(service, env, state) for service in SERVICES)

    token, _ = new_token()
    write_secret(state.token, token)
    env["STOCKWIRE_API_TOKENS"] = api_tokens_json(token)
    webhook_secret = new_secret()
    write_secret(state.fsm_webhook_secret, webhook_secret)
    env["STOCKWIRE_FSM_WEBHOOK_SECRET"] = webhook_secret
    monitoring_secret = new_secret()
    write_secret(state.monitoring_webhook_secret, monitoring_secret)
    env["STOCKWIRE_ASSETS_MONITORING_WEBHOOK_SECRET"] = monitoring_secret
    # Messages carry acknowledge links; a new key each run, so old links stop working.
    env["STOCKWIRE_NOTIFIER_LINK_SECRET"] = new_secret()
    settings = Settings(kafka_bootstrap_servers=bootstrap, database_url=SecretStr(database_url))
    service_lines = await _start_services(options, state, lock, cleanup, env, settings)

    summary = [
        f"broker     {broker_line}",
        f"database   {database_line}",
        *service_lines,
        f"logs       {state.logs}/",
    ]
    lock.update(state="ready", summary=summary)
    running.summary = [
        *summary[:-1],
        f"token      {token}",
        f"           (scopes read, write, admin; also in {state.token}; "
        "send it as 'Authorization: Bearer <token>')",
        f"fsm secret {webhook_secret}",
        f"           (signs calls to the stock FSM webhook; also in {state.fsm_webhook_secret}; "
        "see docs/running.md)",
        f"monitoring {monitoring_secret}",
        "           (Alertmanager, Zabbix and LibreNMS send it as 'Authorization: Bearer "
        f"<secret>' to the assets webhooks; also in {state.monitoring_webhook_secret}; "
        "see docs/assets.md)",
        summary[-1],
    ]
    return running


def _check_service_ports(settings: Settings) -> None:
    """Fail before anything starts, rather than after the migrations, on a taken port."""
    for service in SERVICES:
        ensure_port_free(
            settings.http_host,
            settings.port_of(service.name),
            f"the {service.name} service",
            f"Stop what holds it, or move {service.name} with "
            f"STOCKWIRE_{service.name.upper()}_PORT.",
        )


async def _start_broker(
    options: UpOptions,
    state: StateDir,
    lock: InstanceLock,
    cleanup: AsyncExitStack,
    running: Running,
) -> tuple[str, str]:
    """The bootstrap servers and the summary line for the broker."""
    if configured := broker.configured_bootstrap():
        with step(f"using the Kafka at {configured} (KAFKA_BOOTSTRAP_SERVERS)", "Kafka answers"):
            await broker.wait_for_kafka(configured, EXTERNAL_KAFKA_TIMEOUT_S)
        return configured, f"{configured} (from KAFKA_BOOTSTRAP_SERVERS)"
    tansu = broker.TansuBroker(options.broker_port, state.log("broker"))
    cleanup.push_async_callback(
        _announced("the broker", tansu.stop, lambda: tansu.process is not None)
    )
    with step(f"starting broker (Tansu) on {tansu.bootstrap}", "broker ready"):
        await tansu.start()
    if (pid := tansu.pid) is not None:
        _record_child(lock, "broker", pid)
    running.tansu = tansu
    return tansu.bootstrap, f"{tansu.bootstrap} (Tansu; in memory, emptied when make up stops)"


def _record_child(lock: InstanceLock, name: str, pid: int) -> None:
    """Note a child process in the lock, so a later run can stop it if this one is killed."""
    lock.add_child(name, pid, processes.identity(pid))


async def _start_database(
    options: UpOptions, state: StateDir, cleanup: AsyncExitStack
) -> tuple[str, str]:
    """The server URL and the summary line for the database."""
    if configured := database.configured_url():
        shown = database.display_url(configured)
        reason = await database.unreachable_reason(configured)
        if reason is None:
            say(f"using the PostgreSQL at {shown} (DATABASE_URL)")
            return configured, f"{shown} (from DATABASE_URL)"
        say(f"DATABASE_URL={shown} does not answer ({reason}); using an embedded PostgreSQL")
    postgres = database.EmbeddedPostgres(
        state.pgdata, options.database_port, state.log("postgres"), state.sockets
    )
    cleanup.push_async_callback(
        _announced("PostgreSQL", postgres.stop, lambda: postgres.pid_file.exists())
    )
    first_run = "" if postgres.initialised else f", initialising {state.pgdata} (first run)"
    with step(
        f"starting PostgreSQL on {postgres.host}:{postgres.port}{first_run}", "PostgreSQL ready"
    ):
        await postgres.start()
    return postgres.url, f"{postgres.url} (embedded PostgreSQL, data in {state.pgdata})"


async def _together(coros: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run side by side; the first failure cancels the rest and is raised."""
    tasks = [asyncio.create_task(coro) for coro in coros]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _migrate(service: Service, env: dict[str, str], state: StateDir) -> None:
    with step(f"migrating {service.name}", f"{service.name} migrated"):
        try:
            await migrate(service.name, state.log(f"{service.name}-migrate"), env)
        except ProcessFailed as error:
            raise StackError(str(error)) from None


async def _start_services(
    options: UpOptions,
    state: StateDir,
    lock: InstanceLock,
    cleanup: AsyncExitStack,
    env: dict[str, str],
    settings: Settings,
) -> list[str]:
    """Start every service, wait until all are ready; their summary lines."""
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "") else settings.http_host
    supervised: list[SupervisedService] = []

    async def stop_all() -> None:
        await asyncio.gather(*(s.stop(SERVICE_STOP_TIMEOUT_S) for s in supervised))

    cleanup.push_async_callback(
        _announced("services", stop_all, lambda: any(s.started for s in supervised))
    )
    lines = []
    for service in SERVICES:
        port = settings.port_of(service.name)
        base = f"http://{host}:{port}"
        process = SupervisedService(
            ServiceProcess.service(
                service.name, port=port, log_path=state.log(service.name), env=env, host=host
            ),
            on_spawn=partial(_record_child, lock, service.name),
        )
        supervised.append(process)
        lines += [
            f"{service.name:<10} API      {base}/api/v1",
            f"{'':<10} docs     {base}/docs",
            f"{'':<10} metrics  {base}/metrics",
        ]
    names = ", ".join(s.name for s in supervised)
    with step(f"starting {names}", f"{names} ready"):
        for process in supervised:
            await process.start()
        await _together(p.wait_ready(options.ready_timeout_s) for p in supervised)
    for process in supervised:
        process.supervise(options.ready_timeout_s)
    return lines
