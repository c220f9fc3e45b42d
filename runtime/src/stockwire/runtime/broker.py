"""The one way services get a Kafka broker: FastStream on aiokafka, with telemetry."""

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.trace import TracerProvider
from prometheus_client import REGISTRY, CollectorRegistry

from stockwire.runtime.settings import Settings


def create_broker(
    settings: Settings,
    service: str,
    *,
    tracer_provider: TracerProvider | None = None,
    registry: CollectorRegistry = REGISTRY,
) -> KafkaBroker:
    """A broker that publishes with acks=all and traces and counts every message."""
    return KafkaBroker(
        settings.bootstrap_servers,
        client_id=f"stockwire-{service}",
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        middlewares=(
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=registry, app_name=f"stockwire-{service}"),
        ),
    )
