"""Create every registry topic, and its dead-letter topic, on the configured broker.

Idempotent: a topic that already exists is left as it is. Tansu and some managed Kafka
offerings do not auto-create topics, and auto-created topics would get the broker's
default partitions and cleanup policy instead of the registry's.

    python -m stockwire.runtime.create_topics
"""

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from stockwire.contracts.topics import ALL_TOPICS, DLQ_PARTITIONS, TopicSpec
from stockwire.runtime.settings import Settings

TOPIC_ALREADY_EXISTS = 36


class TopicCreationError(RuntimeError):
    pass


def new_topics(specs: Iterable[TopicSpec], replication_factor: int) -> list[NewTopic]:
    topics = []
    for spec in specs:
        topics.append(
            NewTopic(
                spec.name, spec.partitions, replication_factor, topic_configs=spec.topic_configs()
            )
        )
        topics.append(NewTopic(spec.dlq, DLQ_PARTITIONS, replication_factor))
    return topics


async def create_topics(
    settings: Settings, specs: Iterable[TopicSpec] = ALL_TOPICS, replication_factor: int = 1
) -> list[str]:
    """Create the topics that are missing; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        # aiokafka types the answer as its base Response; a CreateTopicsResponse it is.
        response: Any = await admin.create_topics(new_topics(specs, replication_factor))
    finally:
        await admin.close()
    created = []
    failures = []
    for name, code, message in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code != TOPIC_ALREADY_EXISTS:
            failures.append(f"{name}: error {code} {message or ''}".strip())
    if failures:
        raise TopicCreationError("could not create topics: " + "; ".join(failures))
    return created


def main() -> None:
    settings = Settings()
    print(f"creating topics on {settings.kafka_bootstrap_servers} ...", flush=True)
    created = asyncio.run(create_topics(settings, replication_factor=settings.topic_replication))
    total = 2 * len(ALL_TOPICS)
    print(f"{len(created)} created, {total - len(created)} already there")


if __name__ == "__main__":
    main()
