"""HTTP routes: channels, rules, silences, inhibitions, firing alerts and their
acknowledgement (with a token, or by the signed link in a message), the delivery log, the
dry run and the test send. Each route parses, calls one handler, and answers."""

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from stockwire.contracts.notifier import AcknowledgedVia
from stockwire.notifier import handlers
from stockwire.notifier.channels import ChannelSpec, ChannelType, masked
from stockwire.notifier.configuration import Channel, StoredInhibition, StoredRule
from stockwire.notifier.domain.rate_limits import RateLimit
from stockwire.notifier.domain.silences import Silence
from stockwire.notifier.handlers import Messenger, UnitOfWorkFactory
from stockwire.notifier.links import AckLinks
from stockwire.notifier.schemas import (
    ChannelIn,
    ChannelName,
    ChannelOut,
    ChannelPage,
    DryRunOut,
    DryRunRuleOut,
    ExampleAlertIn,
    InhibitionIn,
    InhibitionOut,
    InhibitionPage,
    MatcherIn,
    RateLimitIn,
    RuleIn,
    RuleOut,
    RulePage,
    SilenceIn,
    SilenceOut,
    SilencePage,
)
from stockwire.notifier.state import StateRepository
from stockwire.notifier.tables import acknowledgements, deliveries, delivery_attempts
from stockwire.runtime.auth import require_scope
from stockwire.runtime.domain_errors import Invalid, NotFound
from stockwire.runtime.http.bodies import Body
from stockwire.runtime.http.pages import DEFAULT_LIMIT, MAX_LIMIT
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.query import QueryParams
from stockwire.runtime.http.text import NO_NUL

READ = [Depends(require_scope("read"))]
WRITE = [Depends(require_scope("write"))]
ERRORS = error_responses(401, 403, 404, 422)


def channel_out(channel: Channel) -> ChannelOut:
    limit = channel.rate_limit
    return ChannelOut(
        name=channel.spec.name,
        type=channel.spec.type.value,
        target=masked(channel.spec),
        recipients=list(channel.spec.recipients),
        rate_limit=RateLimitIn(messages=limit.messages, per_s=int(limit.per.total_seconds()))
        if limit
        else None,
        fallback=channel.fallback,
        version=channel.version,
    )


def rule_out(stored: StoredRule) -> RuleOut:
    return RuleOut(
        **stored.definition.model_dump(), rule_id=stored.rule.rule_id, version=stored.version
    )


def silence_out(silence: Silence, now: datetime) -> SilenceOut:
    return SilenceOut(
        silence_id=silence.silence_id,
        matchers=[
            MatcherIn(attribute=m.attribute, values=sorted(m.values), negate=m.negate)
            for m in silence.matchers
        ],
        starts_at=silence.starts_at,
        ends_at=silence.ends_at,
        created_by=silence.created_by,
        comment=silence.comment,
        active=silence.active(now),
    )


def inhibition_out(stored: StoredInhibition) -> InhibitionOut:
    return InhibitionOut(
        **stored.definition.model_dump(), inhibition_id=stored.inhibition.inhibition_id
    )


def configuration_router(new_uow: UnitOfWorkFactory, messenger: Messenger) -> APIRouter:
    router = APIRouter(responses=ERRORS)

    @router.get("/channels", tags=["channels"], dependencies=READ, summary="Every channel")
    async def list_channels() -> ChannelPage:
        async with new_uow() as uow:
            return ChannelPage(items=[channel_out(c) for c in await uow.configuration.channels()])

    @router.get("/channels/{name}", tags=["channels"], dependencies=READ, summary="One channel")
    async def get_channel(name: ChannelName) -> ChannelOut:
        async with new_uow() as uow:
            channel = await uow.configuration.channel(name)
        if channel is None:
            raise NotFound("channel", name)
        return channel_out(channel)

    @router.put(
        "/channels/{name}",
        tags=["channels"],
        dependencies=WRITE,
        summary="Create or replace a channel (its secrets are masked in every answer)",
    )
    async def put_channel(name: ChannelName, body: ChannelIn) -> ChannelOut:
        spec = ChannelSpec(
            name=name,
            type=ChannelType(body.type),
            url=body.url,
            url_env=body.url_env,
            url_file=body.url_file,
            recipients=tuple(body.recipients),
        )
        limit = (
            RateLimit(body.rate_limit.messages, timedelta(seconds=body.rate_limit.per_s))
            if body.rate_limit
            else None
        )
        references = messenger.references()
        channel = await handlers.put_channel(spec, limit, body.fallback, new_uow(), references)
        return channel_out(channel)

    @router.delete(
        "/channels/{name}",
        tags=["channels"],
        status_code=204,
        dependencies=WRITE,
        responses=error_responses(409),
        summary="Delete a channel no rule sends to",
    )
    async def delete_channel(name: ChannelName) -> None:
        await handlers.delete_channel(name, new_uow())

    @router.post(
        "/channels/{name}/test",
        tags=["channels"],
        dependencies=WRITE,
        summary="Send a test message now, and say how it went",
    )
    async def test_channel(name: ChannelName, body: ExampleAlertIn) -> "TestSendOut":
        uow = new_uow()
        result = await handlers.test_send(name, uow, messenger, body.domain(uow.now()))
        return TestSendOut(ok=result.ok, error=result.error, latency_ms=result.latency_ms)

    @router.get("/rules", tags=["rules"], dependencies=READ, summary="Every rule, in order")
    async def list_rules() -> RulePage:
        async with new_uow() as uow:
            return RulePage(items=[rule_out(r) for r in await uow.configuration.rules()])

    @router.post(
        "/rules",
        tags=["rules"],
        status_code=201,
        dependencies=WRITE,
        responses=error_responses(409),
        summary="Add a routing rule",
    )
    async def add_rule(body: RuleIn) -> RuleOut:
        return rule_out(await handlers.put_rule(uuid.uuid4(), body, new_uow()))

    @router.post(
        "/dry-run",
        tags=["rules"],
        dependencies=READ,
        summary="Which rules and channels an example alert would reach, and what would happen",
    )
    async def dry_run(body: ExampleAlertIn) -> DryRunOut:
        uow = new_uow()
        run = await handlers.dry_run(body.domain(uow.now()), uow, messenger)
        return DryRunOut(
            rules=[
                DryRunRuleOut(
                    rule_id=d.rule_id,
                    name=d.name,
                    channels=list(d.channels),
                    outcome=d.action + (" (escalates if unacknowledged)" if d.escalates else ""),
                )
                for d in run.decisions
            ],
            suppressed=run.suppressed.reason if run.suppressed else None,
        )

    @router.get("/rules/{rule_id}", tags=["rules"], dependencies=READ, summary="One rule")
    async def get_rule(rule_id: uuid.UUID) -> RuleOut:
        async with new_uow() as uow:
            stored = await uow.configuration.rule(rule_id)
        if stored is None:
            raise NotFound("rule", str(rule_id))
        return rule_out(stored)

    @router.put(
        "/rules/{rule_id}",
        tags=["rules"],
        dependencies=WRITE,
        responses=error_responses(409),
        summary="Replace a rule",
    )
    async def put_rule(rule_id: uuid.UUID, body: RuleIn) -> RuleOut:
        async with new_uow() as uow:
            exists = await uow.configuration.rule(rule_id) is not None
        if not exists:
            raise NotFound("rule", str(rule_id))
        return rule_out(await handlers.put_rule(rule_id, body, new_uow()))

    @router.delete(
        "/rules/{rule_id}", tags=["rules"], status_code=204, dependencies=WRITE, summary="Delete"
    )
    async def delete_rule(rule_id: uuid.UUID) -> None:
        await handlers.delete_rule(rule_id, new_uow())

    @router.get("/silences", tags=["silences"], dependencies=READ, summary="Every silence")
    async def list_silences() -> SilencePage:
        async with new_uow() as uow:
            now = uow.now()
            return SilencePage(
                items=[silence_out(s, now) for s in await uow.configuration.silences()]
            )

    @router.post(
        "/silences",
        tags=["silences"],
        status_code=201,
        dependencies=WRITE,
        summary="Mute matching alerts until ends_at",
    )
    async def add_silence(body: SilenceIn) -> SilenceOut:
        uow = new_uow()
        now = uow.now()
        if body.ends_at.tzinfo is None or (body.starts_at and body.starts_at.tzinfo is None):
            raise Invalid("ends_at", "times need a zone, e.g. 2026-12-02T18:00:00Z")
        silence = body.domain(uuid.uuid4(), now)
        if silence.ends_at <= now:
            raise Invalid("ends_at", "must be in the future")
        await handlers.add_silence(silence, uow)
        return silence_out(silence, now)

    @router.delete(
        "/silences/{silence_id}",
        tags=["silences"],
        dependencies=WRITE,
        summary="End a silence now",
    )
    async def expire_silence(silence_id: uuid.UUID) -> SilenceOut:
        uow = new_uow()
        silence = await handlers.expire_silence(silence_id, uow)
        return silence_out(silence, uow.now())

    @router.get("/inhibitions", tags=["inhibitions"], dependencies=READ, summary="Every one")
    async def list_inhibitions() -> InhibitionPage:
        async with new_uow() as uow:
            return InhibitionPage(
                items=[inhibition_out(i) for i in await uow.configuration.inhibitions()]
            )

    @router.post(
        "/inhibitions",
        tags=["inhibitions"],
        status_code=201,
        dependencies=WRITE,
        responses=error_responses(409),
        summary="Add an inhibition",
    )
    async def add_inhibition(body: InhibitionIn) -> InhibitionOut:
        return inhibition_out(await handlers.add_inhibition(uuid.uuid4(), body, new_uow()))

    @router.delete(
        "/inhibitions/{inhibition_id}",
        tags=["inhibitions"],
        status_code=204,
        dependencies=WRITE,
        summary="Delete an inhibition",
    )
    async def delete_inhibition(inhibition_id: uuid.UUID) -> None:
        await handlers.delete_inhibition(inhibition_id, new_uow())

    return router


class TestSendOut(BaseModel):
    ok: bool
    error: str | None
    latency_ms: float


class FiringAlertOut(BaseModel):
    dedup_key: str
    kind: str
    severity: str
    summary: str
    producer: str | None
    location: str | None
    sku: str | None
    first_raised_at: datetime
    last_raised_at: datetime
    occurrences: int
    held: str | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class FiringAlertPage(BaseModel):
    items: list[FiringAlertOut]


class AckIn(Body):
    acknowledged_by: Annotated[str, Field(min_length=1, max_length=128, pattern=NO_NUL)]
    note: Annotated[str, Field(max_length=500, pattern=NO_NUL)] | None = None


class AckOut(BaseModel):
    dedup_key: str
    acknowledged_by: str = Field(description="Who acknowledged it first.")


DedupKeyPath = Annotated[str, Path(min_length=1, max_length=256, pattern=NO_NUL)]


def alerts_router(new_uow: UnitOfWorkFactory, messenger: Messenger) -> APIRouter:
    router = APIRouter(prefix="/alerts", tags=["alerts"], responses=ERRORS)

    @router.get("", dependencies=READ, summary="The alerts firing now")
    async def firing() -> FiringAlertPage:
        async with new_uow() as uow:
            found = await StateRepository(uow.session).firing()
        return FiringAlertPage(
            items=[
                FiringAlertOut(
                    dedup_key=t.alert.dedup_key,
                    kind=t.alert.kind,
                    severity=t.alert.severity.value,
                    summary=t.alert.summary,
                    producer=t.alert.producer,
                    location=t.alert.location,
                    sku=t.alert.sku,
                    first_raised_at=t.first_raised_at,
                    last_raised_at=t.last_raised_at,
                    occurrences=t.occurrences,
                    held=t.held,
                    acknowledged_by=t.acknowledged_by,
                    acknowledged_at=t.acknowledged_at,
                )
                for t in found
            ]
        )

    @router.post(
        "/{dedup_key}/ack",
        dependencies=WRITE,
        responses=error_responses(409),
        summary="Acknowledge a firing alert: its escalation stops (a second acknowledgement "
        "keeps the first, and answers its name)",
    )
    async def acknowledge(dedup_key: DedupKeyPath, body: AckIn) -> AckOut:
        by = await handlers.acknowledge(
            dedup_key, body.acknowledged_by, AcknowledgedVia.API, body.note, new_uow(), messenger
        )
        return AckOut(dedup_key=dedup_key, acknowledged_by=by)

    return router


def ack_link_router(
    new_uow: UnitOfWorkFactory, messenger: Messenger, links: AckLinks | None
) -> APIRouter:
    """The signed link in a message: no token, it grants acknowledging one alert."""
    router = APIRouter(tags=["alerts"], responses=error_responses(404, 409, 422))

    @router.get(
        "/ack/{token}",
        summary="Acknowledge the alert a signed link names (the link in a message)",
    )
    async def acknowledge_by_link(
        token: Annotated[str, Path(min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9_.=-]+$")],
    ) -> AckOut:
        if links is None:
            raise Invalid("token", "acknowledge links are switched off here")
        uow = new_uow()
        dedup_key = links.verify(token, uow.now())
        via = AcknowledgedVia.LINK
        by = await handlers.acknowledge(dedup_key, "link", via, None, uow, messenger)
        return AckOut(dedup_key=dedup_key, acknowledged_by=by)

    return router


class AcknowledgementOut(BaseModel):
    dedup_key: str
    acknowledged_by: str
    acknowledged_at: datetime
    via: AcknowledgedVia
    note: str | None


class AcknowledgementPage(BaseModel):
    items: list[AcknowledgementOut]


class AcknowledgementParams(QueryParams):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many.")
    dedup_key: Annotated[str, Field(min_length=1, max_length=256, pattern=NO_NUL)] | None = None


def acknowledgements_router(engine: AsyncEngine) -> APIRouter:
    router = APIRouter(prefix="/acknowledgements", tags=["alerts"], responses=ERRORS)

    @router.get("", dependencies=READ, summary="Who acknowledged which alert, newest first")
    async def find(params: Annotated[AcknowledgementParams, Query()]) -> AcknowledgementPage:
        query = (
            sa.select(acknowledgements)
            .order_by(acknowledgements.c.acknowledged_at.desc())
            .limit(params.limit)
        )
        if params.dedup_key:
            query = query.where(acknowledgements.c.dedup_key == params.dedup_key)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return AcknowledgementPage(
            items=[AcknowledgementOut.model_validate(dict(row)) for row in rows]
        )

    return router


class DeliveryOut(BaseModel):
    delivery_id: uuid.UUID
    channel: str
    purpose: str
    status: Literal["pending", "sent", "dead"]
    attempts: int
    title: str
    dedup_keys: list[str]
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime
    last_error: str | None


class AttemptOut(BaseModel):
    attempt: int
    started_at: datetime
    ok: bool
    error: str | None
    latency_ms: float


class DeliveryDetailOut(DeliveryOut):
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]


class DeliveryParams(QueryParams):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many.")
    status: Literal["pending", "sent", "dead"] | None = None
    channel: ChannelName | None = None


def deliveries_router(engine: AsyncEngine) -> APIRouter:
    router = APIRouter(prefix="/deliveries", tags=["deliveries"], responses=ERRORS)
    columns = [deliveries.c[name] for name in DeliveryOut.model_fields]

    @router.get("", dependencies=READ, summary="The delivery log, newest first")
    async def find(params: Annotated[DeliveryParams, Query()]) -> DeliveryPage:
        query = sa.select(*columns).order_by(deliveries.c.created_at.desc()).limit(params.limit)
        if params.status:
            query = query.where(deliveries.c.status == params.status)
        if params.channel:
            query = query.where(deliveries.c.channel == params.channel)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return DeliveryPage(items=[DeliveryOut.model_validate(dict(row)) for row in rows])

    @router.get("/{delivery_id}", dependencies=READ, summary="One delivery and every attempt")
    async def get(delivery_id: uuid.UUID) -> DeliveryDetailOut:
        async with engine.connect() as connection:
            row = (
                (
                    await connection.execute(
                        sa.select(*columns).where(deliveries.c.delivery_id == delivery_id)
                    )
                )
                .mappings()
                .one_or_none()
            )
            if row is None:
                raise NotFound("delivery", str(delivery_id))
            attempts = (
                await connection.execute(
                    sa.select(delivery_attempts)
                    .where(delivery_attempts.c.delivery_id == delivery_id)
                    .order_by(delivery_attempts.c.attempt)
                )
            ).mappings()
            log: list[dict[str, Any]] = [dict(a) for a in attempts]
        return DeliveryDetailOut(
            **dict(row), attempt_log=[AttemptOut.model_validate(a) for a in log]
        )

    return router
