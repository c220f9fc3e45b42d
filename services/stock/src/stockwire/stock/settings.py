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
    stock_request_retention_hours: float = Field(
        default=24.0,
        ge=1,
        description="How long an HTTP command's answer is kept for its Idempotency-Key. "
        "Clients retry within minutes; a day also covers a script rerun the next morning. "
        "After it, the same key is a new request, so never shorter than clients retry.",
    )
    stock_request_purge_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="How often expired Idempotency-Key answers are purged (and once at start).",
    )
    fsm_webhook_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Shared secret for the HMAC-SHA256 signature on the FSM webhook; unset "
        "disables the webhook (it answers 503).",
    )
