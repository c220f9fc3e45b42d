"""items.warranty_months: the vendor's warranty in months, null where unknown

Nullable, so existing items need no value and the upgrade rewrites no rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("items", sa.Column("warranty_months", sa.Integer(), nullable=True))
    op.create_check_constraint(
        "items_warranty_months_range",
        "items",
        "warranty_months IS NULL OR warranty_months BETWEEN 0 AND 600",
    )


def downgrade() -> None:
    op.drop_constraint("items_warranty_months_range", "items", type_="check")
    op.drop_column("items", "warranty_months")
