"""notifier tables, outbox, inbox, catalog copy and Idempotency-Key answers

Revision ID: 0001
Revises:
Create Date: 2026-12-02 08:14:54.460819
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from stockwire.runtime import migration_steps as steps

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    steps.OUTBOX_AND_INBOX.upgrade(op)
    steps.OUTBOX_AS_JSON.upgrade(op)
    steps.CATALOG_COPY.upgrade(op)
    steps.CATALOG_COPY_WIDER.upgrade(op)
    steps.IDEMPOTENCY_KEYS.upgrade(op)
    steps.INBOX_RECEIVED_AT.upgrade(op)
    op.create_table(
        "acknowledgements",
        sa.Column("ack_id", sa.UUID(), nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("acknowledged_by", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("ack_id"),
    )
    op.create_index("acknowledgements_alert", "acknowledgements", ["dedup_key"], unique=False)
    op.create_table(
        "alert_groups",
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("rule_id", "group_key"),
    )
    op.create_index(
        "alert_groups_due",
        "alert_groups",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_table(
        "alerts",
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("trace", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("dedup_key"),
    )
    op.create_index(
        "alerts_due",
        "alerts",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_index("alerts_firing", "alerts", ["status", "kind"], unique=False)
    op.create_table(
        "channel_windows",
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_index(
        "channel_windows_due",
        "channel_windows",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_table(
        "channels",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("url_env", sa.Text(), nullable=True),
        sa.Column("url_file", sa.Text(), nullable=True),
        sa.Column("recipients", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("rate_limit_messages", sa.Integer(), nullable=True),
        sa.Column("rate_limit_per_s", sa.Integer(), nullable=True),
        sa.Column("fallback", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("recipients", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("dedup_keys", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=True),
        sa.Column("thread_key", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("markdown", sa.Text(), nullable=True),
        sa.Column("tone", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_ref", sa.Text(), nullable=True),
        sa.Column("trace", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    op.create_index("deliveries_created", "deliveries", ["created_at"], unique=False)
    op.create_index(
        "deliveries_pending",
        "deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "digests",
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("rule_id", "kind"),
    )
    op.create_index(
        "digests_due",
        "digests",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_table(
        "inhibitions",
        sa.Column("inhibition_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("inhibition_id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "rules",
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("rule_id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "silences",
        sa.Column("silence_id", sa.UUID(), nullable=False),
        sa.Column("matchers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("silence_id"),
    )
    op.create_index("silences_ends_at", "silences", ["ends_at"], unique=False)
    op.create_table(
        "threads",
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("message_ref", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("dedup_key", "channel"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.delivery_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("delivery_id", "attempt"),
    )


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("threads")
    op.drop_index("silences_ends_at", table_name="silences")
    op.drop_table("silences")
    op.drop_table("rules")
    op.drop_table("inhibitions")
    op.drop_index(
        "digests_due", table_name="digests", postgresql_where=sa.text("due_at IS NOT NULL")
    )
    op.drop_table("digests")
    op.drop_index(
        "deliveries_pending",
        table_name="deliveries",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("deliveries_created", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("channels")
    op.drop_index(
        "channel_windows_due",
        table_name="channel_windows",
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.drop_table("channel_windows")
    op.drop_index("alerts_firing", table_name="alerts")
    op.drop_index("alerts_due", table_name="alerts", postgresql_where=sa.text("due_at IS NOT NULL"))
    op.drop_table("alerts")
    op.drop_index(
        "alert_groups_due",
        table_name="alert_groups",
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.drop_table("alert_groups")
    op.drop_index("acknowledgements_alert", table_name="acknowledgements")
    op.drop_table("acknowledgements")
    steps.INBOX_RECEIVED_AT.downgrade(op)
    steps.IDEMPOTENCY_KEYS.downgrade(op)
    steps.CATALOG_COPY_WIDER.downgrade(op)
    steps.CATALOG_COPY.downgrade(op)
    steps.OUTBOX_AS_JSON.downgrade(op)
    steps.OUTBOX_AND_INBOX.downgrade(op)
