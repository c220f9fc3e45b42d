"""Service processes kept alive: logged, checked through /readyz, restarted with backoff."""

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from stockwire.devstack.console import say, tail
from stockwire.devstack.errors import StackError
from stockwire.devstack.processes import spawn, terminate

INITIAL_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0
"""A process that ran this long before dying restarts after the initial backoff again."""
POLL_INTERVAL_S = 0.25


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


class SupervisedService:
    """One service process. Until it is first ready, its death fails ``make up`` (most
    likely a bug or bad configuration, better shown at once); after that it is restarted
    with exponential backoff and ``make up`` keeps running."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        ready_url: str,
        on_spawn: Callable[[int], None],
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.ready_url = ready_url
        self.on_spawn = on_spawn
        self.process: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await spawn(self.argv, self.log_path, self.env)
        self.on_spawn(self.process.pid)

    async def wait_ready(self, timeout_s: float) -> None:
        """Return when /readyz answers 200; raise, with the log's tail, if the process dies
        or ``timeout_s`` passes first."""
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        deadline = time.monotonic() + timeout_s
        while await http_status(self.ready_url) != 200:
            if self.process.returncode is not None:
                raise StackError(
                    f"{self.name} exited with code {self.process.returncode} before it was "
                    f"ready; the end of {self.log_path}:\n{tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.name} did not answer 200 on {self.ready_url} within "
                    f"{timeout_s:.0f} s; the end of {self.log_path}:\n{tail(self.log_path)}"
                )
            await asyncio.sleep(POLL_INTERVAL_S)

    def supervise(self, ready_timeout_s: float) -> None:
        """From now on, restart the process whenever it dies."""
        self._watcher = asyncio.create_task(self._restart_forever(ready_timeout_s))

    async def _restart_forever(self, ready_timeout_s: float) -> None:
        backoff = INITIAL_BACKOFF_S
        while self.process is not None:
            started = time.monotonic()
            code = await self.process.wait()
            if time.monotonic() - started > STABLE_AFTER_S:
                backoff = INITIAL_BACKOFF_S
            say(
                f"{self.name} exited with code {code}; restarting it in {backoff:.0f} s. "
                f"The end of {self.log_path}:\n{tail(self.log_path, 10)}"
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            await self.start()
            try:
                await self.wait_ready(ready_timeout_s)
            except StackError as error:
                say(f"{self.name} did not come back: {error}")
            else:
                say(f"{self.name} is ready again")

    async def stop(self, timeout_s: float) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; no restart afterwards."""
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self.process is not None:
            await terminate(self.process, timeout_s)
