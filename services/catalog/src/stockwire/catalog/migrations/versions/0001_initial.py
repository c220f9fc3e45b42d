"""items, locations, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-24 23:51:38.156882
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
        "items",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("manufacturer", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("tracking_mode", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("handling_class", sa.Text(), nullable=False),
        sa.Column("criticality", sa.Text(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("default_lead_time_days", sa.Integer(), nullable=False),
        sa.Column("substitutes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("end_of_sale", sa.Date(), nullable=True),
        sa.Column("end_of_life", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "end_of_life IS NULL OR end_of_sale IS NULL OR end_of_life >= end_of_sale",
            name="items_end_of_life_after_end_of_sale",
        ),
        sa.CheckConstraint("version >= 1", name="items_version_positive"),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_index("items_category", "items", ["category"], unique=False)
    op.create_index("items_manufacturer", "items", ["manufacturer"], unique=False)
    op.create_table(
        "locations",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("parent_code", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)", name="locations_coordinates_paired"
        ),
        sa.CheckConstraint("version >= 1", name="locations_version_positive"),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["locations.code"], name="locations_parent_code_fkey"
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("locations_parent_code", "locations", ["parent_code"], unique=False)
    op.create_index("locations_region", "locations", ["region"], unique=False)


def downgrade() -> None:
    steps.OUTBOX_AND_INBOX.downgrade(op)
    op.drop_index("locations_region", table_name="locations")
    op.drop_index("locations_parent_code", table_name="locations")
    op.drop_table("locations")
    op.drop_index("items_manufacturer", table_name="items")
    op.drop_index("items_category", table_name="items")
    op.drop_table("items")
