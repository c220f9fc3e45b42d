"""What people configure over HTTP, kept in the notifier's database: channels, rules,
silences and inhibitions, read and written here, and loaded whole for the engine.

A rule or an inhibition is kept as the document its request carried (JSONB) and turned
into the domain's value on load, so what the API answers is what was given.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.notifier.channels import ChannelSpec, ChannelType
from stockwire.notifier.domain.inhibition import Inhibition
from stockwire.notifier.domain.matching import Matcher
from stockwire.notifier.domain.rate_limits import RateLimit
from stockwire.notifier.domain.rules import Rule
from stockwire.notifier.domain.silences import Silence
from stockwire.notifier.schemas import InhibitionIn, RuleIn
from stockwire.notifier.tables import channels, inhibitions, rules, silences


@dataclass(frozen=True)
class Channel:
    """A channel as kept: where it sends, its limit and its fallback."""

    spec: ChannelSpec
    rate_limit: RateLimit | None
    fallback: str | None
    version: int


@dataclass(frozen=True)
class StoredRule:
    rule: Rule
    definition: RuleIn
    version: int


@dataclass(frozen=True)
class StoredInhibition:
    inhibition: Inhibition
    definition: InhibitionIn


@dataclass(frozen=True)
class Loaded:
    """Everything the engine needs to decide, as of one moment."""

    channels: dict[str, Channel]
    rules: list[Rule]
    silences: list[Silence]
    inhibitions: list[Inhibition]


def matchers_of(documents: Sequence[dict[str, Any]]) -> tuple[Matcher, ...]:
    return tuple(
        Matcher(item["attribute"], frozenset(item["values"]), bool(item.get("negate", False)))
        for item in documents
    )


def _channel(row: Any) -> Channel:
    limit = None
    if row.rate_limit_messages is not None and row.rate_limit_per_s is not None:
        limit = RateLimit(row.rate_limit_messages, timedelta(seconds=row.rate_limit_per_s))
    return Channel(
        spec=ChannelSpec(
            name=row.name,
            type=ChannelType(row.type),
            url=row.url,
            url_env=row.url_env,
            url_file=row.url_file,
            recipients=tuple(row.recipients),
        ),
        rate_limit=limit,
        fallback=row.fallback,
        version=row.version,
    )


def _rule(row: Any) -> StoredRule:
    definition = RuleIn.model_validate(row.definition)
    return StoredRule(definition.domain(row.rule_id), definition, row.version)


def _silence(row: Any) -> Silence:
    return Silence(
        silence_id=row.silence_id,
        matchers=matchers_of(row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
        comment=row.comment,
    )


def _inhibition(row: Any) -> StoredInhibition:
    definition = InhibitionIn.model_validate(row.definition)
    return StoredInhibition(
        Inhibition(
            inhibition_id=row.inhibition_id,
            source=tuple(m.domain() for m in definition.source),
            target=tuple(m.domain() for m in definition.target),
            equal=tuple(definition.equal),
        ),
        definition,
    )


class ConfigurationRepository:
    """Reads and writes the configuration tables in the caller's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, now: datetime) -> Loaded:
        return Loaded(
            channels={channel.spec.name: channel for channel in await self.channels()},
            rules=[stored.rule for stored in await self.rules()],
            silences=await self.silences(active_at=now),
            inhibitions=[stored.inhibition for stored in await self.inhibitions()],
        )

    # ---------------------------------------------------------------- channels

    async def channels(self) -> list[Channel]:
        result = await self.session.execute(sa.select(channels).order_by(channels.c.name))
        return [_channel(row) for row in result]

    async def channels_named(self, names: Iterable[str]) -> dict[str, Channel]:
        wanted = sorted(set(names))
        if not wanted:
            return {}
        result = await self.session.execute(sa.select(channels).where(channels.c.name.in_(wanted)))
        return {row.name: _channel(row) for row in result}

    async def channel(self, name: str) -> Channel | None:
        row = (
            await self.session.execute(sa.select(channels).where(channels.c.name == name))
        ).one_or_none()
        return _channel(row) if row else None

    async def put_channel(
        self, spec: ChannelSpec, rate_limit: RateLimit | None, fallback: str | None
    ) -> Channel:
        values = {
            "type": spec.type.value,
            "url": spec.url,
            "url_env": spec.url_env,
            "url_file": spec.url_file,
            "recipients": list(spec.recipients),
            "rate_limit_messages": rate_limit.messages if rate_limit else None,
            "rate_limit_per_s": int(rate_limit.per.total_seconds()) if rate_limit else None,
            "fallback": fallback,
        }
        statement = (
            insert(channels)
            .values(name=spec.name, version=1, **values)
            .on_conflict_do_update(
                index_elements=[channels.c.name],
                set_={**values, "version": channels.c.version + 1, "updated_at": sa.func.now()},
            )
            .returning(channels)
        )
        return _channel((await self.session.execute(statement)).one())

    async def delete_channel(self, name: str) -> bool:
        result = await self.session.execute(
            sa.delete(channels).where(channels.c.name == name).returning(channels.c.name)
        )
        return result.first() is not None

    # ---------------------------------------------------------------- rules

    async def rules(self) -> list[StoredRule]:
        result = await self.session.execute(
            sa.select(rules).order_by(rules.c.position, rules.c.rule_id)
        )
        return [_rule(row) for row in result]

    async def rule(self, rule_id: uuid.UUID) -> StoredRule | None:
        row = (
            await self.session.execute(sa.select(rules).where(rules.c.rule_id == rule_id))
        ).one_or_none()
        return _rule(row) if row else None

    async def rule_named(self, name: str) -> uuid.UUID | None:
        found: uuid.UUID | None = await self.session.scalar(
            sa.select(rules.c.rule_id).where(rules.c.name == name)
        )
        return found

    async def put_rule(self, rule_id: uuid.UUID, definition: RuleIn) -> StoredRule:
        document = definition.model_dump(mode="json")
        values = {"name": definition.name, "position": definition.position, "definition": document}
        statement = (
            insert(rules)
            .values(rule_id=rule_id, version=1, **values)
            .on_conflict_do_update(
                index_elements=[rules.c.rule_id],
                set_={**values, "version": rules.c.version + 1, "updated_at": sa.func.now()},
            )
            .returning(rules)
        )
        return _rule((await self.session.execute(statement)).one())

    async def delete_rule(self, rule_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            sa.delete(rules).where(rules.c.rule_id == rule_id).returning(rules.c.rule_id)
        )
        return result.first() is not None

    async def rules_naming(self, channel: str) -> list[str]:
        """The names of the rules that send to ``channel`` (directly or by escalation)."""
        return [
            stored.rule.name
            for stored in await self.rules()
            if channel in stored.rule.channels
            or any(channel in step.channels for step in stored.rule.escalation)
        ]

    # ---------------------------------------------------------------- silences

    async def silences(self, active_at: datetime | None = None) -> list[Silence]:
        query = sa.select(silences).order_by(silences.c.ends_at, silences.c.silence_id)
        if active_at is not None:
            query = query.where(silences.c.starts_at <= active_at, silences.c.ends_at > active_at)
        return [_silence(row) for row in await self.session.execute(query)]

    async def silence(self, silence_id: uuid.UUID) -> Silence | None:
        row = (
            await self.session.execute(
                sa.select(silences).where(silences.c.silence_id == silence_id)
            )
        ).one_or_none()
        return _silence(row) if row else None

    async def add_silence(self, silence: Silence) -> None:
        await self.session.execute(
            sa.insert(silences).values(
                silence_id=silence.silence_id,
                matchers=[
                    {"attribute": m.attribute, "values": sorted(m.values), "negate": m.negate}
                    for m in silence.matchers
                ],
                starts_at=silence.starts_at,
                ends_at=silence.ends_at,
                created_by=silence.created_by,
                comment=silence.comment,
            )
        )

    async def expire_silence(self, silence_id: uuid.UUID, now: datetime) -> Silence | None:
        """End a silence now (one that already ended keeps its end); None if unknown."""
        row = (
            await self.session.execute(
                sa.update(silences)
                .where(silences.c.silence_id == silence_id)
                .values(ends_at=sa.func.least(silences.c.ends_at, now))
                .returning(silences)
            )
        ).one_or_none()
        return _silence(row) if row else None

    # ---------------------------------------------------------------- inhibitions

    async def inhibitions(self) -> list[StoredInhibition]:
        result = await self.session.execute(sa.select(inhibitions).order_by(inhibitions.c.name))
        return [_inhibition(row) for row in result]

    async def add_inhibition(self, inhibition_id: uuid.UUID, definition: InhibitionIn) -> None:
        await self.session.execute(
            sa.insert(inhibitions).values(
                inhibition_id=inhibition_id,
                name=definition.name,
                definition=definition.model_dump(mode="json"),
            )
        )

    async def inhibition_named(self, name: str) -> bool:
        found = await self.session.scalar(
            sa.select(inhibitions.c.inhibition_id).where(inhibitions.c.name == name)
        )
        return found is not None

    async def delete_inhibition(self, inhibition_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            sa.delete(inhibitions)
            .where(inhibitions.c.inhibition_id == inhibition_id)
            .returning(inhibitions.c.inhibition_id)
        )
        return result.first() is not None
