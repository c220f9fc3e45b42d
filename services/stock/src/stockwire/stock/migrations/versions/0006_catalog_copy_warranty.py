"""the catalog copy keeps each item's warranty_months (the runtime's CATALOG_COPY_WARRANTY step)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 11:00:00
"""

from collections.abc import Sequence

from alembic import op

from stockwire.runtime import migration_steps as steps

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    steps.CATALOG_COPY_WARRANTY.upgrade(op)


def downgrade() -> None:
    steps.CATALOG_COPY_WARRANTY.downgrade(op)
