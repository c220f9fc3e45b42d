"""Child processes for ``make up``, the benchmarks and the crash tests: start, wait ready,
stop, kill.

Every child leads its own session and process group, with stdin closed and stdout and
stderr appended to a log file. A Ctrl-C in the terminal therefore reaches only the parent,
which stops its children in the order it chooses, and a stop or kill reaches the child's
own children too. Readiness is ``GET /readyz`` answering 200; a child that dies or is
not ready in time fails at once with the end of its log, which nearly always says why.
"""

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from subprocess import DEVNULL, STDOUT
from typing import Self
from urllib.parse import urlsplit

TAIL_LINES = 25
POLL_INTERVAL_S = 0.25
CANCEL_STOP_TIMEOUT_S = 5.0


class ProcessFailed(Exception):
    """A child exited, or was not ready in time; the message ends with the end of its log."""


def service_argv(service: str) -> list[str]:
    """The command that serves ``service`` (HTTP and consumers) until SIGTERM."""
    return [sys.executable, "-m", f"stockwire.{service}"]


def migrate_argv(service: str) -> list[str]:
    """Migrations run in a child process: Alembic's env starts its own asyncio loop."""
    return [sys.executable, "-m", "stockwire.runtime.migrate", service]


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log, indented, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"    (cannot read {path}: {error.strerror})"
    last = text.rstrip().splitlines()[-lines:]
    if not last:
        return f"    ({path} is empty)"
    return "\n".join(f"    | {line}" for line in last)


def signal_group(pid: int, signum: signal.Signals) -> None:
    """Signal the process group ``pid`` leads; nothing if it is gone already."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


async def http_status(url: str, timeout_s: float = 2) -> int | None:
    """The status of a GET on ``url``, or None if nothing answers.

    A bare request on a socket: no proxy settings apply (a loopback probe must never go
    through HTTP_PROXY) and cancelling it leaves no thread behind.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(request.encode())
                status_line = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return None
    fields = status_line.split()
    return int(fields[1]) if len(fields) >= 2 and fields[1].isdigit() else None


class ServiceProcess:
    """One child process, its output in ``log_path``, ready when ``ready_url`` answers 200.

    It may be started again once it has exited (a restart after a crash or a kill); each
    start appends a ``---`` line with the time and the command to the log.
    """

    def __init__(
        self,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        ready_url: str | None = None,
        name: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self.env = None if env is None else dict(env)
        self.ready_url = ready_url
        self.name = name or Path(self.argv[0]).name
        self._process: asyncio.subprocess.Process | None = None

    @classmethod
    def service(
        cls,
        service: str,
        *,
        port: int,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> Self:
        """``python -m stockwire.<service>`` serving HTTP on ``host:port``
        (``STOCKWIRE_<SERVICE>_PORT``), with ``env`` (default: ours) for its settings."""
        child_env = {
            **(os.environ if env is None else env),
            f"STOCKWIRE_{service.upper()}_PORT": str(port),
        }
        return cls(
            service_argv(service),
            log_path,
            env=child_env,
            ready_url=f"http://{host}:{port}/readyz",
            name=service,
        )

    @property
    def pid(self) -> int | None:
        """The pid of the latest start, also after it exited; None before the first."""
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        """None while running (or never started); negative for the signal that ended it."""
        return None if self._process is None else self._process.returncode

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is running already (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"--- {stamp} starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=DEVNULL,
                stdout=log,
                stderr=STDOUT,
                env=self.env,
                start_new_session=True,
            )

    async def wait(self) -> int:
        """Until the process exits; its exit code."""
        return await self._started().wait()

    def exit_report(self, lines: int = TAIL_LINES) -> str | None:
        """Why the process is gone, with the end of its log, or None while it runs."""
        code = self.returncode
        if code is None:
            return None
        return f"{self.name} exited with code {code}; the end of {self.log_path}:\n" + tail(
            self.log_path, lines
        )

    def check(self) -> None:
        """Raise :class:`ProcessFailed`, with the end of the log, if the process has exited."""
        if (report := self.exit_report()) is not None:
            raise ProcessFailed(report)

    async def wait_ready(self, timeout_s: float) -> float:
        """Return, with the seconds it took, once ``ready_url`` answers 200; raise
        :class:`ProcessFailed` with the end of the log if the process exits or
        ``timeout_s`` passes first."""
        process = self._started()
        if self.ready_url is None:
            raise RuntimeError(f"{self.name} has no ready URL to wait on")
        started = time.monotonic()
        while await http_status(self.ready_url) != 200:
            if process.returncode is not None:
                raise ProcessFailed(
                    f"{self.name} exited with code {process.returncode} before it was "
                    f"ready; the end of {self.log_path}:\n{tail(self.log_path)}"
                )
            if time.monotonic() - started > timeout_s:
                raise ProcessFailed(
                    f"{self.name} did not answer 200 on {self.ready_url} within "
                    f"{timeout_s:.0f} s; the end of {self.log_path}:\n{tail(self.log_path)}"
                )
            await asyncio.sleep(POLL_INTERVAL_S)
        return time.monotonic() - started

    async def stop(self, timeout_s: float) -> int | None:
        """SIGTERM to the process group, SIGKILL after ``timeout_s``; the exit code (None if
        never started). A stop that had to kill returns ``-signal.SIGKILL``."""
        process = self._process
        if process is None:
            return None
        if process.returncode is not None:
            return process.returncode
        signal_group(process.pid, signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            signal_group(process.pid, signal.SIGKILL)
            return await process.wait()

    async def kill(self) -> int:
        """SIGKILL to the process group now, as a crash or the OOM killer would; the exit code."""
        process = self._started()
        if process.returncode is None:
            signal_group(process.pid, signal.SIGKILL)
        return await process.wait()

    def _started(self) -> asyncio.subprocess.Process:
        if self._process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._process


async def run_to_end(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> int:
    """Run ``argv`` to completion with its output in ``log_path``; its exit code. If we are
    cancelled meanwhile, it is stopped too."""
    process = ServiceProcess(argv, log_path, env=env)
    await process.start()
    try:
        return await process.wait()
    except asyncio.CancelledError:
        await process.stop(CANCEL_STOP_TIMEOUT_S)
        raise


async def migrate(service: str, log_path: Path, env: Mapping[str, str] | None = None) -> None:
    """``python -m stockwire.runtime.migrate <service>`` with ``env``: create the service's
    database when missing and upgrade it to head; :class:`ProcessFailed` if that fails."""
    code = await run_to_end(migrate_argv(service), log_path, env)
    if code != 0:
        raise ProcessFailed(
            f"migrating {service} failed with code {code}; the end of {log_path}:\n{tail(log_path)}"
        )
