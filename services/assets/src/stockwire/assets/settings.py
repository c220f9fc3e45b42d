"""Assets' own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from decimal import Decimal

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
    assets_reliability_interval_s: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description="How often reliability figures and failure spikes are computed (and "
        "once at start); one instance at a time computes.",
    )
    assets_reliability_confidence: Decimal = Field(
        default=Decimal("0.9"),
        gt=0,
        lt=1,
        decimal_places=4,
        description="Two-sided confidence of the MTBF interval.",
    )
    assets_reliability_change_ratio: Decimal = Field(
        default=Decimal("0.01"),
        ge=0,
        le=1,
        description="A key's figures are published again when its installed base, failures "
        "or confidence change, or its operating time grew by more than this share.",
    )
    assets_spike_recent_days: int = Field(
        default=7, ge=1, le=90, description="The recent window a failure spike is looked for in."
    )
    assets_spike_baseline_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="The baseline window, just before the recent one, a model's usual "
        "failure rate is measured over.",
    )
    assets_spike_alpha: float = Field(
        default=0.001,
        gt=0,
        lt=0.5,
        description="A spike is P(X >= observed | expected) below this.",
    )
    assets_spike_min_failures: int = Field(
        default=3,
        ge=1,
        le=1_000_000,
        description="Fewest failures in the recent window that can be a spike.",
    )

    def public_url(self) -> str:
        return self.assets_public_url or f"http://{self.http_host}:{self.assets_port}"
