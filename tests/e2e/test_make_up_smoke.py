"""``make up`` as a developer runs it: ready summary, token-protected API, a working FSM
webhook, single instance, clean Ctrl-C.

It starts its own Tansu and services on free ports with a state directory of its own, and
uses the test database server, so it never meets a developer's own ``make up``.
"""

import hashlib
import hmac
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from stockwire.devstack.ports import free_port
from stockwire.devstack.services import SERVICES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Stockwire is up"
FSM_EXAMPLE = ROOT / "contracts/examples/fsm.job-events.v1/v1/fsm.parts.issued.json"
ALERTMANAGER_FIRING = {
    "version": "4",
    "groupKey": '{}:{alertname="OntDown"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "stockwire",
    "groupLabels": {"alertname": "OntDown"},
    "commonLabels": {"alertname": "OntDown"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "OntDown", "severity": "critical", "serial": "ALCLB2C4D6E8"},
            "annotations": {"summary": "LOS"},
            "startsAt": "2026-12-02T07:12:44Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "4f1c2a9e7b3d8c51",
        }
    ],
}
"""What Alertmanager posts when an ONT goes down (its v4 webhook)."""
STARTUP_TIMEOUT_S = 180
STOP_TIMEOUT_S = 60
NOT_INHERITED = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)


class Output:
    """A child's output, read on a thread so that waiting for a line can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"make up ended before printing {text!r}:\n{self.text()}")
            self.lines.append(line)
            if text in line:
                return
        pytest.fail(f"make up did not print {text!r} within {timeout_s} s:\n{self.text()}")

    def text(self) -> str:
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)


def make_up(state_dir: Path, broker_port: int) -> list[str]:
    args = f"--state-dir {state_dir} --broker-port {broker_port}"
    return ["make", "--no-print-directory", "up", f"ARGS={args}"]


def supervisor_of(make: subprocess.Popen[str]) -> psutil.Process:
    """The ``python -m stockwire.devstack up`` process under make (and uv)."""
    for child in psutil.Process(make.pid).children(recursive=True):
        if child.cmdline()[1:3] == ["-m", "stockwire.devstack"]:
            return child
    raise AssertionError("no stockwire.devstack process under make up")


def still_running(processes: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Those of ``processes`` still running after ``timeout_s``; an unreaped zombie has exited."""
    deadline = time.monotonic() + timeout_s
    while True:
        alive = [p for p in processes if _running(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def up_env(settings) -> dict[str, str]:
    """The test environment, minus the broker (make up must start its own Tansu), with a
    free port for every service."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    for service in SERVICES:
        env[f"STOCKWIRE_{service.name.upper()}_PORT"] = str(free_port())
    return env


@pytest.fixture
def started(tmp_path, up_env) -> Iterator[tuple[subprocess.Popen[str], Output, Path]]:
    state_dir = tmp_path / "state"
    make = subprocess.Popen(
        make_up(state_dir, free_port()),
        cwd=ROOT,
        env=up_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield make, Output(make), state_dir
    finally:
        if make.poll() is None:
            left = psutil.Process(make.pid).children(recursive=True)
            os.killpg(make.pid, signal.SIGKILL)
            for process in left:
                process.kill()
            make.wait()


def test_make_up_serves_the_dev_token_and_the_dev_webhook_secret_and_stops_on_ctrl_c(
    started, up_env
):
    make, output, state_dir = started
    catalog = f"http://127.0.0.1:{up_env['STOCKWIRE_CATALOG_PORT']}"
    stock = f"http://127.0.0.1:{up_env['STOCKWIRE_STOCK_PORT']}"

    # Given make up has printed its ready summary
    output.wait_for(READY_LINE, STARTUP_TIMEOUT_S)
    token = (state_dir / "dev-token").read_text().strip()
    supervisor = supervisor_of(make)
    children = supervisor.children(recursive=True)
    assert any("tansu" in " ".join(child.cmdline()) for child in children), output.text()

    # Then every service it runs is ready on the port it was given
    for service in SERVICES:
        port = up_env[f"STOCKWIRE_{service.name.upper()}_PORT"]
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", trust_env=False, timeout=10)
        assert ready.status_code == 200, f"{service.name}: {ready.text}"

    # When the catalog API is called with and without the dev token
    with httpx.Client(base_url=catalog, trust_env=False, timeout=10) as http:
        with_token = http.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"})
        without_token = http.get("/api/v1/items")

    # Then only the call with the token is let in
    assert with_token.status_code == 200, with_token.text
    assert without_token.status_code == 401, without_token.text

    # And the notifier answers too, with acknowledge links switched on
    notifier = f"http://127.0.0.1:{up_env['STOCKWIRE_NOTIFIER_PORT']}"
    with httpx.Client(base_url=notifier, trust_env=False, timeout=10) as http:
        channels = http.get("/api/v1/channels", headers={"Authorization": f"Bearer {token}"})
        forged_link = http.get("/api/v1/ack/not-a-signed-link")
    assert channels.status_code == 200, channels.text
    assert forged_link.status_code == 422, forged_link.text
    assert "not a link this notifier signed" in forged_link.text

    # And assets lets the dev token read its devices
    assets = f"http://127.0.0.1:{up_env['STOCKWIRE_ASSETS_PORT']}"
    with httpx.Client(base_url=assets, trust_env=False, timeout=10) as http:
        devices = http.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
    assert devices.status_code == 200, devices.text

    # When an FSM event is posted to the stock webhook, signed with the secret make up
    # printed and wrote for its owner alone
    secret_file = state_dir / "fsm-webhook-secret"
    secret = secret_file.read_text().strip()
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert f"fsm secret {secret}" in output.text()
    body = FSM_EXAMPLE.read_bytes()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with httpx.Client(base_url=stock, trust_env=False, timeout=10) as http:
        webhook = http.post(
            "/api/v1/webhooks/fsm",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Stockwire-Signature": f"sha256={signature}",
            },
        )

    # Then it is accepted
    assert webhook.status_code == 202, webhook.text

    # And Alertmanager reaches the assets webhook with the monitoring secret make up printed
    monitoring_file = state_dir / "monitoring-webhook-secret"
    monitoring = monitoring_file.read_text().strip()
    assert monitoring_file.stat().st_mode & 0o777 == 0o600
    assert f"monitoring {monitoring}" in output.text()
    with httpx.Client(base_url=assets, trust_env=False, timeout=10) as http:
        reported = http.post(
            "/api/v1/webhooks/alertmanager",
            json=ALERTMANAGER_FIRING,
            headers={"Authorization": f"Bearer {monitoring}"},
        )
    assert reported.status_code == 202, reported.text

    # When a second make up starts on the same state directory
    second = subprocess.run(
        make_up(state_dir, free_port()),
        cwd=ROOT,
        env=up_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it is refused, names the running one, and starts nothing
    refusal = second.stdout + second.stderr
    assert second.returncode != 0, refusal
    assert "already running" in refusal, refusal
    assert str(supervisor.pid) in refusal, refusal
    assert "starting broker" not in refusal, refusal

    # When Ctrl-C reaches make up
    supervisor.send_signal(signal.SIGINT)

    # Then it exits 0, and the broker and the services are gone with it
    assert make.wait(STOP_TIMEOUT_S) == 0, output.text()
    assert still_running(children, timeout_s=10) == [], output.text()
    assert not (state_dir / "up.lock").exists()
    assert "Stockwire stopped." in output.text()
