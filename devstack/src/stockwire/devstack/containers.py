"""The containers test backend: Apache Kafka and PostgreSQL in Docker, through testcontainers.

Chosen with STOCKWIRE_TEST_BACKEND=containers, to run the suite against the brokers
production uses rather than Tansu. testcontainers is a development dependency, so it is
imported only here and only when this backend is chosen.
"""

import unittest
from collections.abc import Iterator
from contextlib import contextmanager

KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
"""Apache Kafka as Confluent packages it: the image testcontainers' KafkaContainer drives."""
POSTGRES_IMAGE = "postgres:16-alpine"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


@contextmanager
def container_servers() -> Iterator[tuple[str, str]]:
    """Start Kafka (KRaft mode) and PostgreSQL; their bootstrap servers and server URL.

    Raises unittest.SkipTest, which pytest reports as a skip, when no Docker engine answers.
    """
    require_docker()
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer

    kafka = KafkaContainer(KAFKA_IMAGE).with_kraft()
    postgres = PostgresContainer(
        POSTGRES_IMAGE, username="postgres", password="stockwire", dbname="postgres", driver=None
    )
    with kafka, postgres:
        yield kafka.get_bootstrap_server(), postgres.get_connection_url()


def require_docker() -> None:
    from testcontainers.core.docker_client import DockerClient, get_docker_host

    where = get_docker_host() or DEFAULT_DOCKER_HOST
    try:
        DockerClient().client.ping()
    except Exception as error:  # docker-py raises a different type for each way of failing
        raise unittest.SkipTest(
            f"STOCKWIRE_TEST_BACKEND=containers needs a Docker engine; none answers at "
            f"{where} ({error})"
        ) from error
