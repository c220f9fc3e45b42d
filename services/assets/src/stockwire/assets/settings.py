"""Assets' own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from pydantic import Field, SecretStr

from stockwire.runtime.settings import Settings


class AssetsSettings(Settings):
    assets_public_url: str = Field(
        default="",
        pattern=r"^(https?://\S+)?$",
        description="Assets' address as people reach it, for the links in alerts; empty "
        "means http://<http_host>:<assets_port>.",
    )
    assets_batch_size: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Most events one consumer transaction applies.",
    )
    assets_monitoring_webhook_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Shared secret the monitoring systems' webhook calls are checked with; "
        "unset turns the monitoring webhooks off.",
    )

    def public_url(self) -> str:
        return self.assets_public_url or f"http://{self.http_host}:{self.assets_port}"
