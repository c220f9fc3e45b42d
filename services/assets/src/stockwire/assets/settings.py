"""Assets' own settings, on top of the shared ones (same STOCKWIRE_ prefix)."""

from datetime import timedelta
from decimal import Decimal

from pydantic import Field, SecretStr

from stockwire.assets.domain.monitoring import DEFAULT_KIND_BY_SEVERITY, LabelMapping, ReportKind
from stockwire.contracts.vocabulary import Severity
from stockwire.runtime.settings import Settings

_DEFAULT_LABELS = LabelMapping()

Labels = list[str]


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
        description="Shared secret of the monitoring webhooks (Alertmanager, Zabbix, "
        "LibreNMS): sent as Authorization: Bearer <secret>, or as the key of an "
        "X-Stockwire-Signature; unset turns them off (they answer 503).",
    )
    assets_monitoring_serial_labels: Labels = Field(
        default_factory=lambda: list(_DEFAULT_LABELS.serial),
        min_length=1,
        description="JSON list: the labels (tags, LibreNMS device fields) that may hold a "
        "device's serial, tried in order, in any case.",
    )
    assets_monitoring_mac_labels: Labels = Field(
        default_factory=lambda: list(_DEFAULT_LABELS.mac),
        description="JSON list: the labels that may hold a device's MAC address.",
    )
    assets_monitoring_site_labels: Labels = Field(
        default_factory=lambda: list(_DEFAULT_LABELS.site),
        description="JSON list: the labels that may hold the location code of the site "
        "where monitoring sees the device.",
    )
    assets_monitoring_firmware_labels: Labels = Field(
        default_factory=lambda: list(_DEFAULT_LABELS.firmware),
        description="JSON list: the labels that may hold the firmware version the device runs.",
    )
    assets_monitoring_kind_by_alert: dict[str, ReportKind] = Field(
        default_factory=dict,
        description="JSON object: alert name -> failed, degraded, recovered or seen, "
        "whatever the alert's severity.",
    )
    assets_monitoring_kind_by_severity: dict[Severity, ReportKind] = Field(
        default_factory=lambda: dict(DEFAULT_KIND_BY_SEVERITY),
        description="JSON object: severity -> the kind of an alert no name maps; "
        "severities left out keep their default.",
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

    assets_parked_alert_after_s: float = Field(
        default=900.0,
        ge=1,
        description="A fact about a serial assets does not know (an install that overtook "
        "its receipt) waits this long for the serial's first fact; then the sweep refuses "
        "it as unknown_serial, published and alerted.",
    )

    @property
    def assets_parked_alert_after(self) -> timedelta:
        return timedelta(seconds=self.assets_parked_alert_after_s)

    def public_url(self) -> str:
        return self.assets_public_url or f"http://{self.http_host}:{self.assets_port}"

    def monitoring_mapping(self) -> LabelMapping:
        """Where monitoring alerts hold a device's identity, and which kind each is."""
        return LabelMapping(
            serial=tuple(self.assets_monitoring_serial_labels),
            mac=tuple(self.assets_monitoring_mac_labels),
            site=tuple(self.assets_monitoring_site_labels),
            firmware=tuple(self.assets_monitoring_firmware_labels),
            kind_by_alert=dict(self.assets_monitoring_kind_by_alert),
            kind_by_severity={
                **DEFAULT_KIND_BY_SEVERITY,
                **self.assets_monitoring_kind_by_severity,
            },
        )
