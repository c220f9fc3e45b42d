"""Prometheus metrics of the messaging runtime, registered once per process (on import).

Every service serves them at ``/metrics``; ``docs/operations.md`` says what each tells an
operator and suggests an alert. Labels stay bounded: service and consumer names, topics
(from the registry), partitions, a fixed set of reasons, and exception class names, never
an event id, a key or an error's text.
"""

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds; up to a minute, since retries during an outage count too."""

BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)

OUTBOX_PUBLISHED = Counter("stockwire_outbox_published_total", "Outbox rows published", ["service"])

OUTBOX_PUBLISH_SECONDS = Histogram(
    "stockwire_outbox_publish_duration_seconds",
    "From claiming a batch of outbox rows to the broker acknowledging all of them",
    ["service"],
    buckets=LATENCY_BUCKETS,
)

OUTBOX_UNSENT = Gauge(
    "stockwire_outbox_unsent_rows", "Outbox rows not yet published (the backlog)", ["service"]
)

OUTBOX_OLDEST_UNSENT_AGE = Gauge(
    "stockwire_outbox_oldest_unsent_age_seconds",
    "Age of the oldest outbox row not yet published; 0 when there is none",
    ["service"],
)

OUTBOX_RELAY_FAILURES = Counter(
    "stockwire_outbox_relay_failures_total",
    "Relay rounds that failed and were retried, by exception class",
    ["service", "error"],
)

RETENTION_PURGED = Counter(
    "stockwire_retention_purged_rows_total",
    "Rows purged from the messaging tables once past their retention",
    ["service", "table"],
)

CONSUMER_LAG = Gauge(
    "stockwire_consumer_lag",
    "Records between the consumer's position and the partition's high watermark, as of "
    "the consumer's last fetch",
    ["consumer", "topic", "partition"],
)

CONSUMER_BATCH_SIZE = Histogram(
    "stockwire_consumer_batch_size",
    "Records a consumer applied or dead-lettered per poll",
    ["consumer"],
    buckets=BATCH_BUCKETS,
)

CONSUMER_APPLY_SECONDS = Histogram(
    "stockwire_consumer_apply_duration_seconds",
    "From a poll's records in hand to their offsets committed: transactions, retries, dead letters",
    ["consumer"],
    buckets=LATENCY_BUCKETS,
)

CONSUMER_RETRIES = Counter(
    "stockwire_consumer_retries_total",
    "Failed attempts to apply events that were retried: transient (the database) or "
    "failure (the handler raised)",
    ["consumer", "kind"],
)

DEAD_LETTERS = Counter(
    "stockwire_dead_letters_total",
    "Messages published to a dead-letter topic, by source topic and reason",
    ["consumer", "topic", "reason"],
)
