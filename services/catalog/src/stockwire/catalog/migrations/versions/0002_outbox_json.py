"""outbox envelope and headers as json, not jsonb (the runtime's OUTBOX_AS_JSON step)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:55:00
"""

from collections.abc import Sequence

from alembic import op

from stockwire.runtime import migration_steps as steps

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    steps.OUTBOX_AS_JSON.upgrade(op)


def downgrade() -> None:
    steps.OUTBOX_AS_JSON.downgrade(op)
