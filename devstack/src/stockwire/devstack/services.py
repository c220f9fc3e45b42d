"""The services ``make up`` runs: adding one is adding its name to SERVICES.

Each service is the module ``stockwire.<name>``: ``python -m stockwire.<name>`` reads
``stockwire.runtime.settings.Settings`` from the environment and serves HTTP on
``settings.port_of(name)`` with ``/readyz``; its Alembic migrations live in
``stockwire.<name>.migrations``. :mod:`stockwire.runtime.harness` runs both.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str


SERVICES: tuple[Service, ...] = (
    Service("catalog"),
    Service("stock"),
    Service("assets"),
    Service("replenishment"),
    Service("notifier"),
)
