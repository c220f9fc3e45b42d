"""where a serial's latest conflict was alerted, so a later movement of it can resolve it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("serials", sa.Column("conflict_sku", sa.Text(), nullable=True))
    op.add_column("serials", sa.Column("conflict_location", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("serials", "conflict_location")
    op.drop_column("serials", "conflict_sku")
