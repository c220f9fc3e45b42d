"""Every registered topic and its dead-letter topic, created before any service starts.

Tansu creates no topic by itself. The work is the runtime's ``create_topics``, the same
call deployments use; this module only fits it to the local platform.
"""

from stockwire.devstack.errors import StackError
from stockwire.runtime import create_topics as runtime_topics
from stockwire.runtime.settings import Settings


async def create_topics(bootstrap: str, replication: int = 1) -> list[str]:
    """Create the missing topics on ``bootstrap``; the names created. Safe to run again."""
    settings = Settings(kafka_bootstrap_servers=bootstrap)
    try:
        return await runtime_topics.create_topics(settings, replication_factor=replication)
    except runtime_topics.TopicCreationError as error:
        raise StackError(f"{error} (on {bootstrap})") from error
