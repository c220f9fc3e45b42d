"""Assets' own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from pydantic import Field

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
    assets_sweep_interval_s: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description="Seconds between sweeps for alert conditions (warranty, end of life, "
        "firmware, reconciliation); the first runs at start.",
    )
    assets_warranty_alert_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="An installed device's warranty ending within this many days raises "
        "warranty_expiring.",
    )
    assets_end_of_life_alert_days: int = Field(
        default=180,
        ge=0,
        le=3650,
        description="A model's end of sale or end of life within this many days raises "
        "end_of_sale_approaching / end_of_life_approaching while any is installed.",
    )
    assets_ghost_after_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="The reconciliation window: sightings older than this say nothing, and "
        "a device installed longer than this the network has not seen in it is a ghost.",
    )

    def public_url(self) -> str:
        return self.assets_public_url or f"http://{self.http_host}:{self.assets_port}"
