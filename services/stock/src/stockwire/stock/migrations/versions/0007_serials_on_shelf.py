"""an index of the serials in stock per SKU x location, for transfers whose serials stock picks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "serials_on_shelf",
        "serials",
        ["sku", "location"],
        postgresql_where=sa.text("state = 'in_stock'"),
    )


def downgrade() -> None:
    op.drop_index("serials_on_shelf", table_name="serials")
