"""The outbox and inbox tables every service keeps in its own database.

A service declares them on its own MetaData (so its Alembic history owns them) by calling
:func:`define_messaging_tables`; runtime code reaches them through the returned handles.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON, UUID

OUTBOX_CHANNEL = "stockwire_outbox"
"""The LISTEN/NOTIFY channel the outbox writer signals and the relay waits on."""

OUTBOX_SHARDS = 16
"""Outbox rows are spread over shards by key; one relay at a time publishes a shard."""


@dataclass(frozen=True)
class MessagingTables:
    outbox: sa.Table
    inbox: sa.Table


def define_messaging_tables(metadata: sa.MetaData) -> MessagingTables:
    """The outbox keeps each envelope as ``json`` (the text as written, checked to be JSON),
    so the relay publishes the writer's bytes without PostgreSQL parsing and re-serializing
    every row as ``jsonb`` would."""
    outbox = sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("shard", sa.SmallInteger, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("envelope", JSON, nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index("outbox_unsent", "id", postgresql_where=sa.text("sent_at IS NULL")),
        sa.Index("outbox_sent_at", "sent_at", postgresql_where=sa.text("sent_at IS NOT NULL")),
    )
    inbox = sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Index("inbox_received_at", "received_at"),
    )
    return MessagingTables(outbox=outbox, inbox=inbox)
