"""Assets' tables.

``devices`` holds each serial's current state, where it is, its operating time so far,
its health and firmware as monitoring and maintenance last reported them, and a warranty
end set by hand. ``device_history`` is the timeline: one row for everything that
happened to a serial (movements, state changes, refusals, maintenance, failures, RMAs,
sightings, disposal), in the order it happened. ``device_facts`` keeps every fact a
device was given, so a late one can rebuild it in time order; ``parked_facts`` keeps
facts about a serial that arrived before its first one (see :mod:`.domain.devices`).

``maintenance``, ``failures``, ``rmas`` and ``disposals`` are the records people and
reliability figures read; ``sightings`` the latest report from the network of each serial
(reconciliation); ``firmware_minimums`` the minimum version per model. ``active_alerts``
remembers each alert raised and not yet resolved, so its resolution is published once;
``reliability_published`` the figures last published per key, so only a change is
published again.
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

OPERATING_HOURS = sa.Numeric(21, 6)
"""Operating time to the hundredth of a second: a failure minutes after an install counts."""
MONEY = sa.Numeric(14, 4)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


devices = sa.Table(
    "devices",
    metadata,
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=True),
    sa.Column("location_kind", sa.Text, nullable=True),
    sa.Column("region", sa.Text, nullable=True),
    sa.Column("job_id", sa.Text, nullable=True),
    _at("as_of"),
    _at("facts_until", nullable=True),
    _at("received_at"),
    _at("installed_since", nullable=True),
    sa.Column("operating_hours", OPERATING_HOURS, nullable=False, server_default="0"),
    sa.Column("health", sa.Text, nullable=False, server_default="ok"),
    sa.Column("mac", sa.Text, nullable=True),
    sa.Column("firmware_version", sa.Text, nullable=True),
    _at("firmware_at", nullable=True),
    sa.Column("warranty_ends_override", sa.Date, nullable=True),
    sa.Column("replaces_serial", sa.Text, nullable=True),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Index("devices_sku", "sku", "state"),
    sa.Index("devices_location", "location"),
    sa.Index("devices_region", "region", "sku"),
    sa.Index("devices_mac", "mac", postgresql_where=sa.text("mac IS NOT NULL")),
)

device_history = sa.Table(
    "device_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("serial", sa.Text, nullable=False),
    _at("at"),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("detail", JSONB, nullable=False),
    sa.Column("source_event_id", sa.Uuid, nullable=True),
    sa.Index("device_history_timeline", "serial", "at", "id"),
    sa.Index(
        "device_history_state_changes",
        "at",
        postgresql_where=sa.text("kind = 'state_changed'"),
    ),
)

device_facts = sa.Table(
    "device_facts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("serial", sa.Text, nullable=False),
    _at("at"),
    sa.Column("fact", JSONB, nullable=False),
    sa.Index("device_facts_serial", "serial", "at", "id"),
)

parked_facts = sa.Table(
    "parked_facts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("serial", sa.Text, nullable=False),
    _at("at"),
    sa.Column("fact", JSONB, nullable=False),
    sa.Index("parked_facts_serial", "serial"),
)

maintenance = sa.Table(
    "maintenance",
    metadata,
    sa.Column("maintenance_id", sa.Text, primary_key=True),
    sa.Column("serial", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("performed_by", sa.Text, nullable=False),
    _at("performed_at"),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("cost", MONEY, nullable=True),
    sa.Column("currency", sa.Text, nullable=True),
    sa.Column("firmware_version", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("source_event_id", sa.Uuid, nullable=True),
    sa.Index("maintenance_serial", "serial", "performed_at"),
)

failures = sa.Table(
    "failures",
    metadata,
    sa.Column("failure_id", sa.Text, primary_key=True),
    sa.Column("serial", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=True),
    sa.Column("region", sa.Text, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("symptom", sa.Text, nullable=False),
    _at("failed_at"),
    sa.Index("failures_model", "sku", "failed_at"),
    sa.Index("failures_serial", "serial", "failed_at"),
)

rmas = sa.Table(
    "rmas",
    metadata,
    sa.Column("vendor", sa.Text, primary_key=True),
    sa.Column("rma_number", sa.Text, primary_key=True),
    sa.Column("serial", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("opened_by", sa.Text, nullable=False),
    _at("opened_at"),
    _at("shipped_at", nullable=True),
    _at("closed_at", nullable=True),
    sa.Column("outcome", sa.Text, nullable=True),
    sa.Column("replacement_serial", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Index("rmas_serial", "serial"),
    sa.Index("rmas_open", "opened_at", postgresql_where=sa.text("closed_at IS NULL")),
    sa.Index(
        "rmas_replacement",
        "replacement_serial",
        postgresql_where=sa.text("replacement_serial IS NOT NULL"),
    ),
)

disposals = sa.Table(
    "disposals",
    metadata,
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("certificate_reference", sa.Text, nullable=False),
    sa.Column("handled_by", sa.Text, nullable=True),
    sa.Column("disposed_by", sa.Text, nullable=False),
    _at("disposed_at"),
    sa.Column("note", sa.Text, nullable=True),
)

sightings = sa.Table(
    "sightings",
    metadata,
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("mac", sa.Text, nullable=True),
    sa.Column("site", sa.Text, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    _at("seen_at"),
    sa.Column("firmware_version", sa.Text, nullable=True),
    sa.Index("sightings_site", "site"),
)

firmware_minimums = sa.Table(
    "firmware_minimums",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("minimum_version", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("set_by", sa.Text, nullable=False),
    _at("set_at"),
)

active_alerts = sa.Table(
    "active_alerts",
    metadata,
    sa.Column("dedup_key", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("serial", sa.Text, nullable=True),
    sa.Column("sku", sa.Text, nullable=True),
    sa.Column("region", sa.Text, nullable=True),
    sa.Column("location", sa.Text, nullable=True),
    _at("raised_at"),
    sa.Index("active_alerts_kind", "kind"),
    sa.Index("active_alerts_serial", "serial", postgresql_where=sa.text("serial IS NOT NULL")),
)

reliability_published = sa.Table(
    "reliability_published",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("figures", JSONB, nullable=False),
    _at("published_at"),
)
