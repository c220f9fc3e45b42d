"""The engine's state in PostgreSQL: loaded whole under one lock, saved by the keys a call
changed.

The state is what is active: alerts firing or recently resolved, their groups, open
digests and channels with overflow. Every transaction that works on it (a batch of
alerts, a tick, an acknowledgement) first takes one transaction-scoped advisory lock, so
instances and tasks take turns and each sees the state its predecessor committed. Every
row keeps the moment the ticker must next look at it (``due_at``), so a tick loads the
state only when something is due.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

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


class StateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        await self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(STATE_LOCK)))

    async def load(self) -> NotifierState:
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

    async def wake_held(self, reason: str, now: datetime) -> None:
        """Make the ticker look at once at the firing alerts held for ``reason``: what held
        them (a silence, an inhibition or its source) ended before the moment their rows
        were due, which only foresaw the silence running to its end."""
        await self.session.execute(
            sa.update(alerts)
            .where(alerts.c.status == "firing", alerts.c.state["held"].astext == reason)
            .values(due_at=sa.func.least(sa.func.coalesce(alerts.c.due_at, now), now))
        )

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
            return
        await self._upsert(table, where, {"state": to_document(value), "due_at": due_at})

    async def _upsert(self, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        statement = insert(table).values(**key, **values)
        if table is alerts and "trace" not in values:
            statement = insert(table).values(**key, **values, trace={})
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=list(key), set_=values)
        )

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
