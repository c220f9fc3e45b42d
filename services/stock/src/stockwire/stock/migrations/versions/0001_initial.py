"""balances, levels, ledger, serials, custody, transfers, reservations, counts,
catalog read copy, idempotent requests, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-25 00:29:08.533528
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
    op.create_table(
        "balances",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("lot", sa.Text(), server_default="", nullable=False),
        sa.Column("serial", sa.Text(), server_default="", nullable=False),
        sa.Column("on_hand", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False),
        sa.Column(
            "reserved", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "in_transit_in", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "in_transit_out", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column("last_movement_id", sa.UUID(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sku", "location", "lot", "serial"),
    )
    op.create_index("balances_location", "balances", ["location", "sku"], unique=False)
    steps.CATALOG_COPY.upgrade(op)
    op.create_table(
        "command_requests",
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index("command_requests_created_at", "command_requests", ["created_at"], unique=False)
    op.create_table(
        "count_lines",
        sa.Column("count_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("lot", sa.Text(), server_default="", nullable=False),
        sa.Column("serial", sa.Text(), server_default="", nullable=False),
        sa.Column("counted", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("expected", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.PrimaryKeyConstraint("count_id", "sku", "lot", "serial"),
    )
    op.create_table(
        "count_skus",
        sa.Column("count_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("count_id", "sku"),
    )
    op.create_table(
        "counts",
        sa.Column("count_id", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("items_counted", sa.Integer(), nullable=True),
        sa.Column("items_matching", sa.Integer(), nullable=True),
        sa.Column("accuracy", sa.Numeric(precision=6, scale=5), nullable=True),
        sa.PrimaryKeyConstraint("count_id"),
    )
    op.create_table(
        "job_parts",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("lot", sa.Text(), server_default="", nullable=False),
        sa.Column("serial", sa.Text(), server_default="", nullable=False),
        sa.Column("from_location", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("job_id", "sku", "lot", "serial"),
    )
    op.create_table(
        "ledger",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("movement_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("lot", sa.Text(), server_default="", nullable=False),
        sa.Column("serial", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "on_hand_delta", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "reserved_delta", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "in_transit_in_delta",
            sa.Numeric(precision=18, scale=3),
            server_default="0",
            nullable=False,
        ),
        sa.Column(
            "in_transit_out_delta",
            sa.Numeric(precision=18, scale=3),
            server_default="0",
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("from_location", sa.Text(), nullable=True),
        sa.Column("to_location", sa.Text(), nullable=True),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("po_number", sa.Text(), nullable=True),
        sa.Column("transfer_id", sa.Text(), nullable=True),
        sa.Column("count_id", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("source_event_id", sa.UUID(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ledger_balance_time", "ledger", ["sku", "location", "recorded_at"], unique=False
    )
    op.create_index("ledger_movement", "ledger", ["movement_id"], unique=False)
    op.create_index(
        "ledger_serial",
        "ledger",
        ["serial", "id"],
        unique=False,
        postgresql_where=sa.text("serial <> ''"),
    )
    op.create_index("ledger_sku_time", "ledger", ["sku", "recorded_at", "id"], unique=False)
    op.create_table(
        "levels",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("on_hand", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False),
        sa.Column(
            "reserved", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "in_transit_in", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column(
            "in_transit_out", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column("last_movement_id", sa.UUID(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sku", "location"),
    )
    op.create_index("levels_location", "levels", ["location", "sku"], unique=False)
    op.create_table(
        "movement_notes",
        sa.Column("movement_id", sa.UUID(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("movement_id"),
    )
    op.create_table(
        "reservations",
        sa.Column("reservation_id", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column(
            "fulfilled", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("reservation_id"),
    )
    op.create_index("reservations_job", "reservations", ["job_id"], unique=False)
    op.create_table(
        "serials",
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("lot", sa.Text(), server_default="", nullable=False),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("last_movement_id", sa.UUID(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("from_location", sa.Text(), nullable=False),
        sa.Column("to_location", sa.Text(), nullable=False),
        sa.Column("lot", sa.Text(), server_default="", nullable=False),
        sa.Column("serials", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("quantity_shipped", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("quantity_received", sa.Numeric(precision=18, scale=3), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("transfer_id"),
    )
    op.create_index(
        "transfers_open",
        "transfers",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status = 'in_transit'"),
    )


def downgrade() -> None:
    steps.OUTBOX_AND_INBOX.downgrade(op)
    op.drop_index(
        "transfers_open", table_name="transfers", postgresql_where=sa.text("status = 'in_transit'")
    )
    op.drop_table("transfers")
    op.drop_table("serials")
    op.drop_index("reservations_job", table_name="reservations")
    op.drop_table("reservations")
    op.drop_table("movement_notes")
    op.drop_index("levels_location", table_name="levels")
    op.drop_table("levels")
    op.drop_index("ledger_sku_time", table_name="ledger")
    op.drop_index("ledger_serial", table_name="ledger", postgresql_where=sa.text("serial <> ''"))
    op.drop_index("ledger_movement", table_name="ledger")
    op.drop_index("ledger_balance_time", table_name="ledger")
    op.drop_table("ledger")
    op.drop_table("job_parts")
    op.drop_table("counts")
    op.drop_table("count_skus")
    op.drop_table("count_lines")
    op.drop_index("command_requests_created_at", table_name="command_requests")
    op.drop_table("command_requests")
    steps.CATALOG_COPY.downgrade(op)
    op.drop_index("balances_location", table_name="balances")
    op.drop_table("balances")
