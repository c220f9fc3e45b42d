"""the runtime's wider catalog copy and its Idempotency-Key table

The catalog read copy gains what assets, replenishment and the notifier need (rows kept
before stay null in the new columns until the catalog next changes them). HTTP answers
kept for an Idempotency-Key move to the runtime's idempotency_keys, keyed by client and
key; command_requests held keys of no client, so its rows cannot move: a retry in flight
during the upgrade is applied as a new request.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from stockwire.runtime import migration_steps as steps

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    steps.CATALOG_COPY_WIDER.upgrade(op)
    steps.IDEMPOTENCY_KEYS.upgrade(op)
    op.drop_table("command_requests")


def downgrade() -> None:
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
    op.create_index("command_requests_created_at", "command_requests", ["created_at"])
    steps.IDEMPOTENCY_KEYS.downgrade(op)
    steps.CATALOG_COPY_WIDER.downgrade(op)
