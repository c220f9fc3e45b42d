"""Runtime settings that contradict each other stop a service before it starts."""

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from stockwire.runtime.settings import Settings


@pytest.mark.parametrize("inbox_hours", [168, 100])
def test_an_inbox_retention_not_longer_than_the_outbox_retention_is_refused(inbox_hours):
    """The inbox is the replay horizon: a replayed outbox row older than it would be
    applied twice by the consumer that forgot it."""
    with pytest.raises(ValidationError) as refused:
        Settings(outbox_retention_hours=168, inbox_retention_hours=inbox_hours)
    message = str(refused.value)
    assert "STOCKWIRE_INBOX_RETENTION_HOURS" in message
    assert "STOCKWIRE_OUTBOX_RETENTION_HOURS (168)" in message
    assert "replay horizon" in message


def test_an_inbox_retention_longer_than_the_outbox_retention_is_accepted():
    settings = Settings(outbox_retention_hours=24, inbox_retention_hours=25)
    assert settings.inbox_retention_hours == 25


def test_a_service_refuses_to_start_with_a_shorter_inbox_retention():
    env = {**os.environ, "STOCKWIRE_INBOX_RETENTION_HOURS": "48"}
    env["STOCKWIRE_OUTBOX_RETENTION_HOURS"] = "72"
    started = subprocess.run(
        [sys.executable, "-m", "stockwire.catalog"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "STOCKWIRE_INBOX_RETENTION_HOURS (48) must be longer than" in started.stderr
