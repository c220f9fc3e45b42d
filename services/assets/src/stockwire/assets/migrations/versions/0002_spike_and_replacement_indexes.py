"""indexes for failure-spike windows (state changes by time) and RMA replacement links;
operating time to the hundredth of a second

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "devices",
        "operating_hours",
        type_=sa.Numeric(21, 6),
        existing_type=sa.Numeric(18, 3),
        existing_nullable=False,
        existing_server_default="0",
    )
    op.create_index(
        "device_history_state_changes",
        "device_history",
        ["at"],
        unique=False,
        postgresql_where=sa.text("kind = 'state_changed'"),
    )
    op.create_index(
        "rmas_replacement",
        "rmas",
        ["replacement_serial"],
        unique=False,
        postgresql_where=sa.text("replacement_serial IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "rmas_replacement",
        table_name="rmas",
        postgresql_where=sa.text("replacement_serial IS NOT NULL"),
    )
    op.drop_index(
        "device_history_state_changes",
        table_name="device_history",
        postgresql_where=sa.text("kind = 'state_changed'"),
    )
    op.alter_column(
        "devices",
        "operating_hours",
        type_=sa.Numeric(18, 3),
        existing_type=sa.Numeric(21, 6),
        existing_nullable=False,
        existing_server_default="0",
    )
