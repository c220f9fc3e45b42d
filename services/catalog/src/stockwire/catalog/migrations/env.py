"""Alembic environment for the catalog database; the runtime does the work."""

from stockwire.catalog.tables import metadata
from stockwire.runtime.migrate import run_env

run_env(metadata)
