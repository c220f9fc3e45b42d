"""Child processes of the local platform: started in their own session, logged, stopped in order."""

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from subprocess import DEVNULL, STDOUT

import psutil


async def spawn(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> asyncio.subprocess.Process:
    """Start ``argv`` with stdout and stderr appended to ``log_path``.

    The child leads its own session and process group, so a Ctrl-C in the terminal reaches
    only ``make up``, which then stops the children in order (services before the broker
    and database they need); it also lets :func:`terminate` reach the child's own children.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"--- {stamp} starting: {' '.join(argv)}\n".encode())
        log.flush()
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=DEVNULL,
            stdout=log,
            stderr=STDOUT,
            env=None if env is None else dict(env),
            start_new_session=True,
        )


async def terminate(process: asyncio.subprocess.Process, timeout_s: float) -> int:
    """SIGTERM the child's process group, SIGKILL it after ``timeout_s``; the exit code."""
    if process.returncode is not None:
        return process.returncode
    signal_group(process.pid, signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), timeout_s)
    except TimeoutError:
        signal_group(process.pid, signal.SIGKILL)
        return await process.wait()


async def run_logged(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> int:
    """Run ``argv`` to completion with its output in ``log_path``; killed if we are cancelled."""
    process = await spawn(argv, log_path, env)
    try:
        return await process.wait()
    except asyncio.CancelledError:
        await terminate(process, timeout_s=5)
        raise


def signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def identity(pid: int) -> float | None:
    """The start time of ``pid``: with the pid it tells a process apart from a later reuse."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def still_running(pid: int, started_at: float | None) -> psutil.Process | None:
    """The process ``pid`` if it is the one that started at ``started_at`` and runs still.

    Matching the start time too means a pid reused by an unrelated program is never touched.
    """
    if started_at is None:
        return None
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - started_at) > 0.01 or _gone(process):
            return None
    except psutil.Error:
        return None
    return process


def stop_leftover(pid: int, started_at: float | None, timeout_s: float = 5) -> bool:
    """Stop a child a killed ``make up`` or test session left behind; True if one ran."""
    process = still_running(pid, started_at)
    if process is None:
        return False
    for signum in (signal.SIGTERM, signal.SIGKILL):
        signal_group(pid, signum)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if _gone(process):
                return True
            time.sleep(0.05)
    return True


def _gone(process: psutil.Process) -> bool:
    """Exited, even if not yet reaped: an orphan's zombie waits for init, which may be slow."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
