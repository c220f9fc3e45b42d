"""The notifier's own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from pydantic import Field, SecretStr, field_validator

from stockwire.notifier.channels import email_address
from stockwire.runtime.domain_errors import Invalid
from stockwire.runtime.settings import Settings


class NotifierSettings(Settings):
    notifier_public_url: str = Field(
        default="",
        pattern=r"^(https?://\S+)?$",
        description="The notifier's address as people's browsers reach it, for the "
        "acknowledge links in messages; empty means http://<http_host>:<notifier_port>.",
    )
    notifier_link_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Key that signs acknowledge links. Unset: messages carry no link (the "
        "API still acknowledges). Changing it invalidates the links already sent.",
    )
    notifier_link_ttl_hours: float = Field(
        default=72.0, gt=0, description="How long an acknowledge link in a message works."
    )

    notifier_channel_files_dir: str = Field(
        default="/etc/stockwire/channels",
        description="The only directory a channel's url_file may name (a mounted secret). "
        "Channels' url_env may only name variables starting with STOCKWIRE_CHANNEL_.",
    )
    notifier_smtp_host: str = Field(default="127.0.0.1", description="SMTP server for email.")
    notifier_smtp_port: int = Field(default=25, ge=1, le=65535)
    notifier_smtp_username: str | None = None
    notifier_smtp_password: SecretStr | None = None
    notifier_smtp_starttls: bool = Field(
        default=False, description="Upgrade the connection with STARTTLS (port 587)."
    )
    notifier_smtp_tls: bool = Field(
        default=False, description="Connect over implicit TLS (port 465)."
    )
    notifier_smtp_sender: str = Field(
        default="stockwire@localhost.localdomain",
        description="The From address of every email (a dotted domain: a bare "
        "user@localhost is refused as a sender, as it is as a recipient).",
    )

    notifier_send_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest one delivery attempt may take."
    )
    notifier_delivery_attempts: int = Field(
        default=6,
        ge=1,
        le=50,
        description="Attempts per delivery before it becomes a dead letter and its "
        "channel's fallback is told.",
    )
    notifier_retry_initial_s: float = Field(
        default=2.0, gt=0, description="Wait before the first retry; doubled each attempt."
    )
    notifier_retry_max_s: float = Field(
        default=300.0, gt=0, description="Longest wait between two attempts."
    )
    notifier_delivery_lease_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a claimed delivery is left to its sender. A delivery whose "
        "sender died (a kill mid-send) is sent again after it; keep it above the send "
        "timeout.",
    )
    notifier_delivery_concurrency: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Deliveries sent at once by one instance. Chat sends also pass through "
        "Apprise's own thread pool, min(32, CPUs + 4) threads per process, which bounds them "
        "further on small machines.",
    )
    notifier_fallback_channel: str | None = Field(
        default=None,
        description="Channel told about a dead delivery when its own channel names no fallback.",
    )
    notifier_tick_s: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="How often due groups, digests, escalations and held messages are "
        "looked at (and pending deliveries, besides being woken at once).",
    )
    notifier_flap_window_s: float = Field(
        default=900.0,
        gt=0,
        description="An alert that fires and clears more than notifier_flap_max_changes "
        "times within this window is flapping: held until it stays put for the window.",
    )
    notifier_flap_max_changes: int = Field(default=4, ge=2)
    notifier_log_retention_days: float = Field(
        default=30.0,
        ge=1,
        description="How long sent and dead deliveries (with their attempts) and "
        "acknowledgements are kept; purged hourly beside the service.",
    )
    notifier_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Most alerts applied in one transaction."
    )

    @field_validator("notifier_smtp_sender")
    @classmethod
    def _sender_is_an_address(cls, value: str) -> str:
        """A sender the SMTP client would refuse fails at start, not at the first email."""
        try:
            email_address(value, "notifier_smtp_sender")
        except Invalid as error:
            raise ValueError(error.reason) from error
        return value
