"""The stock service's tables.

The ledger holds one row per balance leg a movement changes (a transfer's shipment is two
legs: on hand out at the source, in transit on both ends), with the deltas it applied.
So every balance equals its ledger legs summed, and a balance as of any past time is
the sum of the legs recorded up to then. ``lot`` and ``serial`` are '' when not tracked,
so they can be part of keys.

``levels`` holds each SKU x location's balances summed over lots and serials. Its row is
also the lock every writer of that pair takes first (``SELECT ... FOR UPDATE`` in key
order, see :mod:`stockwire.stock.repository`), so a level and the balances under it
change together, and two instances cannot deadlock.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from stockwire.runtime.catalog_copy import define_catalog_copy
from stockwire.runtime.http.idempotency import define_idempotency_keys
from stockwire.runtime.tables import define_messaging_tables

metadata = sa.MetaData()
MESSAGING = define_messaging_tables(metadata)

QUANTITY = sa.Numeric(18, 3)


def _now() -> sa.Column[object]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


CATALOG_COPY = define_catalog_copy(metadata)
catalog_items = CATALOG_COPY.items
"""Read copy of catalog.items.v1 (the runtime's :mod:`~stockwire.runtime.catalog_copy`)."""
catalog_locations = CATALOG_COPY.locations
"""Read copy of catalog.locations.v1."""

IDEMPOTENCY_KEYS = define_idempotency_keys(metadata)
"""HTTP commands' answers by client and Idempotency-Key (the runtime's
:mod:`~stockwire.runtime.http.idempotency`)."""

balances = sa.Table(
    "balances",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, primary_key=True),
    sa.Column("lot", sa.Text, primary_key=True, server_default=""),
    sa.Column("serial", sa.Text, primary_key=True, server_default=""),
    sa.Column("on_hand", QUANTITY, nullable=False, server_default="0"),
    sa.Column("reserved", QUANTITY, nullable=False, server_default="0"),
    sa.Column("in_transit_in", QUANTITY, nullable=False, server_default="0"),
    sa.Column("in_transit_out", QUANTITY, nullable=False, server_default="0"),
    sa.Column("last_movement_id", UUID(as_uuid=True), nullable=True),
    _now(),
    sa.Index("balances_location", "location", "sku"),
)

levels = sa.Table(
    "levels",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, primary_key=True),
    sa.Column("on_hand", QUANTITY, nullable=False, server_default="0"),
    sa.Column("reserved", QUANTITY, nullable=False, server_default="0"),
    sa.Column("in_transit_in", QUANTITY, nullable=False, server_default="0"),
    sa.Column("in_transit_out", QUANTITY, nullable=False, server_default="0"),
    sa.Column("last_movement_id", UUID(as_uuid=True), nullable=True),
    _now(),
    sa.Index("levels_location", "location", "sku"),
)
"""Balances summed per SKU x location: always the sum of that pair's balance rows."""

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("movement_id", UUID(as_uuid=True), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("reason_code", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("lot", sa.Text, nullable=False, server_default=""),
    sa.Column("serial", sa.Text, nullable=False, server_default=""),
    sa.Column("on_hand_delta", QUANTITY, nullable=False, server_default="0"),
    sa.Column("reserved_delta", QUANTITY, nullable=False, server_default="0"),
    sa.Column("in_transit_in_delta", QUANTITY, nullable=False, server_default="0"),
    sa.Column("in_transit_out_delta", QUANTITY, nullable=False, server_default="0"),
    sa.Column("quantity", QUANTITY, nullable=False),
    sa.Column("from_location", sa.Text, nullable=True),
    sa.Column("to_location", sa.Text, nullable=True),
    sa.Column("condition", sa.Text, nullable=True),
    sa.Column("job_id", sa.Text, nullable=True),
    sa.Column("po_number", sa.Text, nullable=True),
    sa.Column("transfer_id", sa.Text, nullable=True),
    sa.Column("count_id", sa.Text, nullable=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("source_event_id", UUID(as_uuid=True), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ledger_balance_time", "sku", "location", "recorded_at"),
    sa.Index("ledger_sku_time", "sku", "recorded_at", "id"),
    sa.Index("ledger_movement", "movement_id"),
    sa.Index("ledger_serial", "serial", "id", postgresql_where=sa.text("serial <> ''")),
)
"""Append-only: rows are inserted, never updated or deleted."""

movement_notes = sa.Table(
    "movement_notes",
    metadata,
    sa.Column("movement_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("note", sa.Text, nullable=False),
)
"""Free text an operator gave with a movement (adjustments); most movements have none."""

serials = sa.Table(
    "serials",
    metadata,
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("lot", sa.Text, nullable=False, server_default=""),
    sa.Column("job_id", sa.Text, nullable=True),
    sa.Column("last_movement_id", UUID(as_uuid=True), nullable=True),
    _now(),
    sa.Column("conflict_sku", sa.Text, nullable=True),
    sa.Column("conflict_location", sa.Text, nullable=True),
    sa.Index("serials_on_shelf", "sku", "location", postgresql_where=sa.text("state = 'in_stock'")),
)
"""Where each serial is now: exactly one location (or customer site, or job) at a time.
``conflict_sku`` and ``conflict_location`` say where the latest ``serial_conflict`` alert
about it was raised, until a movement of the serial resolves it."""

job_parts = sa.Table(
    "job_parts",
    metadata,
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("lot", sa.Text, primary_key=True, server_default=""),
    sa.Column("serial", sa.Text, primary_key=True, server_default=""),
    sa.Column("from_location", sa.Text, nullable=False),
    sa.Column("quantity", QUANTITY, nullable=False),
    _now(),
)
"""Parts issued to a job and not yet installed or returned."""

transfers = sa.Table(
    "transfers",
    metadata,
    sa.Column("transfer_id", sa.Text, primary_key=True),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("from_location", sa.Text, nullable=False),
    sa.Column("to_location", sa.Text, nullable=False),
    sa.Column("lot", sa.Text, nullable=False, server_default=""),
    sa.Column("serials", sa.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("quantity_shipped", QUANTITY, nullable=False),
    sa.Column("quantity_received", QUANTITY, nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("transfers_open", "status", postgresql_where=sa.text("status = 'in_transit'")),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("reservation_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("quantity", QUANTITY, nullable=False),
    sa.Column("fulfilled", QUANTITY, nullable=False, server_default="0"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    _now(),
    sa.Index("reservations_job", "job_id"),
)

counts = sa.Table(
    "counts",
    metadata,
    sa.Column("count_id", sa.Text, primary_key=True),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("blind", sa.Boolean, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("items_counted", sa.Integer, nullable=True),
    sa.Column("items_matching", sa.Integer, nullable=True),
    sa.Column("accuracy", sa.Numeric(6, 5), nullable=True),
)

count_skus = sa.Table(
    "count_skus",
    metadata,
    sa.Column("count_id", sa.Text, primary_key=True),
    sa.Column("sku", sa.Text, primary_key=True),
)
"""The SKUs a count covers, when it was opened for some only; none: everything there."""

count_lines = sa.Table(
    "count_lines",
    metadata,
    sa.Column("count_id", sa.Text, primary_key=True),
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("lot", sa.Text, primary_key=True, server_default=""),
    sa.Column("serial", sa.Text, primary_key=True, server_default=""),
    sa.Column("counted", QUANTITY, nullable=False),
    sa.Column("expected", QUANTITY, nullable=True),
)
"""What was counted; ``expected`` is filled in from the balance when the count closes."""
