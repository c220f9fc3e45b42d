"""The notifier's tables.

Configuration people manage over HTTP: ``channels``, ``rules``, ``silences`` and
``inhibitions``. The noise-control state the engine works on (:mod:`.domain`) is kept as
JSON documents keyed the way the engine looks them up: per alert (``alerts``, by
``dedup_key``), per rule and group (``alert_groups``), per rule and kind (``digests``), per
channel (``channel_windows``). Each row has a ``due_at`` when the ticker must look at it
again (a group to flush, an escalation step, a quiet period ending), so a tick reads only
what is due.

``deliveries`` is the notifier's own outbox of messages: written in the same transaction
as the state change that decided them, claimed with a lease, sent, and marked; every
attempt is a ``delivery_attempts`` row. ``threads`` remembers the message a channel
answered for an alert, so a "resolved" follow-up can reply in its thread.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from stockwire.runtime.catalog_copy import define_catalog_copy
from stockwire.runtime.http.idempotency import define_idempotency_keys
from stockwire.runtime.tables import define_messaging_tables

metadata = sa.MetaData()
MESSAGING = define_messaging_tables(metadata)
CATALOG_COPY = define_catalog_copy(metadata)
IDEMPOTENCY_KEYS = define_idempotency_keys(metadata)


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def _updated_at() -> sa.Column[object]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def _due_at() -> sa.Column[object]:
    return sa.Column("due_at", sa.DateTime(timezone=True), nullable=True)


channels = sa.Table(
    "channels",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=True),
    sa.Column("url_env", sa.Text, nullable=True),
    sa.Column("url_file", sa.Text, nullable=True),
    sa.Column("recipients", ARRAY(sa.Text), nullable=False),
    sa.Column("rate_limit_messages", sa.Integer, nullable=True),
    sa.Column("rate_limit_per_s", sa.Integer, nullable=True),
    sa.Column("fallback", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    _created_at(),
    _updated_at(),
)

rules = sa.Table(
    "rules",
    metadata,
    sa.Column("rule_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("definition", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    _created_at(),
    _updated_at(),
)

silences = sa.Table(
    "silences",
    metadata,
    sa.Column("silence_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("matchers", JSONB, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    _created_at(),
    sa.Index("silences_ends_at", "ends_at"),
)

inhibitions = sa.Table(
    "inhibitions",
    metadata,
    sa.Column("inhibition_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("definition", JSONB, nullable=False),
    _created_at(),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("dedup_key", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("state", JSONB, nullable=False),
    sa.Column("trace", JSONB, nullable=False),
    _due_at(),
    _updated_at(),
    sa.Index("alerts_firing", "status", "kind"),
    sa.Index("alerts_due", "due_at", postgresql_where=sa.text("due_at IS NOT NULL")),
)

state_token = sa.Table(
    "state_token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("token", UUID(as_uuid=True), nullable=False),
)
"""One row, rewritten by every transaction that changes the engine's state: a process
that wrote the token still current may use the state it kept in memory."""

alert_groups = sa.Table(
    "alert_groups",
    metadata,
    sa.Column("rule_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("group_key", sa.Text, primary_key=True),
    sa.Column("state", JSONB, nullable=False),
    _due_at(),
    sa.Index("alert_groups_due", "due_at", postgresql_where=sa.text("due_at IS NOT NULL")),
)

digests = sa.Table(
    "digests",
    metadata,
    sa.Column("rule_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("state", JSONB, nullable=False),
    _due_at(),
    sa.Index("digests_due", "due_at", postgresql_where=sa.text("due_at IS NOT NULL")),
)

channel_windows = sa.Table(
    "channel_windows",
    metadata,
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("state", JSONB, nullable=False),
    _due_at(),
    sa.Index("channel_windows_due", "due_at", postgresql_where=sa.text("due_at IS NOT NULL")),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("delivery_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("recipients", ARRAY(sa.Text), nullable=False),
    sa.Column("dedup_keys", ARRAY(sa.Text), nullable=False),
    sa.Column("rule_id", UUID(as_uuid=True), nullable=True),
    sa.Column("thread_key", sa.Text, nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=True),
    sa.Column("markdown", sa.Text, nullable=True),
    sa.Column("tone", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("message_ref", sa.Text, nullable=True),
    sa.Column("trace", JSONB, nullable=False),
    _created_at(),
    sa.Index(
        "deliveries_pending",
        "next_attempt_at",
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index("deliveries_created", "created_at"),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column(
        "delivery_id",
        UUID(as_uuid=True),
        sa.ForeignKey("deliveries.delivery_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=False),
)

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("dedup_key", sa.Text, primary_key=True),
    sa.Column("channel", sa.Text, primary_key=True),
    sa.Column("message_ref", sa.Text, nullable=False),
)

acknowledgements = sa.Table(
    "acknowledgements",
    metadata,
    sa.Column("ack_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("dedup_key", sa.Text, nullable=False),
    sa.Column("acknowledged_by", sa.Text, nullable=False),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("via", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Index("acknowledgements_alert", "dedup_key"),
)
