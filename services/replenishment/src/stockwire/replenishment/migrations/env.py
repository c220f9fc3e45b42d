"""Alembic environment for the replenishment database; the runtime does the work."""

from stockwire.replenishment.tables import metadata
from stockwire.runtime.migrate import run_env

run_env(metadata)
