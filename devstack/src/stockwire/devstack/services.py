"""The services ``make up`` runs: adding one is adding its name to SERVICES.

Each service is the module ``stockwire.<name>``: ``python -m stockwire.<name>`` reads
``stockwire.runtime.settings.Settings`` from the environment and serves HTTP on
``settings.port_of(name)`` with ``/readyz``; its Alembic migrations live in
``stockwire.<name>.migrations``.
"""

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str

    def run_argv(self) -> list[str]:
        return [sys.executable, "-m", f"stockwire.{self.name}"]

    def migrate_argv(self) -> list[str]:
        """Migrations run in a child process: Alembic's env starts its own asyncio loop."""
        return [sys.executable, "-m", "stockwire.runtime.migrate", self.name]


SERVICES: tuple[Service, ...] = (Service("catalog"), Service("stock"))
