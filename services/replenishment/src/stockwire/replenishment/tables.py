"""Replenishment's tables.

``demand_daily`` is the demand history: per SKU x location and day, what movements
consumed (issues, and installs straight from a shelf) and what was refused for lack of
stock (lost demand); the inbox sees that a movement told twice counts once. Regional
series are sums over the locations of a region (the catalog copy says which).

``positions`` is the latest stock level per SKU x location (``stock.levels.v1``);
``reliability`` the latest figures per model and region (``assets.reliability.v1``).

``policies`` holds the overrides people set per SKU x location; everything they leave
out comes from the defaults per location kind and category (:mod:`.domain.policies`).
``forecasts`` holds the latest re-plan's forecast and its holdout accuracy per series.
``plans`` the latest evaluation of each SKU x location (its levels, position and excess),
which the sweep reads for regional imbalances. ``suggestions`` every suggestion made,
open or decided, with the numbers behind it; an accepted one is on order until stock
takes it over (``received_at``: a receipt quoting the purchase's request id, a shipment
under the transfer's id).
``open_alerts`` each alert raised and not yet resolved, so its resolution is published once.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from stockwire.runtime.catalog_copy import define_catalog_copy
from stockwire.runtime.http.idempotency import define_idempotency_keys
from stockwire.runtime.tables import define_messaging_tables

metadata = sa.MetaData()
MESSAGING = define_messaging_tables(metadata)
CATALOG_COPY = define_catalog_copy(metadata)
IDEMPOTENCY_KEYS = define_idempotency_keys(metadata)

UNITS = sa.Numeric(15, 3)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


demand_daily = sa.Table(
    "demand_daily",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("quantity", UNITS, nullable=False, server_default="0"),
    sa.Column("lost_quantity", UNITS, nullable=False, server_default="0"),
)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, primary_key=True),
    sa.Column("on_hand", UNITS, nullable=False),
    sa.Column("reserved", UNITS, nullable=False),
    sa.Column("available", UNITS, nullable=False),
    sa.Column("in_transit_in", UNITS, nullable=False),
    sa.Column("in_transit_out", UNITS, nullable=False),
    _at("as_of"),
)

reliability = sa.Table(
    "reliability",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("region", sa.Text, primary_key=True),
    sa.Column("installed_base", sa.Integer, nullable=False),
    sa.Column("failures_per_device_year", sa.Float, nullable=True),
    _at("as_of"),
)
"""``region`` is '' for a model everywhere (a primary key cannot be null)."""

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=True),
    sa.Column("min_quantity", UNITS, nullable=True),
    sa.Column("max_quantity", UNITS, nullable=True),
    sa.Column("reorder_point", UNITS, nullable=True),
    sa.Column("order_up_to", UNITS, nullable=True),
    sa.Column("service_level", sa.Float, nullable=True),
    sa.Column("lead_time_days", sa.Integer, nullable=True),
    sa.Column("review_period_days", sa.Integer, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    _at("updated_at"),
)

forecasts = sa.Table(
    "forecasts",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, primary_key=True),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("demand_class", sa.Text, nullable=False),
    sa.Column("mean_per_day", sa.Float, nullable=False),
    sa.Column("distribution", JSONB, nullable=False),
    sa.Column("accuracy", JSONB, nullable=False),
    sa.Column("history_days", sa.Integer, nullable=False),
    _at("made_at"),
)

suggestions = sa.Table(
    "suggestions",
    metadata,
    sa.Column("suggestion_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("from_location", sa.Text, nullable=True),
    sa.Column("quantity", UNITS, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("explanation", JSONB, nullable=False),
    _at("made_at"),
    _at("decided_at", nullable=True),
    sa.Column("decided_by", sa.Text, nullable=True),
    sa.Column("decision_reason", sa.Text, nullable=True),
    sa.Column("purchase_request_id", sa.Uuid, nullable=True),
    _at("received_at", nullable=True),
    sa.Index(
        "suggestions_one_open",
        "kind",
        "sku",
        "location",
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    ),
    sa.Index("suggestions_status_made", "status", "made_at"),
    sa.Index(
        "suggestions_on_order",
        "sku",
        "location",
        postgresql_where=sa.text("status = 'accepted' AND received_at IS NULL"),
    ),
    sa.Index(
        "suggestions_awaiting_receipt",
        "purchase_request_id",
        postgresql_where=sa.text("purchase_request_id IS NOT NULL AND received_at IS NULL"),
    ),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, primary_key=True),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column("location_kind", sa.Text, nullable=False),
    sa.Column("discrete", sa.Boolean, nullable=False),
    sa.Column("reorder_point", UNITS, nullable=False),
    sa.Column("order_up_to", UNITS, nullable=False),
    sa.Column("available", UNITS, nullable=False),
    sa.Column("inventory_position", UNITS, nullable=False),
    sa.Column("excess", UNITS, nullable=False),
    sa.Column("daily_demand_mean", sa.Float, nullable=False),
    sa.Column("dominant_term", sa.Text, nullable=True),
    _at("evaluated_at"),
    sa.Index("plans_region", "sku", "region"),
)

open_alerts = sa.Table(
    "open_alerts",
    metadata,
    sa.Column("dedup_key", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=True),
    sa.Column("region", sa.Text, nullable=True),
    sa.Column("suggestion_id", sa.Uuid, nullable=True),
    _at("raised_at"),
    sa.Index("open_alerts_kind", "kind"),
)
