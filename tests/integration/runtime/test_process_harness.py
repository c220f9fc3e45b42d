"""The process harness that make up, the benchmarks and the crash tests share, driven with
small real Python children (no service, no broker) so each behaviour shows on its own."""

import asyncio
import signal
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from stockwire.devstack.ports import free_port
from stockwire.runtime.harness import ProcessFailed, ServiceProcess

TIMEOUT_S = 60
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
"""A process that ignores SIGTERM."""


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def ready_server(port: int) -> list[str]:
    """A child that answers 200 on /readyz, like a service that is ready."""
    return python(f"""
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class Ready(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/readyz" else 404)
                self.end_headers()

        HTTPServer(("127.0.0.1", {port}), Ready).serve_forever()
    """)


async def test_wait_ready_returns_once_readyz_answers_200(tmp_path: Path):
    # Given a child that serves /readyz
    port = free_port()
    child = ServiceProcess(
        ready_server(port), tmp_path / "child.log", ready_url=f"http://127.0.0.1:{port}/readyz"
    )
    await child.start()
    try:
        # When we wait for it, then it is ready and still running
        await child.wait_ready(TIMEOUT_S)
        assert child.running
    finally:
        await child.stop(TIMEOUT_S)


async def test_wait_ready_fails_at_once_with_the_end_of_the_log_when_the_process_dies(
    tmp_path: Path,
):
    # Given a child that exits at start-up, as a service with a bad setting does
    child = ServiceProcess(
        python("import sys; print('bad setting: STOCKWIRE_X'); sys.exit(3)"),
        tmp_path / "child.log",
        ready_url=f"http://127.0.0.1:{free_port()}/readyz",
        name="probe",
    )
    await child.start()

    # When we wait for it to be ready
    with pytest.raises(ProcessFailed) as failed:
        await child.wait_ready(TIMEOUT_S)

    # Then the wait ends on its exit, not on the timeout, and shows why from its log
    message = str(failed.value)
    assert message.startswith("probe exited with code 3 before it was ready"), message
    assert "bad setting: STOCKWIRE_X" in message
    assert child.returncode == 3


async def test_wait_ready_gives_up_after_the_timeout_naming_the_url(tmp_path: Path):
    # Given a child that runs but never answers
    url = f"http://127.0.0.1:{free_port()}/readyz"
    child = ServiceProcess(
        python("import time; time.sleep(600)"), tmp_path / "c.log", ready_url=url
    )
    await child.start()
    try:
        # When the wait's time is up, then it fails naming what it waited for
        with pytest.raises(ProcessFailed, match=f"did not answer 200 on {url} within 1 s"):
            await child.wait_ready(1)
    finally:
        await child.stop(TIMEOUT_S)


async def test_stop_ends_a_child_that_honours_sigterm_with_its_own_exit_code(tmp_path: Path):
    # Given a child that exits 0 on SIGTERM, as a service's clean shutdown does
    child = ServiceProcess(
        python("""
            import signal, sys, time
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            print("up", flush=True)
            time.sleep(600)
        """),
        tmp_path / "child.log",
    )
    await child.start()
    await wait_for_line(child, "up")

    # When it is stopped, then SIGTERM was enough
    assert await child.stop(TIMEOUT_S) == 0


async def test_stop_kills_the_whole_group_when_sigterm_is_ignored_past_the_timeout(
    tmp_path: Path,
):
    # Given a child that ignores SIGTERM and has a child of its own that does too
    child = ServiceProcess(
        python(f"""
            import signal, subprocess, sys, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            grandchild = subprocess.Popen([sys.executable, "-c", {STUBBORN!r}])
            print("started grandchild", grandchild.pid, flush=True)
            time.sleep(600)
        """),
        tmp_path / "child.log",
    )
    await child.start()
    grandchild = psutil.Process(int((await wait_for_line(child, "started grandchild")).split()[2]))

    # When it is stopped with a short timeout
    code = await child.stop(0.5)

    # Then the group got SIGKILL: the child and its own child are gone
    assert code == -signal.SIGKILL
    assert gone(grandchild, TIMEOUT_S)


async def test_a_killed_child_can_be_started_again_and_its_log_keeps_both_runs(tmp_path: Path):
    # Given a running child
    log = tmp_path / "child.log"
    child = ServiceProcess(python("import time; time.sleep(600)"), log)
    await child.start()
    first = child.pid

    # When it is killed and started again
    assert await child.kill() == -signal.SIGKILL
    await child.start()
    try:
        # Then a new process runs, and the log has one start line per run
        assert child.running and child.pid != first
        assert sum(line.startswith("--- ") for line in log.read_text().splitlines()) == 2
    finally:
        await child.stop(TIMEOUT_S)


async def wait_for_line(child: ServiceProcess, prefix: str) -> str:
    """The first line of the child's log starting with ``prefix``, once it is written."""
    for _ in range(TIMEOUT_S * 20):
        for line in child.log_path.read_text().splitlines():
            if line.startswith(prefix):
                return line
        child.check()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{child.name} never wrote {prefix!r}")


def gone(process: psutil.Process, timeout_s: float) -> bool:
    """Exited within ``timeout_s`` (a zombie waiting for init to reap it has exited too)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False
