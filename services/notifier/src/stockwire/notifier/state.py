"""The engine's state in PostgreSQL: loaded whole under one lock, saved by the keys a call
changed.

The state is what is active: alerts firing or recently resolved, their groups, open
digests and channels with overflow. Every transaction that works on it (a batch of
alerts, a tick, an acknowledgement) first takes one transaction-scoped advisory lock, so
instances and tasks take turns and each sees the state its predecessor committed. Every
row keeps the moment the ticker must next look at it (``due_at``), so a tick loads the
state only when something is due.

Decoding every row on every load made a transaction cost O(active alerts): ~0.2 ms a row,
so 1.8 s a batch with 8,000 alerts firing. Under the lock, each process therefore keeps
the rows it decoded, each with the row version (``xmin``) it was read or written at. A load
reads every row's version (cheap) and decodes only the rows whose version differs: those
another instance wrote, or a transaction of ours rolled back. The objects are handed out as
they are, not copied; the dispatcher changes them in place and names every key it changes,
so those are saved with their new version. What it changes without naming is the pruning
of time windows past (arrivals, sends, flap changes), which the next load redoes anyway.
A load whose predecessor never reached :meth:`StateRepository.save` (it failed on the
way) starts from an empty cache, as its objects may be half changed.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.notifier.documents import from_document, to_document
from stockwire.notifier.domain.digests import DigestState
from stockwire.notifier.domain.grouping import GroupState
from stockwire.notifier.domain.rate_limits import ChannelState
from stockwire.notifier.domain.state import Changes, NotifierState
from stockwire.notifier.domain.tracking import AlertState
from stockwire.notifier.tables import alert_groups, alerts, channel_windows, digests

STATE_LOCK = 0x5717E_A1E57
"""The advisory lock every transaction on the engine's state takes first."""

Due = Callable[[NotifierState], datetime | None]
"""When the ticker must look at the state (the dispatcher's ``next_wakeup``)."""

T = TypeVar("T")
Key = tuple[Any, ...]
VERSION: sa.ColumnClause[int] = sa.literal_column("xmin::text::bigint", sa.BigInteger)
"""The row version: the transaction that wrote it (unique in the cluster per write)."""
FETCH_BY_KEY_LIMIT = 1000
"""More stale rows than this are read with one full scan instead of by their keys."""


@dataclass
class DecodedRows:
    """One database's decoded state rows, by table and primary key, with their versions."""

    tables: dict[str, dict[Key, tuple[int, Any]]] = field(default_factory=dict)
    lent: bool = False
    """A load handed the objects out and no save has taken them back yet."""


_decoded: dict[str, DecodedRows] = {}


class StateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._cache: DecodedRows | None = None

    async def lock(self) -> None:
        await self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(STATE_LOCK)))
        database = self.session.get_bind().engine.url.render_as_string(hide_password=True)
        self._cache = _decoded.setdefault(database, DecodedRows())

    async def load(self) -> NotifierState:
        """The whole state; under the lock, from the rows this process decoded before."""
        cache = self._cache
        if cache is None:
            return await self._load_all()
        if cache.lent:
            cache.tables.clear()
        cache.lent = True
        state = NotifierState()
        for tracked in await self._rows(cache, alerts, AlertState):
            state.alerts[tracked.alert.dedup_key] = tracked
        for group in await self._rows(cache, alert_groups, GroupState):
            state.groups[(group.rule_id, group.group_key)] = group
        for digest in await self._rows(cache, digests, DigestState):
            state.digests[(digest.rule_id, digest.kind)] = digest
        for channel in await self._rows(cache, channel_windows, ChannelState):
            state.channels[channel.channel] = channel
        return state

    async def _rows(self, cache: DecodedRows, table: sa.Table, kind: type[T]) -> list[T]:
        """Every row of ``table`` decoded, reusing the cached objects of unchanged rows."""
        keys: Sequence[sa.Column[Any]] = list(table.primary_key.columns)
        known = cache.tables.get(table.name, {})
        current: dict[Key, tuple[int, Any]] = {}
        stale: list[Key] = []
        for *key_values, version in await self.session.execute(sa.select(*keys, VERSION)):
            key = tuple(key_values)
            hit = known.get(key)
            if hit is not None and hit[0] == version:
                current[key] = hit
            else:
                stale.append(key)
        if stale:
            query = sa.select(*keys, VERSION, table.c.state)
            if len(stale) <= FETCH_BY_KEY_LIMIT:
                query = query.where(sa.tuple_(*keys).in_(stale))
            wanted = set(stale)
            for *key_values, version, document in await self.session.execute(query):
                key = tuple(key_values)
                if key in wanted:
                    current[key] = (version, from_document(kind, document))
        cache.tables[table.name] = current
        return [value for _, value in current.values()]

    async def _load_all(self) -> NotifierState:
        state = NotifierState()
        for row in await self.session.execute(sa.select(alerts.c.dedup_key, alerts.c.state)):
            state.alerts[row.dedup_key] = from_document(AlertState, row.state)
        for row in await self.session.execute(sa.select(alert_groups.c.state)):
            group = from_document(GroupState, row.state)
            state.groups[(group.rule_id, group.group_key)] = group
        for row in await self.session.execute(sa.select(digests.c.state)):
            digest = from_document(DigestState, row.state)
            state.digests[(digest.rule_id, digest.kind)] = digest
        for row in await self.session.execute(sa.select(channel_windows.c.state)):
            channel = from_document(ChannelState, row.state)
            state.channels[channel.channel] = channel
        return state

    async def next_due(self) -> datetime | None:
        """The earliest moment any row of the state wants a tick."""
        earliest = sa.func.least(
            *(
                sa.select(sa.func.min(table.c.due_at)).scalar_subquery()
                for table in (alerts, alert_groups, digests, channel_windows)
            )
        )
        found: datetime | None = await self.session.scalar(sa.select(earliest))
        return found

    async def save(
        self,
        state: NotifierState,
        changes: Changes,
        due: Due,
        traces: Mapping[str, Mapping[str, str]],
    ) -> None:
        """Write what ``changes`` names: the rows still in ``state``, the others deleted.
        ``traces`` are the trace contexts of alerts raised now: their messages, sent now or
        from a later tick, continue them."""
        for key in sorted(changes.alerts):
            tracked = state.alerts.get(key)
            if tracked is None:
                await self.session.execute(sa.delete(alerts).where(alerts.c.dedup_key == key))
                self._forget(alerts, {"dedup_key": key})
                continue
            values: dict[str, Any] = {}
            if key in traces:
                values["trace"] = dict(traces[key])
            await self._upsert(
                alerts,
                {"dedup_key": key},
                {
                    **values,
                    "status": tracked.status,
                    "kind": tracked.alert.kind,
                    "severity": tracked.alert.severity.value,
                    "state": to_document(tracked),
                    "due_at": due(NotifierState(alerts={key: tracked})),
                    "updated_at": sa.func.now(),
                },
                tracked,
            )
        for rule_id, group_key in sorted(changes.groups):
            group = state.groups.get((rule_id, group_key))
            where = {"rule_id": uuid.UUID(rule_id), "group_key": group_key}
            when = due(NotifierState(groups={(rule_id, group_key): group})) if group else None
            await self._keep_or_delete(alert_groups, where, group, when)
        for rule_id, kind in sorted(changes.digests):
            digest = state.digests.get((rule_id, kind))
            where = {"rule_id": uuid.UUID(rule_id), "kind": kind}
            when = due(NotifierState(digests={(rule_id, kind): digest})) if digest else None
            await self._keep_or_delete(digests, where, digest, when)
        for name in sorted(changes.channels):
            channel = state.channels.get(name)
            when = due(NotifierState(channels={name: channel})) if channel else None
            await self._keep_or_delete(channel_windows, {"channel": name}, channel, when)
        if self._cache is not None:
            self._cache.lent = False

    async def _keep_or_delete(
        self,
        table: sa.Table,
        where: dict[str, Any],
        value: object | None,
        due_at: datetime | None,
    ) -> None:
        if value is None:
            await self.session.execute(
                sa.delete(table).where(*(table.c[name] == item for name, item in where.items()))
            )
            self._forget(table, where)
            return
        await self._upsert(table, where, {"state": to_document(value), "due_at": due_at}, value)

    async def _upsert(
        self, table: sa.Table, key: dict[str, Any], values: dict[str, Any], value: object
    ) -> None:
        statement = insert(table).values(**key, **values)
        if table is alerts and "trace" not in values:
            statement = insert(table).values(**key, **values, trace={})
        version = await self.session.scalar(
            statement.on_conflict_do_update(index_elements=list(key), set_=values).returning(
                VERSION
            )
        )
        if self._cache is not None and version is not None:
            row_key = tuple(key[column.name] for column in table.primary_key.columns)
            self._cache.tables.setdefault(table.name, {})[row_key] = (int(version), value)

    def _forget(self, table: sa.Table, key: dict[str, Any]) -> None:
        if self._cache is not None:
            row_key = tuple(key[column.name] for column in table.primary_key.columns)
            self._cache.tables.get(table.name, {}).pop(row_key, None)

    async def traces(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        result = await self.session.execute(
            sa.select(alerts.c.dedup_key, alerts.c.trace).where(alerts.c.dedup_key.in_(wanted))
        )
        return {row.dedup_key: dict(row.trace) for row in result if row.trace}

    async def firing(self) -> list[AlertState]:
        """The alerts firing now, most recent first (for the API)."""
        result = await self.session.execute(
            sa.select(alerts.c.state).where(alerts.c.status == "firing")
        )
        found = [from_document(AlertState, row.state) for row in result]
        return sorted(found, key=lambda tracked: tracked.last_raised_at, reverse=True)
