"""Children that a killed ``make up`` or test session left behind: recognised by pid and
start time, and stopped. Starting and stopping our own children is
:mod:`stockwire.runtime.harness`."""

import signal
import time

import psutil

from stockwire.runtime.harness import signal_group


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
