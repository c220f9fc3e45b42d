"""The engine's state in PostgreSQL: taken under one lock, saved by the keys a call
changed, and kept in memory between the transactions of one process.

The state is what is active: alerts firing or recently resolved, their groups, open
digests and channels with overflow. Every transaction that works on it (a batch of
alerts, a tick, an acknowledgement) first takes one transaction-scoped advisory lock, so
instances and tasks take turns and each sees the state its predecessor committed.

Loading the state whole costs in proportion to it (thousands of alerts in a storm), so a
process keeps the state it last saved, with the random token it wrote beside it
(``state_token``). The next transaction, holding the lock, reads the token: unchanged, no
one else wrote since and the kept state is the committed one; changed (another instance
wrote, or this process's own transaction rolled back), the state is loaded again. Every
row keeps the moment the ticker must next look at it (``due_at``), so a tick loads
nothing unless something is due.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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
from stockwire.notifier.tables import (
    alert_groups,
    alerts,
    channel_windows,
    digests,
    state_token,
)

STATE_LOCK = 0x5717E_A1E57
"""The advisory lock every transaction on the engine's state takes first."""

Due = Callable[[NotifierState], datetime | None]
"""When the ticker must look at the state (the dispatcher's ``next_wakeup``)."""


@dataclass
class KeptState:
    """The state this process last saved, and the token it wrote with it; empty while a
    transaction works on it (if that one fails, the next loads afresh)."""

    state: NotifierState | None = None
    token: uuid.UUID | None = None


class StateRepository:
    def __init__(self, session: AsyncSession, kept: KeptState | None = None) -> None:
        self.session = session
        self._kept = kept or KeptState()

    async def take(self) -> NotifierState:
        """Lock the state and return it, as committed: the kept one if still current."""
        await self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(STATE_LOCK)))
        token = await self.session.scalar(sa.select(state_token.c.token))
        kept, self._kept.state = self._kept.state, None
        if kept is not None and token is not None and token == self._kept.token:
            return kept
        return await self.load()

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
        """Write what ``changes`` names (the rows still in ``state``; the others deleted)
        and a new token, and keep ``state`` as the one that token names. ``traces`` are
        the trace contexts of alerts raised now: their messages, sent now or from a later
        tick, continue them."""
        kept, gone = _split(changes.alerts, state.alerts)
        await self._delete(alerts, [(key,) for key in gone])
        rows = [
            {
                "dedup_key": key,
                "status": tracked.status,
                "kind": tracked.alert.kind,
                "severity": tracked.alert.severity.value,
                "state": to_document(tracked),
                "due_at": due(NotifierState(alerts={key: tracked})),
                "trace": dict(traces.get(key, {})),
            }
            for key, tracked in kept
        ]
        traced = [row for row in rows if row["dedup_key"] in traces]
        untraced = [row for row in rows if row["dedup_key"] not in traces]
        columns = ["status", "kind", "severity", "state", "due_at"]
        await self._upsert(alerts, traced, [*columns, "trace"])
        await self._upsert(alerts, untraced, columns)

        groups, gone_groups = _split(changes.groups, state.groups)
        await self._delete(alert_groups, [(uuid.UUID(r), g) for r, g in gone_groups])
        await self._upsert(
            alert_groups,
            [
                {
                    "rule_id": uuid.UUID(rule_id),
                    "group_key": group_key,
                    "state": to_document(group),
                    "due_at": due(NotifierState(groups={(rule_id, group_key): group})),
                }
                for (rule_id, group_key), group in groups
            ],
            ["state", "due_at"],
        )
        open_digests, gone_digests = _split(changes.digests, state.digests)
        await self._delete(digests, [(uuid.UUID(r), k) for r, k in gone_digests])
        await self._upsert(
            digests,
            [
                {
                    "rule_id": uuid.UUID(rule_id),
                    "kind": kind,
                    "state": to_document(digest),
                    "due_at": due(NotifierState(digests={(rule_id, kind): digest})),
                }
                for (rule_id, kind), digest in open_digests
            ],
            ["state", "due_at"],
        )
        windows, gone_windows = _split(changes.channels, state.channels)
        await self._delete(channel_windows, [(name,) for name in gone_windows])
        await self._upsert(
            channel_windows,
            [
                {
                    "channel": name,
                    "state": to_document(channel),
                    "due_at": due(NotifierState(channels={name: channel})),
                }
                for name, channel in windows
            ],
            ["state", "due_at"],
        )
        token = uuid.uuid4()
        statement = insert(state_token).values(id=1, token=token)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["id"], set_={"token": token})
        )
        self._kept.state, self._kept.token = state, token

    async def _delete(self, table: sa.Table, keys: list[tuple[Any, ...]]) -> None:
        if keys:
            columns = sa.tuple_(*table.primary_key.columns)
            await self.session.execute(sa.delete(table).where(columns.in_(keys)))

    async def _upsert(self, table: sa.Table, rows: list[dict[str, Any]], update: list[str]) -> None:
        """Insert ``rows`` or update their ``update`` columns, in one statement."""
        if not rows:
            return
        statement = insert(table)
        keys = [column.name for column in table.primary_key.columns]
        changes: dict[str, Any] = {name: statement.excluded[name] for name in update}
        if "updated_at" in table.c:
            changes["updated_at"] = sa.func.now()
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=keys, set_=changes), rows
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


K = TypeVar("K", str, tuple[str, str])
V = TypeVar("V")


def _split(keys: Iterable[K], present: Mapping[K, V]) -> tuple[list[tuple[K, V]], list[K]]:
    """The changed keys still present (with their values), and those gone, both sorted (so
    concurrent writers lock rows in one order)."""
    ordered = sorted(keys)
    return (
        [(key, present[key]) for key in ordered if key in present],
        [key for key in ordered if key not in present],
    )
