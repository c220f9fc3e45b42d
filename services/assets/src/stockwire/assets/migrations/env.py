"""Alembic environment for the assets database; the runtime does the work."""

from stockwire.assets.tables import metadata
from stockwire.runtime.migrate import run_env

run_env(metadata)
