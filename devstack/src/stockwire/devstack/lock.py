"""One ``make up`` per state directory, and what a second one is told about the first.

The lock is an flock on ``<state>/up.lock``: the kernel drops it when its holder dies, so
a crashed run never blocks the next. The file holds the holder's record (pid, URLs,
child processes) for the refusal message and for stopping children a killed run left.
"""

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from stockwire.devstack.errors import StackError


class AlreadyRunning(StackError):
    pass


class InstanceLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.record: dict[str, Any] = {}
        self._fd: int | None = None

    def acquire(self) -> dict[str, Any]:
        """Take the lock; the record left by the previous holder, which may have been killed.

        Raises AlreadyRunning, describing the holder, when another run holds it.
        """
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise AlreadyRunning(describe_holder(holder, self.path.parent)) from None
            if self._still_linked(fd):
                break
            os.close(fd)
        self._fd = fd
        previous = _read(fd)
        self.record = {
            "pid": os.getpid(),
            "since": time.time(),
            "state": "starting",
            "children": {},
        }
        self._write()
        return previous

    def _still_linked(self, fd: int) -> bool:
        """False if the holder we waited on removed the file meanwhile (then lock it anew)."""
        try:
            return os.fstat(fd).st_ino == self.path.stat().st_ino
        except FileNotFoundError:
            return False

    def update(self, **fields: Any) -> None:
        self.record.update(fields)
        self._write()

    def add_child(self, name: str, pid: int, started_at: float | None) -> None:
        """Remember a child so a later run can stop it if this one is killed before it can."""
        self.record["children"][name] = {"pid": pid, "started_at": started_at}
        self._write()

    def release(self, keep_record: bool = False) -> None:
        """Unlock; ``keep_record`` leaves the file so the next run can stop our children."""
        if self._fd is None:
            return
        if not keep_record:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def _write(self) -> None:
        if self._fd is None:
            raise RuntimeError("the instance lock is not held")
        data = json.dumps(self.record, indent=2).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


def _read(fd: int) -> dict[str, Any]:
    raw = os.pread(fd, 1 << 20, 0)
    try:
        record = json.loads(raw)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def describe_holder(holder: dict[str, Any], state_dir: Path) -> str:
    pid = holder.get("pid", "?")
    since = time.strftime("%H:%M:%S", time.localtime(holder.get("since", time.time())))
    lines = [f"Stockwire is already running from {state_dir} (pid {pid}, since {since})."]
    if holder.get("state") == "ready":
        lines += [f"  {line}" for line in holder.get("summary", [])]
    else:
        lines.append("  It is still starting; its progress is in its terminal.")
    lines.append(
        f"Stop it with Ctrl-C in its terminal (or kill -INT {pid}), or run another one with "
        "--state-dir, --broker-port, --database-port and STOCKWIRE_<SERVICE>_PORT."
    )
    return "\n".join(lines)
