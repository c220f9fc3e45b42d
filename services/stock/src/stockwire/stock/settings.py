"""The stock service's own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from decimal import Decimal

from pydantic import Field, SecretStr

from stockwire.contracts.vocabulary import LocationKind
from stockwire.runtime.settings import Settings


class StockSettings(Settings):
    stock_allow_negative_kinds: frozenset[LocationKind] = Field(
        default=frozenset(),
        description=(
            "Location kinds where a movement may take stock below zero (still with an alert); "
            'JSON list, e.g. ["technician_van"] where vans backflush consumption.'
        ),
    )
    stock_count_variance_threshold: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        description="A count line whose |variance| / expected exceeds this raises an alert.",
    )
    stock_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Most events applied in one transaction."
    )
    stock_consumer_members: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Consumer group members per stock-moving topic in one process. Each "
        "applies its own partitions in order, so one batch is applied while another waits "
        "on PostgreSQL.",
    )
    stock_public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s?#]+$",
        max_length=1024,
        description="Stock's HTTP API as people reach it, the start of the link every stock "
        "alert carries (e.g. https://stock.example.net); unset, "
        "http://<STOCKWIRE_HTTP_HOST>:<STOCKWIRE_STOCK_PORT>.",
    )
    fsm_webhook_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Shared secret for the HMAC-SHA256 signature on the FSM webhook; unset "
        "disables the webhook (it answers 503).",
    )

    def public_url(self) -> str:
        """The base of stock's alert links, without a trailing slash."""
        return (self.stock_public_url or f"http://{self.http_host}:{self.stock_port}").rstrip("/")
