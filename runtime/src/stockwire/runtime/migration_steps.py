"""Migration steps for the tables the runtime owns in every service's database: the outbox
and inbox, the catalog read copy and the Idempotency-Key answers.

Each service's Alembic migrations call these steps instead of copying their DDL:

    from stockwire.runtime import migration_steps as steps

    def upgrade() -> None:
        steps.OUTBOX_AND_INBOX.upgrade(op)

A step is frozen once released: migrations already applied somewhere must replay to the
same schema, so a change to a runtime table is a new step (``OUTBOX_AS_JSON`` after
``OUTBOX_AND_INBOX``), which every service calls from a new migration of its own. A new
service calls every step of the tables it keeps, in the order of :data:`ALL`.
``tests/integration/test_service_guards.py`` checks that each service's migrations
produce exactly the tables its code declares.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

Operations = Any
"""``alembic.op`` (its proxy has no usable static type)."""


@dataclass(frozen=True)
class Step:
    upgrade: Callable[[Operations], None]
    downgrade: Callable[[Operations], None]


def _created_at(name: str = "created_at") -> sa.Column[Any]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _create_outbox_and_inbox(op: Operations) -> None:
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        _created_at("received_at"),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _created_at(),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        "outbox_sent_at", "outbox", ["sent_at"], postgresql_where=sa.text("sent_at IS NOT NULL")
    )
    op.create_index("outbox_unsent", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL"))


def _drop_outbox_and_inbox(op: Operations) -> None:
    op.drop_table("outbox")
    op.drop_table("inbox")


OUTBOX_AND_INBOX = Step(_create_outbox_and_inbox, _drop_outbox_and_inbox)
"""The transactional outbox and the consumers' inbox."""


def _outbox_as(type_name: str) -> Callable[[Operations], None]:
    def alter(op: Operations) -> None:
        op.execute(
            f"ALTER TABLE outbox ALTER COLUMN envelope TYPE {type_name} "
            f"USING envelope::{type_name}, "
            f"ALTER COLUMN headers TYPE {type_name} USING headers::{type_name}"
        )

    return alter


OUTBOX_AS_JSON = Step(_outbox_as("json"), _outbox_as("jsonb"))
"""Envelopes and headers kept as the text the writer produced (``json``), which the relay
publishes as is, instead of ``jsonb``, which PostgreSQL parses on the way in and
re-serializes, with its keys reordered, on the way out."""


def _create_catalog_copy(op: Operations) -> None:
    op.create_table(
        "catalog_items",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("tracking_mode", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _created_at("updated_at"),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "catalog_locations",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("parent_code", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _created_at("updated_at"),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("catalog_locations_parent", "catalog_locations", ["parent_code"])


def _drop_catalog_copy(op: Operations) -> None:
    op.drop_table("catalog_locations")
    op.drop_table("catalog_items")


CATALOG_COPY = Step(_create_catalog_copy, _drop_catalog_copy)
"""The catalog read copy as stock first kept it: what its rules needed."""

_WIDER_ITEMS = (
    ("name", sa.Text),
    ("category", sa.Text),
    ("criticality", sa.Text),
    ("default_lead_time_days", sa.Integer),
    ("end_of_sale", sa.Date),
    ("end_of_life", sa.Date),
)


def _widen_catalog_copy(op: Operations) -> None:
    for name, kind in _WIDER_ITEMS:
        op.add_column("catalog_items", sa.Column(name, kind(), nullable=True))
    op.add_column("catalog_locations", sa.Column("name", sa.Text(), nullable=True))


def _narrow_catalog_copy(op: Operations) -> None:
    op.drop_column("catalog_locations", "name")
    for name, _ in reversed(_WIDER_ITEMS):
        op.drop_column("catalog_items", name)


CATALOG_COPY_WIDER = Step(_widen_catalog_copy, _narrow_catalog_copy)
"""What assets, replenishment and the notifier need too: names, category, criticality,
lead time, end of sale and end of life. Null in rows copied before, until the catalog next
changes them."""


def _create_idempotency_keys(op: Operations) -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("client", "key"),
    )
    op.create_index("idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def _drop_idempotency_keys(op: Operations) -> None:
    op.drop_table("idempotency_keys")


IDEMPOTENCY_KEYS = Step(_create_idempotency_keys, _drop_idempotency_keys)
"""HTTP commands' answers by client (API token) and Idempotency-Key."""


def _index_inbox_by_age(op: Operations) -> None:
    op.create_index("inbox_received_at", "inbox", ["received_at"])


def _drop_inbox_age_index(op: Operations) -> None:
    op.drop_index("inbox_received_at", table_name="inbox")


INBOX_RECEIVED_AT = Step(_index_inbox_by_age, _drop_inbox_age_index)
"""Lets the inbox's retention purge find expired rows by age, a chunk at a time, instead
of walking the whole table. It is built in the migration's transaction, so it holds the
consumers' inserts while it builds: upgrade a large inbox in a quiet hour."""


def _add_copy_warranty(op: Operations) -> None:
    op.add_column("catalog_items", sa.Column("warranty_months", sa.Integer(), nullable=True))


def _drop_copy_warranty(op: Operations) -> None:
    op.drop_column("catalog_items", "warranty_months")


CATALOG_COPY_WARRANTY = Step(_add_copy_warranty, _drop_copy_warranty)
"""The item's warranty in months, which assets counts from each device's receipt. Null
where the catalog does not know it, and in rows copied before, until the catalog next
changes them."""


ALL: tuple[Step, ...] = (
    OUTBOX_AND_INBOX,
    OUTBOX_AS_JSON,
    CATALOG_COPY,
    CATALOG_COPY_WIDER,
    IDEMPOTENCY_KEYS,
    INBOX_RECEIVED_AT,
    CATALOG_COPY_WARRANTY,
)
"""Every step, in release order."""
