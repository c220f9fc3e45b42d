"""every fact a device was given, and the time of its latest, so a late one can rebuild it
in time order

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 12:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("facts_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "device_facts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fact", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("device_facts_serial", "device_facts", ["serial", "at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("device_facts_serial", table_name="device_facts")
    op.drop_table("device_facts")
    op.drop_column("devices", "facts_until")
