"""Alembic environment for the notifier database; the runtime does the work."""

from stockwire.notifier.tables import metadata
from stockwire.runtime.migrate import run_env

run_env(metadata)
