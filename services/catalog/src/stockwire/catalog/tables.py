"""The catalog database: items, locations, and the outbox and inbox on the same MetaData,
so one Alembic history owns all of them."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from stockwire.catalog.domain.model import WARRANTY_MAX_MONTHS
from stockwire.runtime.tables import define_messaging_tables

metadata = sa.MetaData()

items = sa.Table(
    "items",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("manufacturer", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("tracking_mode", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("handling_class", sa.Text, nullable=False),
    sa.Column("criticality", sa.Text, nullable=False),
    sa.Column("unit_cost", sa.Numeric(14, 4), nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("default_lead_time_days", sa.Integer, nullable=False),
    sa.Column("substitutes", ARRAY(sa.Text), nullable=False),
    sa.Column("end_of_sale", sa.Date, nullable=True),
    sa.Column("end_of_life", sa.Date, nullable=True),
    sa.Column("warranty_months", sa.Integer, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("version >= 1", name="items_version_positive"),
    sa.CheckConstraint(
        "end_of_life IS NULL OR end_of_sale IS NULL OR end_of_life >= end_of_sale",
        name="items_end_of_life_after_end_of_sale",
    ),
    sa.CheckConstraint(
        f"warranty_months IS NULL OR warranty_months BETWEEN 0 AND {WARRANTY_MAX_MONTHS}",
        name="items_warranty_months_range",
    ),
    sa.Index("items_category", "category"),
    sa.Index("items_manufacturer", "manufacturer"),
)

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column(
        "parent_code",
        sa.Text,
        sa.ForeignKey("locations.code", name="locations_parent_code_fkey"),
        nullable=True,
    ),
    sa.Column("latitude", sa.Float, nullable=True),
    sa.Column("longitude", sa.Float, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("version >= 1", name="locations_version_positive"),
    sa.CheckConstraint(
        "(latitude IS NULL) = (longitude IS NULL)", name="locations_coordinates_paired"
    ),
    sa.Index("locations_parent_code", "parent_code"),
    sa.Index("locations_region", "region"),
)

MESSAGING = define_messaging_tables(metadata)
