"""The HTTP API's request and response bodies, and their translation into the domain.

What JSON Schema can state is stated here (lengths, patterns, ranges), so the OpenAPI
document says what is accepted; the domain checks the rest (a rule's repeat interval at
least its group interval, a time zone that exists, escalation steps in order) and answers
422 naming each field at fault.
"""

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from stockwire.contracts.vocabulary import AlertSeverity
from stockwire.notifier.domain.alerts import Alert
from stockwire.notifier.domain.matching import Matcher
from stockwire.notifier.domain.quiet_hours import QuietHours
from stockwire.notifier.domain.rules import Digest, EscalationStep, Rule, Timing
from stockwire.notifier.domain.silences import Silence
from stockwire.runtime.http.bodies import Body
from stockwire.runtime.http.text import NO_NUL, text_field

ChannelName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Lower-case letters, digits, '_', '.' and '-'.",
    ),
]
Name = Annotated[str, text_field(200)]
Attribute = Annotated[
    str,
    Field(
        max_length=70,
        pattern=r"^(kind|severity|region|location|location_kind|category|sku|producer"
        r"|label:[A-Za-z_][A-Za-z0-9_.\-]{0,63})$",
        description="What a matcher, a group or an inhibition looks at: kind, severity, "
        "region, location, location_kind, category, sku, producer, or label:<name>.",
    ),
]
Value = Annotated[str, Field(min_length=1, max_length=256, pattern=NO_NUL)]
Seconds = Annotated[int, Field(ge=0, le=30 * 24 * 3600, description="Seconds, up to 30 days.")]
Recipient = Annotated[str, text_field(254)]


class MatcherIn(Body):
    attribute: Attribute
    values: list[Value] = Field(min_length=1, max_length=256)
    negate: bool = Field(
        default=False, description="Match every other value (and an attribute left out)."
    )

    def domain(self) -> Matcher:
        return Matcher(self.attribute, frozenset(self.values), self.negate)


Matchers = Annotated[list[MatcherIn], Field(max_length=32)]


class TimingIn(Body):
    group_wait_s: Seconds = 30
    group_interval_s: Annotated[Seconds, Field(ge=1)] = 300
    repeat_interval_s: Annotated[Seconds, Field(ge=1)] = 4 * 3600


class DigestIn(Body):
    threshold: int = Field(ge=1, le=100_000, description="More than this many alerts ...")
    window_s: Annotated[Seconds, Field(ge=1)] = Field(description="... within this window.")


class QuietHoursIn(Body):
    start: time = Field(description="Local wall time, e.g. 22:00.")
    end: time = Field(description="Local wall time, e.g. 07:00 (the next day if earlier).")
    timezone: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]


class EscalationStepIn(Body):
    after_s: Annotated[Seconds, Field(ge=1)] = Field(
        description="Unacknowledged this long after the alert was first sent ..."
    )
    channels: list[ChannelName] = Field(min_length=1, max_length=32)


class RuleIn(Body):
    """A routing rule. Rules are tried by ascending position; a matching rule with
    ``stop`` ends the search."""

    name: Name
    position: int = Field(ge=0, le=1_000_000)
    matchers: Matchers = Field(default_factory=list, description="All must match; none: any.")
    channels: list[ChannelName] = Field(min_length=1, max_length=32)
    recipients: list[Recipient] = Field(
        default_factory=list,
        max_length=256,
        description="Email addresses for email channels (the channel's own if empty).",
    )
    stop: bool = False
    group_by: list[Attribute] = Field(default_factory=list, max_length=16)
    timing: TimingIn = Field(default_factory=TimingIn)
    digest: DigestIn | None = None
    quiet_hours: QuietHoursIn | None = None
    escalation: list[EscalationStepIn] = Field(default_factory=list, max_length=16)
    enabled: bool = True

    def domain(self, rule_id: uuid.UUID) -> Rule:
        return Rule(
            rule_id=rule_id,
            name=self.name,
            position=self.position,
            matchers=tuple(matcher.domain() for matcher in self.matchers),
            channels=tuple(self.channels),
            recipients=tuple(self.recipients),
            stop=self.stop,
            group_by=tuple(self.group_by),
            timing=Timing(
                group_wait=timedelta(seconds=self.timing.group_wait_s),
                group_interval=timedelta(seconds=self.timing.group_interval_s),
                repeat_interval=timedelta(seconds=self.timing.repeat_interval_s),
            ),
            digest=Digest(self.digest.threshold, timedelta(seconds=self.digest.window_s))
            if self.digest
            else None,
            quiet_hours=QuietHours(
                self.quiet_hours.start, self.quiet_hours.end, self.quiet_hours.timezone
            )
            if self.quiet_hours
            else None,
            escalation=tuple(
                EscalationStep(timedelta(seconds=step.after_s), tuple(step.channels))
                for step in self.escalation
            ),
            enabled=self.enabled,
        )


class RuleOut(RuleIn):
    rule_id: uuid.UUID
    version: int


class RulePage(BaseModel):
    items: list[RuleOut]


class SilenceIn(Body):
    matchers: Matchers = Field(min_length=1)
    starts_at: datetime | None = Field(default=None, description="Default: now.")
    ends_at: datetime
    created_by: Name
    comment: Annotated[str, Field(max_length=1000, pattern=NO_NUL)] = ""

    def domain(self, silence_id: uuid.UUID, now: datetime) -> Silence:
        return Silence(
            silence_id=silence_id,
            matchers=tuple(matcher.domain() for matcher in self.matchers),
            starts_at=self.starts_at or now,
            ends_at=self.ends_at,
            created_by=self.created_by,
            comment=self.comment,
        )


class SilenceOut(BaseModel):
    silence_id: uuid.UUID
    matchers: list[MatcherIn]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    active: bool


class SilencePage(BaseModel):
    items: list[SilenceOut]


class InhibitionIn(Body):
    """While an alert matching ``source`` fires, alerts matching ``target`` with the same
    values of ``equal`` are not sent (a site outage mutes that site's low-stock warnings)."""

    name: Name
    source: Matchers = Field(min_length=1)
    target: Matchers = Field(min_length=1)
    equal: list[Attribute] = Field(default_factory=list, max_length=16)


class InhibitionOut(InhibitionIn):
    inhibition_id: uuid.UUID


class InhibitionPage(BaseModel):
    items: list[InhibitionOut]


Path = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^/[^\x00]*$")]
"""An absolute file path."""

ChannelType = Literal["email", "slack", "msteams", "mattermost", "discord", "telegram", "json"]


class RateLimitIn(Body):
    messages: int = Field(ge=1, le=100_000)
    per_s: int = Field(ge=1, le=24 * 3600)


class ChannelIn(Body):
    """Where messages go. A chat or webhook channel names its Apprise URL as exactly one
    of ``url``, ``url_env`` (an environment variable holding it) or ``url_file`` (a file
    holding it); an email channel needs none (it uses the SMTP settings) but recipients.
    Secrets in a literal URL are kept, and masked in every answer."""

    type: ChannelType
    url: (
        Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^[a-z][a-z0-9+.-]*://\S+$")]
        | None
    ) = None
    url_env: (
        Annotated[
            str,
            Field(
                pattern=r"^STOCKWIRE_CHANNEL_[A-Za-z0-9_]{1,110}$",
                description="An environment variable of the notifier named STOCKWIRE_CHANNEL_*.",
            ),
        ]
        | None
    ) = None
    url_file: (
        Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^/[^\x00]*$")] | None
    ) = None
    recipients: list[Recipient] = Field(default_factory=list, max_length=256)
    rate_limit: RateLimitIn | None = None
    fallback: ChannelName | None = Field(
        default=None, description="Told when a delivery here fails for good."
    )


class ChannelOut(BaseModel):
    name: str
    type: ChannelType
    target: str = Field(description="The URL with its secrets masked, or env:NAME / file:PATH.")
    recipients: list[str]
    rate_limit: RateLimitIn | None
    fallback: str | None
    version: int


class ChannelPage(BaseModel):
    items: list[ChannelOut]


class ExampleAlertIn(Body):
    """An alert as a producer would send it, for the dry run and the test send."""

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    severity: AlertSeverity
    summary: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)] = "Example"
    dedup_key: Annotated[str, Field(min_length=1, max_length=256, pattern=NO_NUL)] = "example"
    producer: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)] = "example"
    location: Value | None = None
    region: Value | None = None
    location_kind: Value | None = None
    sku: Value | None = None
    category: Value | None = None
    labels: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,63}$")], Value] = Field(
        default_factory=dict, max_length=32
    )
    figures: dict[
        Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,63}$")],
        Annotated[Decimal, Field(ge=-(10**12), le=10**12)],
    ] = Field(default_factory=dict, max_length=16)
    link: Annotated[str, Field(max_length=2048, pattern=r"^https?://\S+$")] | None = None

    def domain(self, now: datetime) -> Alert:
        return Alert(
            dedup_key=self.dedup_key,
            alert_id=uuid.uuid4(),
            kind=self.kind,
            severity=self.severity,
            summary=self.summary,
            raised_at=now,
            producer=self.producer,
            location=self.location,
            region=self.region,
            location_kind=self.location_kind,
            sku=self.sku,
            category=self.category,
            labels=dict(self.labels),
            figures=dict(self.figures),
            link=self.link,
        )


class DryRunRuleOut(BaseModel):
    rule_id: uuid.UUID
    name: str
    channels: list[str]
    outcome: str = Field(description="What would happen on this rule's channels, and why.")


class DryRunOut(BaseModel):
    rules: list[DryRunRuleOut]
    suppressed: str | None = Field(
        description="Why nothing would be sent at all (silenced, inhibited), if so."
    )


def document(model: BaseModel) -> dict[str, Any]:
    """A request body as kept in a JSONB column."""
    return model.model_dump(mode="json")
