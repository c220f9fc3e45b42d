"""Use cases: alerts raised and resolved, the clock's tick, acknowledgements, the dry run,
the test send, and the configuration people manage.

Every use case that works on the engine's state takes the state lock, loads the
configuration and the state, asks the :class:`~.domain.dispatcher.Dispatcher`, saves the
keys it changed and writes the messages it decided as pending deliveries, all in one
transaction. The delivery worker sends them after the commit.
"""

import copy
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from stockwire.contracts.notifier import AcknowledgedVia, AlertAcknowledged
from stockwire.notifier.channels import (
    CHANNEL_ENV_PREFIX,
    ChannelSpec,
    References,
    SendResult,
    SmtpConfig,
    render_for,
    send,
    validate_target,
)
from stockwire.notifier.configuration import Channel, Loaded, StoredInhibition, StoredRule
from stockwire.notifier.deliveries import DEAD_LETTER, Claimed, Outgoing, enqueue
from stockwire.notifier.domain.alerts import Alert, Resolution
from stockwire.notifier.domain.dispatcher import Configuration, Dispatcher, DryRun, Outcome
from stockwire.notifier.domain.flapping import FlapPolicy
from stockwire.notifier.domain.messages import Message
from stockwire.notifier.domain.rate_limits import RateLimit
from stockwire.notifier.domain.silences import Silence
from stockwire.notifier.domain.state import Changes, NotifierState
from stockwire.notifier.domain.tracking import AlertState
from stockwire.notifier.links import AckLinks
from stockwire.notifier.rendering import RenderAlert, RenderRequest
from stockwire.notifier.schemas import InhibitionIn, RuleIn
from stockwire.notifier.settings import NotifierSettings
from stockwire.notifier.tables import acknowledgements
from stockwire.notifier.unit_of_work import NotifierUnitOfWork
from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound

log = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[[], NotifierUnitOfWork]


@dataclass(frozen=True)
class Incoming:
    """An alert or a resolution as read from an alert topic, with the trace it continues."""

    item: Alert | Resolution
    trace: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Messenger:
    """Turns the engine's messages into rendered deliveries, and sends one."""

    settings: NotifierSettings
    links: AckLinks | None

    def engine_configuration(self, loaded: Loaded) -> Configuration:
        limits: dict[str, RateLimit] = {
            name: channel.rate_limit
            for name, channel in loaded.channels.items()
            if channel.rate_limit is not None
        }
        return Configuration(
            rules=tuple(loaded.rules),
            silences=tuple(loaded.silences),
            inhibitions=tuple(loaded.inhibitions),
            rate_limits=limits,
            flap=FlapPolicy(
                timedelta(seconds=self.settings.notifier_flap_window_s),
                self.settings.notifier_flap_max_changes,
            ),
        )

    def outgoing(
        self,
        message: Message,
        channels: Mapping[str, Channel],
        rule_names: Mapping[uuid.UUID, str],
        traces: Mapping[str, Mapping[str, str]],
        now: datetime,
    ) -> Outgoing | None:
        channel = channels.get(message.channel)
        if channel is None:
            log.error(
                "a %s message for %s names channel %r, which no longer exists; not sent",
                message.purpose,
                ", ".join(alert.dedup_key for alert in message.alerts),
                message.channel,
            )
            return None
        first = message.alerts[0] if message.alerts else None
        ack_url = None
        if (
            self.links is not None
            and first is not None
            and len(message.alerts) == 1
            and message.purpose in ("alert", "escalation", "group")
        ):
            ack_url = self.links.url(first.dedup_key, now)
        note = None
        if message.resolutions:
            note = "; ".join(resolution.summary for resolution in message.resolutions)
        elif message.step is not None:
            note = f"escalation step {message.step}: not acknowledged yet"
        request = RenderRequest(
            purpose=message.purpose,
            alerts=[render_alert(alert) for alert in message.alerts],
            ack_url=ack_url,
            rule_name=rule_names.get(message.rule_id) if message.rule_id else None,
            note=note,
        )
        trace = next(
            (
                dict(traces[alert.dedup_key])
                for alert in message.alerts
                if alert.dedup_key in traces
            ),
            {},
        )
        return Outgoing(
            channel=message.channel,
            purpose=message.purpose,
            rendered=render_for(channel.spec.type, request),
            recipients=message.recipients,
            dedup_keys=tuple(alert.dedup_key for alert in message.alerts),
            rule_id=message.rule_id,
            thread_key=message.thread_key,
            trace=trace,
        )

    def smtp(self) -> SmtpConfig:
        s = self.settings
        return SmtpConfig(
            host=s.notifier_smtp_host,
            port=s.notifier_smtp_port,
            sender=s.notifier_smtp_sender,
            username=s.notifier_smtp_username,
            password=s.notifier_smtp_password,
            starttls=s.notifier_smtp_starttls,
            use_tls=s.notifier_smtp_tls,
            timeout=s.notifier_send_timeout_s,
        )

    async def send(self, delivery: Claimed) -> SendResult:
        """One attempt at ``delivery``, on its channel as claimed."""
        if delivery.spec is None:
            return SendResult(False, f"channel {delivery.channel!r} no longer exists", 0.0)
        return await send(
            delivery.spec,
            delivery.rendered,
            delivery.recipients,
            self.smtp(),
            delivery.thread_ref,
            references=self.references(),
            timeout_s=self.settings.notifier_send_timeout_s,
        )

    def references(self) -> References:
        return References(CHANNEL_ENV_PREFIX, Path(self.settings.notifier_channel_files_dir))


def render_alert(alert: Alert) -> RenderAlert:
    return RenderAlert(
        dedup_key=alert.dedup_key,
        kind=alert.kind,
        severity=alert.severity.value,
        summary=alert.summary,
        raised_at=alert.raised_at,
        location=alert.location,
        region=alert.region,
        sku=alert.sku,
        category=alert.category,
        labels=alert.labels,
        figures=alert.figures,
        link=alert.link,
    )


async def _decide(
    uow: NotifierUnitOfWork,
    messenger: Messenger,
    work: Callable[[Dispatcher, NotifierState], Sequence[Outcome]],
    traces: Mapping[str, Mapping[str, str]] | None = None,
) -> int:
    """Lock, load, let ``work`` ask the dispatcher, save and enqueue; the deliveries."""
    now = uow.now()
    state = await uow.state.take()
    loaded = await uow.configuration.load(now)
    dispatcher = Dispatcher(messenger.engine_configuration(loaded), now)
    outcomes = work(dispatcher, state)
    changes = Changes()
    for outcome in outcomes:
        changes.alerts |= outcome.changes.alerts
        changes.groups |= outcome.changes.groups
        changes.digests |= outcome.changes.digests
        changes.channels |= outcome.changes.channels
    await uow.state.save(state, changes, dispatcher.next_wakeup, traces or {})
    known: dict[str, Mapping[str, str]] = dict(await uow.state.traces(_message_keys(outcomes)))
    known.update(traces or {})
    rule_names = {rule.rule_id: rule.name for rule in loaded.rules}
    outgoing = [
        found
        for outcome in outcomes
        for message in outcome.messages
        if (found := messenger.outgoing(message, loaded.channels, rule_names, known, now))
    ]
    for outcome in outcomes:
        for suppressed in outcome.suppressed:
            log.info(
                "alert %s not sent: %s%s",
                suppressed.dedup_key,
                suppressed.reason,
                f" ({suppressed.detail})" if suppressed.detail else "",
            )
    await enqueue(uow.session, outgoing, now)
    return len(outgoing)


def _message_keys(outcomes: Sequence[Outcome]) -> set[str]:
    return {
        alert.dedup_key
        for outcome in outcomes
        for message in outcome.messages
        for alert in message.alerts
    }


async def receive(
    incoming: Sequence[Incoming], uow: NotifierUnitOfWork, messenger: Messenger
) -> int:
    """Apply alerts and resolutions in the order they arrived; the deliveries decided."""
    traces = {
        entry.item.dedup_key: entry.trace
        for entry in incoming
        if isinstance(entry.item, Alert) and entry.trace
    }

    def work(dispatcher: Dispatcher, state: NotifierState) -> list[Outcome]:
        return [
            dispatcher.raise_alert(entry.item, state)
            if isinstance(entry.item, Alert)
            else dispatcher.resolve(entry.item, state)
            for entry in incoming
        ]

    async with uow:
        count = await _decide(uow, messenger, work, traces)
        if any(isinstance(entry.item, Resolution) for entry in incoming):
            # A resolved alert may have been what inhibited others: look at them again.
            await uow.state.wake_held("inhibited", uow.now())
        await uow.commit()
    return count


async def tick(uow: NotifierUnitOfWork, messenger: Messenger) -> int:
    """Flush what is due (groups, digests, escalations, overflow, released holds)."""
    async with uow:
        due = await uow.state.next_due()
        if due is None or due > uow.now():
            return 0
        count = await _decide(uow, messenger, lambda dispatcher, state: [dispatcher.tick(state)])
        await uow.commit()
    return count


async def acknowledge(
    dedup_key: str,
    by: str,
    via: AcknowledgedVia,
    note: str | None,
    uow: NotifierUnitOfWork,
    messenger: Messenger,
) -> str:
    """Acknowledge a firing alert; who acknowledged it (the first, if it already was: a
    repeat changes nothing and publishes nothing)."""
    async with uow:
        before: list[AlertState] = []

        def work(dispatcher: Dispatcher, state: NotifierState) -> list[Outcome]:
            tracked = state.alerts.get(dedup_key)
            if tracked is not None:
                before.append(copy.copy(tracked))
            return [dispatcher.acknowledge(dedup_key, by, state)]

        await _decide(uow, messenger, work)
        [earlier] = before
        if earlier.acknowledged_by is not None:
            return earlier.acknowledged_by
        alert = earlier.alert
        now = uow.now()
        await uow.session.execute(
            acknowledgements.insert().values(
                ack_id=uuid.uuid4(),
                dedup_key=dedup_key,
                acknowledged_by=by,
                acknowledged_at=now,
                via=via.value,
                note=note,
            )
        )
        await uow.outbox.add(
            uow.session,
            AlertAcknowledged(
                dedup_key=dedup_key,
                kind=alert.kind,
                producer=alert.producer or "unknown",
                acknowledged_by=by,
                acknowledged_at=now,
                via=via,
                note=note,
            ),
        )
        await uow.commit()
    return by


async def dry_run(alert: Alert, uow: NotifierUnitOfWork, messenger: Messenger) -> DryRun:
    async with uow:
        now = uow.now()
        loaded = await uow.configuration.load(now)
        state = await uow.state.load()
        return Dispatcher(messenger.engine_configuration(loaded), now).dry_run(alert, state)


async def test_send(
    name: str, uow: NotifierUnitOfWork, messenger: Messenger, alert: Alert
) -> SendResult:
    """Send a test message on channel ``name`` now, bypassing the engine and the log."""
    async with uow:
        channel = await uow.configuration.channel(name)
    if channel is None:
        raise NotFound("channel", name)
    rendered = render_for(
        channel.spec.type, RenderRequest(purpose="test", alerts=[render_alert(alert)])
    )
    claimed = Claimed(
        delivery_id=uuid.uuid4(),
        channel=name,
        spec=channel.spec,
        purpose="test",
        rendered=rendered,
        recipients=channel.spec.recipients,
        dedup_keys=(alert.dedup_key,),
        thread_key=None,
        thread_ref=None,
        attempt=1,
        trace={},
    )
    return await messenger.send(claimed)


async def dead_letter(
    delivery: Claimed, error: str, uow: NotifierUnitOfWork, messenger: Messenger
) -> Outgoing | None:
    """The message telling a dead delivery's fallback channel (the channel's own, else
    the settings') what could not be delivered; None when there is none to tell."""
    async with uow:
        channel = await uow.configuration.channel(delivery.channel)
        fallback = (channel.fallback if channel else None) or (
            messenger.settings.notifier_fallback_channel
        )
        target = await uow.configuration.channel(fallback) if fallback else None
    if target is None or target.spec.name == delivery.channel:
        log.error(
            "delivery %s to %s is dead (%s) and no fallback channel is set",
            delivery.delivery_id,
            delivery.channel,
            error,
        )
        return None
    request = RenderRequest(
        purpose="dead_letter",
        alerts=[
            RenderAlert(
                dedup_key=key,
                kind="undelivered",
                severity="warning",
                summary=delivery.rendered.title,
                raised_at=uow.now(),
            )
            for key in delivery.dedup_keys or (str(delivery.delivery_id),)
        ],
        note=f"{delivery.rendered.title} — could not be delivered to {delivery.channel}: {error}",
    )
    return Outgoing(
        channel=target.spec.name,
        purpose=DEAD_LETTER,
        rendered=render_for(target.spec.type, request),
        recipients=target.spec.recipients,
        dedup_keys=delivery.dedup_keys,
    )


# ------------------------------------------------------------------ configuration


async def put_channel(
    spec: ChannelSpec,
    rate_limit: RateLimit | None,
    fallback: str | None,
    uow: NotifierUnitOfWork,
    references: References,
) -> Channel:
    validate_target(spec, references)
    if fallback == spec.name:
        raise Invalid("fallback", "must be another channel")
    async with uow:
        if fallback is not None and await uow.configuration.channel(fallback) is None:
            raise Invalid("fallback", f"no channel named {fallback!r}")
        channel = await uow.configuration.put_channel(spec, rate_limit, fallback)
        await uow.commit()
    return channel


async def delete_channel(name: str, uow: NotifierUnitOfWork) -> None:
    async with uow:
        users = await uow.configuration.rules_naming(name)
        if users:
            raise Conflict("name", f"rules still send to it: {', '.join(users)}")
        if not await uow.configuration.delete_channel(name):
            raise NotFound("channel", name)
        await uow.commit()


async def put_rule(rule_id: uuid.UUID, definition: RuleIn, uow: NotifierUnitOfWork) -> StoredRule:
    rule = definition.domain(rule_id)
    async with uow:
        known = {channel.spec.name for channel in await uow.configuration.channels()}
        named = set(rule.channels) | {name for step in rule.escalation for name in step.channels}
        missing = sorted(named - known)
        if missing:
            raise Invalid("channels", f"no channel named {', '.join(missing)}")
        same_name = await uow.configuration.rule_named(rule.name)
        if same_name is not None and same_name != rule_id:
            raise Conflict("name", f"another rule is called {rule.name!r}")
        stored = await uow.configuration.put_rule(rule_id, definition)
        await uow.commit()
    return stored


async def delete_rule(rule_id: uuid.UUID, uow: NotifierUnitOfWork) -> None:
    async with uow:
        if not await uow.configuration.delete_rule(rule_id):
            raise NotFound("rule", str(rule_id))
        await uow.commit()


async def add_silence(silence: Silence, uow: NotifierUnitOfWork) -> None:
    async with uow:
        await uow.configuration.add_silence(silence)
        await uow.commit()


async def expire_silence(silence_id: uuid.UUID, uow: NotifierUnitOfWork) -> Silence:
    async with uow:
        silence = await uow.configuration.expire_silence(silence_id, uow.now())
        if silence is None:
            raise NotFound("silence", str(silence_id))
        await uow.state.wake_held("silenced", uow.now())
        await uow.commit()
    return silence


async def add_inhibition(
    inhibition_id: uuid.UUID, definition: InhibitionIn, uow: NotifierUnitOfWork
) -> StoredInhibition:
    async with uow:
        if await uow.configuration.inhibition_named(definition.name):
            raise Conflict("name", f"another inhibition is called {definition.name!r}")
        await uow.configuration.add_inhibition(inhibition_id, definition)
        stored = next(
            found
            for found in await uow.configuration.inhibitions()
            if found.inhibition.inhibition_id == inhibition_id
        )
        await uow.commit()
    return stored


async def delete_inhibition(inhibition_id: uuid.UUID, uow: NotifierUnitOfWork) -> None:
    async with uow:
        if not await uow.configuration.delete_inhibition(inhibition_id):
            raise NotFound("inhibition", str(inhibition_id))
        await uow.state.wake_held("inhibited", uow.now())
        await uow.commit()
