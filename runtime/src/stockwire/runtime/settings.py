"""Settings from the environment, all prefixed ``STOCKWIRE_``.

``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` are also read without the prefix, the
names most platforms already export. ``DATABASE_URL`` names a PostgreSQL *server*; each
service keeps its own database on it, called ``<database_prefix><service>``.
"""

from functools import cached_property
from typing import Self

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

SERVICE_PORTS: dict[str, int] = {
    "catalog": 8101,
    "stock": 8102,
    "assets": 8103,
    "replenishment": 8104,
    "notifier": 8105,
}


class ApiToken(BaseModel):
    """One API token, stored as the SHA-256 hex digest of the secret, never the secret."""

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: frozenset[str]


class Settings(BaseSettings):
    # A rejected value is not echoed in the error: it may be a secret (a short webhook
    # secret, a database URL with its password).
    model_config = SettingsConfigDict(
        validate_by_name=True, env_prefix="STOCKWIRE_", extra="ignore", hide_input_in_errors=True
    )

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    kafka_idempotence: bool = Field(
        default=False,
        description="Idempotent producer; Tansu rejects it, Apache Kafka and Redpanda want it on.",
    )
    topic_replication: int = Field(
        default=1, ge=1, description="Replication factor for topics this project creates."
    )
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://postgres@127.0.0.1:5432/postgres"),
        validation_alias=AliasChoices("STOCKWIRE_DATABASE_URL", "DATABASE_URL"),
    )
    database_prefix: str = Field(default="stockwire_", pattern=r"^[a-z_][a-z0-9_]*$")
    database_pool_size: int = Field(default=10, ge=1)

    http_host: str = "127.0.0.1"
    http_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body a service reads (413 beyond it), checked before "
        "the body is parsed or the caller authenticated. Routes that take uploads have "
        "their own, larger cap.",
    )
    catalog_port: int = SERVICE_PORTS["catalog"]
    stock_port: int = SERVICE_PORTS["stock"]
    assets_port: int = SERVICE_PORTS["assets"]
    replenishment_port: int = SERVICE_PORTS["replenishment"]
    notifier_port: int = SERVICE_PORTS["notifier"]

    idempotency_retention_hours: float = Field(
        default=24.0,
        ge=1,
        description="How long an HTTP command's answer is kept for its Idempotency-Key. "
        "Clients retry within minutes; a day also covers a script rerun the next morning. "
        "After it, the same key is a new request, so never shorter than clients retry.",
    )
    idempotency_purge_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="How often expired Idempotency-Key answers are purged (and once at start).",
    )
    webhook_timestamp_tolerance_s: float = Field(
        default=300.0,
        gt=0,
        description="How far a signed webhook's X-Stockwire-Timestamp may be from our clock.",
    )
    webhook_require_timestamp: bool = Field(
        default=False,
        description="Refuse signed webhook calls without X-Stockwire-Timestamp, so no captured "
        "call can be replayed after the tolerance (a replayed event id is de-duplicated "
        "anyway).",
    )

    api_tokens: list[ApiToken] = Field(
        default_factory=list,
        description='JSON list: [{"name": ..., "sha256": <hex digest>, "scopes": [...]}]',
    )

    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_interval_s: float = Field(default=1.0, gt=0)
    outbox_retention_hours: float = Field(default=168.0, ge=0)

    consumer_group_prefix: str = Field(
        default="",
        description="Prepended to every consumer group id, so several deployments (or test "
        "runs) can share one Kafka cluster without taking each other's partitions.",
    )
    consumer_fetch_max_wait_ms: int = Field(
        default=50,
        ge=1,
        description="Longest a fetch waits at the broker for new records. Kafka answers as "
        "soon as records arrive; Tansu waits out the whole time, so its default of 500 ms "
        "was the largest part of an event's latency.",
    )
    consumer_batch_linger_ms: float = Field(
        default=20.0,
        ge=0,
        description="How long a batch consumer keeps fetching to fill a batch before it "
        "applies what it has: the latency it may add, for fewer and larger transactions.",
    )
    consumer_retry_initial_s: float = Field(default=0.2, gt=0)
    consumer_retry_max_s: float = Field(default=30.0, gt=0)
    consumer_max_handler_failures: int = Field(
        default=5,
        ge=1,
        description="Unexpected handler errors on one message before it is dead-lettered.",
    )

    # Fault tolerance, retention and metrics of the messaging runtime: how long a statement
    # may run, how the relay retries and when readiness reports it, how long outbox and
    # inbox rows are kept, and how often the runtime measures itself.
    database_statement_timeout_s: float = Field(
        default=30.0,
        ge=0,
        description="PostgreSQL statement_timeout of every connection the runtime opens "
        "(pool, relay, LISTEN, outboxctl); 0 turns it off.",
    )
    outbox_publish_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="How long the relay waits for the broker to acknowledge a batch (or to "
        "answer at all) before the round counts as failed and is retried.",
    )
    outbox_retry_initial_s: float = Field(default=0.5, gt=0)
    outbox_retry_max_s: float = Field(
        default=30.0,
        gt=0,
        description="The relay retries a failed round after outbox_retry_initial_s, "
        "doubling up to this.",
    )
    outbox_stalled_after_s: float = Field(
        default=60.0,
        gt=0,
        description="Readiness reports the relay once it has not published for this long "
        "while failing (or stuck in a round).",
    )
    outbox_metadata_max_age_s: float = Field(
        default=60.0,
        gt=0,
        description="The relay refreshes topic metadata (partition counts) at least this "
        "often, and at once after a failed round.",
    )
    outbox_backlog_interval_s: float = Field(
        default=15.0,
        gt=0,
        description="How often the relay measures the outbox backlog for its metrics.",
    )
    inbox_retention_hours: float = Field(
        default=336.0,
        gt=0,
        description="How long a consumer remembers an applied event: the replay horizon. "
        "Must be longer than outbox_retention_hours.",
    )
    retention_purge_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="How often expired outbox and inbox rows are purged (and once at start).",
    )
    retention_chunk_rows: int = Field(
        default=5000,
        ge=1,
        le=100_000,
        description="Rows a purge deletes (or, in the inbox, reads) per statement.",
    )
    readiness_cache_s: float = Field(
        default=1.0,
        ge=0,
        description="/readyz answers from a check at most this old, so a storm of probes "
        "costs one check per interval.",
    )

    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("STOCKWIRE_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _inbox_outlives_outbox(self) -> Self:
        """A replay re-emits outbox rows up to outbox_retention_hours old; a consumer that
        has already forgotten such an event would apply it twice."""
        if self.inbox_retention_hours <= self.outbox_retention_hours:
            raise ValueError(
                f"STOCKWIRE_INBOX_RETENTION_HOURS ({self.inbox_retention_hours:g}) must be "
                f"longer than STOCKWIRE_OUTBOX_RETENTION_HOURS "
                f"({self.outbox_retention_hours:g}): the inbox is the replay horizon, and an "
                "event replayed from an outbox row older than it would be applied twice"
            )
        return self

    def port_of(self, service: str) -> int:
        return int(getattr(self, f"{service}_port"))

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}{service}"

    def server_url(self) -> URL:
        """The server-level URL (the database named in DATABASE_URL), for admin work."""
        return make_url(self.database_url.get_secret_value()).set(drivername="postgresql+asyncpg")

    def service_url(self, service: str) -> URL:
        """The async SQLAlchemy URL of ``service``'s own database."""
        return self.server_url().set(database=self.database_name(service))

    @cached_property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]
