"""assets tables, outbox, inbox, catalog copy and Idempotency-Key answers

Revision ID: 0001
Revises:
Create Date: 2026-12-02 10:50:00
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
        "active_alerts",
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dedup_key"),
    )
    op.create_index("active_alerts_kind", "active_alerts", ["kind"], unique=False)
    op.create_index(
        "active_alerts_serial",
        "active_alerts",
        ["serial"],
        unique=False,
        postgresql_where=sa.text("serial IS NOT NULL"),
    )
    op.create_table(
        "device_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "device_history_timeline", "device_history", ["serial", "at", "id"], unique=False
    )
    op.create_table(
        "devices",
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("location_kind", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("installed_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "operating_hours", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column("health", sa.Text(), server_default="ok", nullable=False),
        sa.Column("mac", sa.Text(), nullable=True),
        sa.Column("firmware_version", sa.Text(), nullable=True),
        sa.Column("firmware_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warranty_ends_override", sa.Date(), nullable=True),
        sa.Column("replaces_serial", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_index("devices_location", "devices", ["location"], unique=False)
    op.create_index(
        "devices_mac", "devices", ["mac"], unique=False, postgresql_where=sa.text("mac IS NOT NULL")
    )
    op.create_index("devices_region", "devices", ["region", "sku"], unique=False)
    op.create_index("devices_sku", "devices", ["sku", "state"], unique=False)
    op.create_table(
        "disposals",
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("certificate_reference", sa.Text(), nullable=False),
        sa.Column("handled_by", sa.Text(), nullable=True),
        sa.Column("disposed_by", sa.Text(), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_table(
        "failures",
        sa.Column("failure_id", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("failure_id"),
    )
    op.create_index("failures_model", "failures", ["sku", "failed_at"], unique=False)
    op.create_index("failures_serial", "failures", ["serial", "failed_at"], unique=False)
    op.create_table(
        "firmware_minimums",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("minimum_version", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "maintenance",
        sa.Column("maintenance_id", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("performed_by", sa.Text(), nullable=False),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("firmware_version", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("maintenance_id"),
    )
    op.create_index("maintenance_serial", "maintenance", ["serial", "performed_at"], unique=False)
    op.create_table(
        "parked_facts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fact", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("parked_facts_serial", "parked_facts", ["serial"], unique=False)
    op.create_table(
        "reliability_published",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "rmas",
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("rma_number", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("replacement_serial", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("vendor", "rma_number"),
    )
    op.create_index(
        "rmas_open",
        "rmas",
        ["opened_at"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("rmas_serial", "rmas", ["serial"], unique=False)
    op.create_table(
        "sightings",
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("mac", sa.Text(), nullable=True),
        sa.Column("site", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("firmware_version", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_index("sightings_site", "sightings", ["site"], unique=False)


def downgrade() -> None:
    op.drop_index("sightings_site", table_name="sightings")
    op.drop_table("sightings")
    op.drop_index("rmas_serial", table_name="rmas")
    op.drop_index("rmas_open", table_name="rmas", postgresql_where=sa.text("closed_at IS NULL"))
    op.drop_table("rmas")
    op.drop_table("reliability_published")
    op.drop_index("parked_facts_serial", table_name="parked_facts")
    op.drop_table("parked_facts")
    op.drop_index("maintenance_serial", table_name="maintenance")
    op.drop_table("maintenance")
    op.drop_table("firmware_minimums")
    op.drop_index("failures_serial", table_name="failures")
    op.drop_index("failures_model", table_name="failures")
    op.drop_table("failures")
    op.drop_table("disposals")
    op.drop_index("devices_sku", table_name="devices")
    op.drop_index("devices_region", table_name="devices")
    op.drop_index("devices_mac", table_name="devices", postgresql_where=sa.text("mac IS NOT NULL"))
    op.drop_index("devices_location", table_name="devices")
    op.drop_table("devices")
    op.drop_index("device_history_timeline", table_name="device_history")
    op.drop_table("device_history")
    op.drop_index(
        "active_alerts_serial",
        table_name="active_alerts",
        postgresql_where=sa.text("serial IS NOT NULL"),
    )
    op.drop_index("active_alerts_kind", table_name="active_alerts")
    op.drop_table("active_alerts")
    steps.CATALOG_COPY_WARRANTY.downgrade(op)
    steps.INBOX_RECEIVED_AT.downgrade(op)
    steps.IDEMPOTENCY_KEYS.downgrade(op)
    steps.CATALOG_COPY_WIDER.downgrade(op)
    steps.CATALOG_COPY.downgrade(op)
    steps.OUTBOX_AS_JSON.downgrade(op)
    steps.OUTBOX_AND_INBOX.downgrade(op)
