"""A notifier built by hand with a fake clock, so the engine's rules run without a database."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from stockwire.contracts.vocabulary import AlertSeverity
from stockwire.notifier.domain.alerts import Alert, Resolution
from stockwire.notifier.domain.dispatcher import Configuration, Dispatcher, DryRun, Outcome
from stockwire.notifier.domain.matching import Matcher
from stockwire.notifier.domain.messages import Message, Suppressed
from stockwire.notifier.domain.rules import Rule, Timing
from stockwire.notifier.domain.state import NotifierState

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
FAST = Timing(
    group_wait=timedelta(seconds=30),
    group_interval=timedelta(minutes=5),
    repeat_interval=timedelta(hours=4),
)


def alert(
    key: str | None = None,
    kind: str = "stockout",
    severity: AlertSeverity | str = AlertSeverity.WARNING,
    at: datetime = T0,
    **context: Any,
) -> Alert:
    key = key or f"{kind}:{uuid.uuid4().hex[:8]}"
    return Alert(
        dedup_key=key,
        alert_id=uuid.uuid4(),
        kind=kind,
        severity=AlertSeverity(severity),
        summary=f"{kind} {key}",
        raised_at=at,
        producer=context.pop("producer", "stock"),
        figures=context.pop("figures", {"available": Decimal(0)}),
        **context,
    )


def critical(key: str | None = None, kind: str = "site_outage", **context: Any) -> Alert:
    return alert(key, kind, AlertSeverity.CRITICAL, **context)


def resolution(of: Alert, at: datetime = T0) -> Resolution:
    return Resolution(of.dedup_key, of.kind, f"cleared {of.dedup_key}", at)


def match(attribute: str, *values: str, negate: bool = False) -> Matcher:
    return Matcher(attribute, frozenset(values), negate)


def rule(
    name: str = "ops",
    position: int = 0,
    matchers: tuple[Matcher, ...] = (),
    channels: tuple[str, ...] = ("chat",),
    **fields: Any,
) -> Rule:
    fields.setdefault("timing", FAST)
    return Rule(uuid.uuid4(), name, position, matchers, channels, **fields)


class World:
    """The caller's side of the engine: it keeps the state and the clock, and every message."""

    def __init__(self, config: Configuration | None = None, **config_fields: Any) -> None:
        self.config = config or Configuration(**config_fields)
        self.state = NotifierState()
        self.now = T0
        self.sent: list[Message] = []
        self.suppressed: list[Suppressed] = []

    @property
    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.config, self.now)

    def _keep(self, outcome: Outcome) -> list[Message]:
        self.sent += outcome.messages
        self.suppressed += outcome.suppressed
        return outcome.messages

    def raise_(self, *alerts: Alert) -> list[Message]:
        messages = []
        for each in alerts:
            messages += self._keep(self.dispatcher.raise_alert(each, self.state))
        return messages

    def resolve(self, *alerts: Alert) -> list[Message]:
        messages = []
        for each in alerts:
            messages += self._keep(self.dispatcher.resolve(resolution(each, self.now), self.state))
        return messages

    def acknowledge(self, key: str, by: str = "ana") -> Outcome:
        return self.dispatcher.acknowledge(key, by, self.state)

    def tick(self) -> list[Message]:
        return self._keep(self.dispatcher.tick(self.state))

    def advance(self, by: timedelta, step: timedelta = SECOND) -> list[Message]:
        """Move the clock on by ``by``, ticking every ``step`` on the way."""
        messages = []
        end = self.now + by
        while self.now < end:
            self.now = min(self.now + step, end)
            messages += self.tick()
        return messages

    def dry_run(self, example: Alert) -> DryRun:
        return self.dispatcher.dry_run(example, self.state)


def keys(message: Message) -> set[str]:
    return {a.dedup_key for a in message.alerts}
