"""replenishment tables, outbox, inbox, catalog copy and Idempotency-Key answers

Revision ID: 0001
Revises:
Create Date: 2026-12-02 14:20:00
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
    steps.CATALOG_COPY_WARRANTY.upgrade(op)
    op.create_table(
        "demand_daily",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "quantity", sa.Numeric(precision=15, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "lost_quantity", sa.Numeric(precision=15, scale=3), server_default="0", nullable=False
        ),
        sa.PrimaryKeyConstraint("sku", "location", "day"),
    )
    op.create_table(
        "forecasts",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("demand_class", sa.Text(), nullable=False),
        sa.Column("mean_per_day", sa.Float(), nullable=False),
        sa.Column("distribution", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("accuracy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("history_days", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location"),
    )
    op.create_table(
        "open_alerts",
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("suggestion_id", sa.Uuid(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dedup_key"),
    )
    op.create_index("open_alerts_kind", "open_alerts", ["kind"], unique=False)
    op.create_table(
        "plans",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("location_kind", sa.Text(), nullable=False),
        sa.Column("discrete", sa.Boolean(), nullable=False),
        sa.Column("reorder_point", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("order_up_to", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("available", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("inventory_position", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("excess", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("daily_demand_mean", sa.Float(), nullable=False),
        sa.Column("dominant_term", sa.Text(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location"),
    )
    op.create_index("plans_region", "plans", ["sku", "region"], unique=False)
    op.create_table(
        "policies",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("min_quantity", sa.Numeric(precision=15, scale=3), nullable=True),
        sa.Column("max_quantity", sa.Numeric(precision=15, scale=3), nullable=True),
        sa.Column("reorder_point", sa.Numeric(precision=15, scale=3), nullable=True),
        sa.Column("order_up_to", sa.Numeric(precision=15, scale=3), nullable=True),
        sa.Column("service_level", sa.Float(), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("review_period_days", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location"),
    )
    op.create_table(
        "positions",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("on_hand", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("reserved", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("available", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("in_transit_in", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("in_transit_out", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location"),
    )
    op.create_table(
        "reliability",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("installed_base", sa.Integer(), nullable=False),
        sa.Column("failures_per_device_year", sa.Float(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "region"),
    )
    op.create_table(
        "suggestions",
        sa.Column("suggestion_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("from_location", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=15, scale=3), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("purchase_request_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("suggestion_id"),
    )
    op.create_index(
        "suggestions_awaiting_receipt",
        "suggestions",
        ["purchase_request_id"],
        unique=False,
        postgresql_where=sa.text("purchase_request_id IS NOT NULL AND received_at IS NULL"),
    )
    op.create_index(
        "suggestions_on_order",
        "suggestions",
        ["sku", "location"],
        unique=False,
        postgresql_where=sa.text("status = 'accepted' AND received_at IS NULL"),
    )
    op.create_index(
        "suggestions_one_open",
        "suggestions",
        ["kind", "sku", "location"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("suggestions_status_made", "suggestions", ["status", "made_at"], unique=False)


def downgrade() -> None:
    op.drop_index("suggestions_status_made", table_name="suggestions")
    op.drop_index(
        "suggestions_one_open",
        table_name="suggestions",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        "suggestions_on_order",
        table_name="suggestions",
        postgresql_where=sa.text("status = 'accepted' AND received_at IS NULL"),
    )
    op.drop_index(
        "suggestions_awaiting_receipt",
        table_name="suggestions",
        postgresql_where=sa.text("purchase_request_id IS NOT NULL AND received_at IS NULL"),
    )
    op.drop_table("suggestions")
    op.drop_table("reliability")
    op.drop_table("positions")
    op.drop_table("policies")
    op.drop_index("plans_region", table_name="plans")
    op.drop_table("plans")
    op.drop_index("open_alerts_kind", table_name="open_alerts")
    op.drop_table("open_alerts")
    op.drop_table("forecasts")
    op.drop_table("demand_daily")
    steps.CATALOG_COPY_WARRANTY.downgrade(op)
    steps.INBOX_RECEIVED_AT.downgrade(op)
    steps.IDEMPOTENCY_KEYS.downgrade(op)
    steps.CATALOG_COPY_WIDER.downgrade(op)
    steps.CATALOG_COPY.downgrade(op)
    steps.OUTBOX_AS_JSON.downgrade(op)
    steps.OUTBOX_AND_INBOX.downgrade(op)
