"""The state directory of one ``make up`` (``.stockwire`` by default) and what lives in it."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StateDir:
    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def sockets(self) -> Path:
        return self.root / "run"

    @property
    def lock(self) -> Path:
        return self.root / "up.lock"

    @property
    def token(self) -> Path:
        return self.root / "dev-token"

    @property
    def fsm_webhook_secret(self) -> Path:
        return self.root / "fsm-webhook-secret"

    @property
    def monitoring_webhook_secret(self) -> Path:
        return self.root / "monitoring-webhook-secret"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def create(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
