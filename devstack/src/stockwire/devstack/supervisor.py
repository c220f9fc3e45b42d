"""Service processes kept alive: checked through /readyz, restarted with backoff."""

import asyncio
import time
from collections.abc import Callable

from stockwire.devstack.console import say
from stockwire.devstack.errors import StackError
from stockwire.runtime.harness import ProcessFailed, ServiceProcess, tail

INITIAL_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0
"""A process that ran this long before dying restarts after the initial backoff again."""


class SupervisedService:
    """One service process. Until it is first ready, its death fails ``make up`` (most
    likely a bug or bad configuration, better shown at once); after that it is restarted
    with exponential backoff and ``make up`` keeps running. ``on_spawn`` learns each new
    pid (the lock file records it, so a later ``make up`` can stop a leftover)."""

    def __init__(self, process: ServiceProcess, on_spawn: Callable[[int], None]) -> None:
        self.process = process
        self.on_spawn = on_spawn
        self._watcher: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.process.name

    @property
    def started(self) -> bool:
        return self.process.pid is not None

    async def start(self) -> None:
        await self.process.start()
        if self.process.pid is not None:
            self.on_spawn(self.process.pid)

    async def wait_ready(self, timeout_s: float) -> None:
        """Return when /readyz answers 200; raise, with the log's tail, if the process dies
        or ``timeout_s`` passes first."""
        try:
            await self.process.wait_ready(timeout_s)
        except ProcessFailed as error:
            raise StackError(str(error)) from None

    def supervise(self, ready_timeout_s: float) -> None:
        """From now on, restart the process whenever it dies."""
        self._watcher = asyncio.create_task(self._restart_forever(ready_timeout_s))

    async def _restart_forever(self, ready_timeout_s: float) -> None:
        backoff = INITIAL_BACKOFF_S
        while True:
            started = time.monotonic()
            code = await self.process.wait()
            if time.monotonic() - started > STABLE_AFTER_S:
                backoff = INITIAL_BACKOFF_S
            say(
                f"{self.name} exited with code {code}; restarting it in {backoff:.0f} s. "
                f"The end of {self.process.log_path}:\n{tail(self.process.log_path, 10)}"
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
        await self.process.stop(timeout_s)
