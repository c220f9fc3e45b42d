"""Operate a service's outbox from the command line.

    python -m stockwire.runtime.outboxctl status catalog
    python -m stockwire.runtime.outboxctl replay catalog --since 2026-11-01T00:00:00Z
    python -m stockwire.runtime.outboxctl relay catalog
    python -m stockwire.runtime.outboxctl purge catalog

``replay`` re-emits sent rows still inside the retention window (after a broker loss, or
to rebuild a downstream read model); the relay publishes them again in their original
order, and consumers' inboxes make the repeat harmless for events they still remember:
those applied within their ``STOCKWIRE_INBOX_RETENTION_HOURS``, the replay horizon. A
consumer whose inbox retention is shorter than this service's outbox retention would
apply an older replayed event twice (services refuse to start so configured, but each
checks its own settings only). ``purge`` deletes sent rows older than the retention
window, as every service does every ``STOCKWIRE_RETENTION_PURGE_INTERVAL_S``, with the
same code and the same lock: it does nothing while another instance is purging.
"""

import argparse
import asyncio
import contextlib
from datetime import datetime

from stockwire.runtime.db import connect
from stockwire.runtime.relay import OutboxRelay
from stockwire.runtime.retention import purge
from stockwire.runtime.settings import Settings
from stockwire.runtime.tables import OUTBOX_CHANNEL

STATUS = """
SELECT count(*) FILTER (WHERE sent_at IS NULL) AS unsent,
       count(*) FILTER (WHERE sent_at IS NOT NULL) AS kept,
       min(created_at) FILTER (WHERE sent_at IS NULL) AS oldest_unsent,
       min(created_at) AS oldest_kept
FROM outbox
"""

REPLAY = """
UPDATE outbox SET sent_at = NULL
WHERE sent_at IS NOT NULL AND created_at >= $1 AND ($2::timestamptz IS NULL OR created_at < $2)
  AND ($3::text IS NULL OR topic = $3)
"""


async def status(settings: Settings, service: str) -> str:
    conn = await connect(settings, settings.service_url(service))
    try:
        row = await conn.fetchrow(STATUS)
    finally:
        await conn.close()
    assert row is not None, "an aggregate query returns one row"
    return (
        f"{service}: {row['unsent']} unsent (oldest {row['oldest_unsent'] or '-'}), "
        f"{row['kept']} sent rows kept (oldest {row['oldest_kept'] or '-'})"
    )


async def replay(
    settings: Settings,
    service: str,
    since: datetime,
    until: datetime | None = None,
    topic: str | None = None,
) -> int:
    """Mark sent rows created in [since, until) unsent again; returns how many."""
    conn = await connect(settings, settings.service_url(service))
    try:
        result = await conn.execute(REPLAY, since, until, topic)
        await conn.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
    finally:
        await conn.close()
    return int(result.split()[-1])


async def run_relay(settings: Settings, service: str) -> None:
    relay = OutboxRelay(settings, service)
    await relay.start()
    try:
        await relay.run()
    finally:
        await relay.stop()


def _timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a time zone, e.g. {value}Z")
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description="Operate a Stockwire service's outbox.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("status", "count unsent and kept rows"),
        ("relay", "run a relay in the foreground until Ctrl-C"),
        ("purge", "delete sent rows older than the retention window"),
        ("replay", "re-emit sent rows still kept"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("service", help="service name, e.g. catalog")
        if name == "replay":
            command.add_argument("--since", type=_timestamp, required=True)
            command.add_argument("--until", type=_timestamp)
            command.add_argument("--topic", help="only this topic")
    args = parser.parse_args()
    settings = Settings()
    if args.command == "status":
        print(asyncio.run(status(settings, args.service)))
    elif args.command == "relay":
        print(f"{args.service}: relaying outbox to {settings.kafka_bootstrap_servers}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_relay(settings, args.service))
    elif args.command == "purge":
        purged = asyncio.run(purge(settings, args.service, "outbox"))
        if purged is None:
            print(f"{args.service}: another instance is purging the outbox; nothing done")
        else:
            print(f"{args.service}: purged {purged} sent rows")
    else:
        count = asyncio.run(replay(settings, args.service, args.since, args.until, args.topic))
        print(f"{args.service}: {count} rows queued for re-emission")


if __name__ == "__main__":
    main()
