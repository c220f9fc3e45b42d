"""Alembic environment for the stock database; the runtime does the work."""

from stockwire.runtime.migrate import run_env
from stockwire.stock.tables import metadata

run_env(metadata)
