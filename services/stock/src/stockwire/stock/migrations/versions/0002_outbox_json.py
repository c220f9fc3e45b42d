"""outbox envelope and headers as json, not jsonb

The relay publishes the envelope exactly as the writer serialized it: jsonb reordered
its keys and re-serialized every row on the way out, and parsed every row on the way
in, for no query that needs it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE outbox ALTER COLUMN envelope TYPE json USING envelope::json, "
        "ALTER COLUMN headers TYPE json USING headers::json"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE outbox ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb, "
        "ALTER COLUMN headers TYPE jsonb USING headers::jsonb"
    )
