"""The engine: what to send, to whom and when, for each alert raised or resolved, and for
each tick of the clock.

A :class:`Dispatcher` is built for one moment (``now``) from the configuration, and works on
the :class:`~.state.NotifierState` the caller loads and saves; it does no I/O. Each call
returns an :class:`Outcome`: the messages to deliver, what it kept back and why, and which
state keys it changed.

The order an alert goes through: de-duplication, flap hold, silences, inhibition, routing.
Then, per matched rule, a critical alert goes out at once on every channel (never held by
groups, digests, quiet hours or rate limits) and starts the rule's escalation chain; any
other alert joins the rule's digest, if its kind is storming, or else its group. Ticks flush
what is due, in that order: overflow first (it has waited longest), then held alerts that
may go now, escalation steps, digests and groups.
"""

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound

from .alerts import Alert, Resolution, require_aware
from .digests import DigestState
from .escalation import EscalationState
from .flapping import FlapPolicy
from .grouping import GroupState
from .inhibition import Inhibition, inhibitor
from .messages import Message, Purpose, Suppressed
from .rate_limits import ChannelState, RateLimit
from .rules import Rule, Timing, route
from .silences import Silence
from .state import Changes, NotifierState
from .tracking import AlertState, Hold, RouteRecord


@dataclass(frozen=True)
class Configuration:
    """What the notifier is told to do, as loaded for one call (rules, silences, ...)."""

    rules: tuple[Rule, ...] = ()
    silences: tuple[Silence, ...] = ()
    inhibitions: tuple[Inhibition, ...] = ()
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    flap: FlapPolicy | None = None


@dataclass
class Outcome:
    messages: list[Message] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)


@dataclass(frozen=True)
class RuleDecision:
    """What one matched rule would do with an example alert (``due_at``: when it would go)."""

    rule_id: UUID
    name: str
    channels: tuple[str, ...]
    recipients: tuple[str, ...]
    action: str
    due_at: datetime | None = None
    escalates: bool = False


@dataclass(frozen=True)
class DryRun:
    """The dry run of an alert: the rules it matches and what would happen, without any
    change to the state. ``suppressed`` says why nothing would go out at all, if so."""

    decisions: tuple[RuleDecision, ...]
    suppressed: Suppressed | None
    messages: tuple[Message, ...]


class Dispatcher:
    def __init__(self, config: Configuration, now: datetime) -> None:
        require_aware("now", now)
        self.config = config
        self.now = now
        self._rules = {str(rule.rule_id): rule for rule in config.rules}

    # ------------------------------------------------------------------ alerts raised

    def raise_alert(self, alert: Alert, state: NotifierState) -> Outcome:
        out = Outcome()
        key = alert.dedup_key
        tracked = state.alerts.get(key)
        out.changes.alerts.add(key)
        if tracked is not None and tracked.firing:
            tracked.occurrences += 1
            tracked.last_raised_at = self.now
            out.suppressed.append(Suppressed(key, "duplicate", f"{tracked.occurrences} times"))
            return out
        if tracked is None:
            tracked = AlertState(alert, "firing", self.now, self.now)
            state.alerts[key] = tracked
        else:
            self._refire(tracked, alert)
        self._admit(tracked, state, out, report=True)
        return out

    def _refire(self, tracked: AlertState, alert: Alert) -> None:
        """An alert firing again after its resolution: a new incident, a flap change."""
        if self.config.flap:
            self.config.flap.record(tracked.changes, self.now)
        told_unresolved = tracked.resolution_held
        tracked.alert = alert
        tracked.status = "firing"
        tracked.last_raised_at = self.now
        tracked.occurrences = 1
        tracked.resolution = None
        tracked.resolution_held = False
        tracked.acknowledged_by = tracked.acknowledged_at = None
        tracked.escalations = []
        if tracked.held != "flapping":
            tracked.held = None
        if not told_unresolved:
            tracked.routes = []

    def _hold_for(self, tracked: AlertState, state: NotifierState) -> tuple[Hold, str] | None:
        alert = tracked.alert
        if self._flapping(tracked):
            return "flapping", f"{len(tracked.changes)} changes"
        for silence in self.config.silences:
            if silence.mutes(alert, self.now):
                return "silenced", str(silence.silence_id)
        if self.config.inhibitions:
            firing = (t.alert for t in state.alerts.values() if t.firing)
            source = inhibitor(alert, firing, self.config.inhibitions)
            if source is not None:
                return "inhibited", source.dedup_key
        return None

    def _flapping(self, tracked: AlertState) -> bool:
        flap = self.config.flap
        if flap is None:
            return False
        if tracked.held == "flapping" and not flap.settled(tracked.changes, self.now):
            return True
        return flap.too_many(tracked.changes, self.now)

    def _admit(self, tracked: AlertState, state: NotifierState, out: Outcome, report: bool) -> None:
        """Hold the alert, or send it down every rule it matches (unless already told)."""
        key = tracked.alert.dedup_key
        hold = self._hold_for(tracked, state)
        if hold is not None:
            reason, detail = hold
            if report or tracked.held != reason:
                out.suppressed.append(Suppressed(key, reason, detail))
            tracked.held = reason
            return
        tracked.held = None
        if tracked.routes:
            return
        rules = route(tracked.alert, self.config.rules)
        if not rules:
            out.suppressed.append(Suppressed(key, "no_route"))
        for rule in rules:
            self._dispatch(tracked, rule, state, out)

    def _dispatch(
        self, tracked: AlertState, rule: Rule, state: NotifierState, out: Outcome
    ) -> None:
        alert = tracked.alert
        rule_id = str(rule.rule_id)
        group_key = rule.group_key(alert)
        tracked.routes += [
            RouteRecord(rule_id, channel, list(rule.recipients), group_key)
            for channel in rule.channels
        ]
        if alert.critical:
            for channel in rule.channels:
                message = Message(
                    channel, rule.recipients, "alert", (alert,), rule.rule_id, alert.dedup_key
                )
                self._send(message, state, out, urgent=True)
            if rule.escalation:
                tracked.escalations.append(EscalationState(rule_id, self.now))
            return
        if rule.digest is not None:
            digest_id = (rule_id, alert.kind)
            digest = state.digests.setdefault(digest_id, DigestState(rule_id, alert.kind))
            out.changes.digests.add(digest_id)
            if digest.arrive(rule.digest, self.now):
                if not digest.is_open:
                    digest.open(rule.digest, self.now)
                    self._move_into_digest(rule, digest, state, out)
                digest.hold(alert)
                return
        group_id = (rule_id, group_key)
        group = state.groups.setdefault(group_id, GroupState(rule_id, group_key))
        group.add(alert, rule.timing, self.now)
        out.changes.groups.add(group_id)

    def _move_into_digest(
        self, rule: Rule, digest: DigestState, state: NotifierState, out: Outcome
    ) -> None:
        """A digest opens: the rule's alerts of its kind still waiting in groups join it."""
        for group_id, group in list(state.groups.items()):
            if group_id[0] != digest.rule_id:
                continue
            waiting = [
                a for a in group.members if a.kind == digest.kind and a.dedup_key in group.pending
            ]
            for alert in waiting:
                group.remove(alert.dedup_key, rule.timing)
                digest.hold(alert)
            if waiting:
                out.changes.groups.add(group_id)
                if group.empty:
                    del state.groups[group_id]

    # ------------------------------------------------------------------ sending

    def _send(self, message: Message, state: NotifierState, out: Outcome, urgent: bool) -> None:
        """Send now, or fold into the channel's overflow if its rate limit is reached."""
        limit = self.config.rate_limits.get(message.channel)
        if limit is None:
            out.messages.append(message)
            return
        channel = state.channels.setdefault(message.channel, ChannelState(message.channel))
        out.changes.channels.add(message.channel)
        room = channel.has_room(limit, self.now)
        if urgent or (room and not channel.overflowing):
            channel.record_send(limit, self.now)
            out.messages.append(message)
            return
        alerts = () if message.purpose == "resolved" else message.alerts
        channel.fold(alerts, message.resolutions, message.recipients)

    def _release_overflow(self, state: NotifierState, out: Outcome) -> None:
        for name, channel in list(state.channels.items()):
            limit = self.config.rate_limits.get(name)
            if channel.overflowing and channel.has_room(limit, self.now):
                out.messages.append(
                    Message(
                        name,
                        tuple(channel.overflow_recipients),
                        "overflow",
                        tuple(channel.overflow),
                        None,
                        None,
                        tuple(channel.overflow_resolutions),
                    )
                )
                channel.record_send(limit, self.now)
                channel.overflow, channel.overflow_resolutions = [], []
                channel.overflow_recipients = []
                out.changes.channels.add(name)
            channel.has_room(limit, self.now)
            if channel.empty:
                del state.channels[name]
                out.changes.channels.add(name)

    # ------------------------------------------------------------------ resolutions

    def resolve(self, resolution: Resolution, state: NotifierState) -> Outcome:
        """Clear an alert; an alert that was told gets a "resolved" follow-up on each channel
        it was told on. A resolution for an alert not firing is reported, not an error:
        producers resolve conditions the notifier may never have seen."""
        out = Outcome()
        key = resolution.dedup_key
        tracked = state.alerts.get(key)
        if tracked is None:
            out.suppressed.append(Suppressed(key, "unknown_alert"))
            return out
        if not tracked.firing:
            out.suppressed.append(Suppressed(key, "already_resolved"))
            return out
        out.changes.alerts.add(key)
        if self.config.flap:
            self.config.flap.record(tracked.changes, self.now)
        tracked.status = "resolved"
        tracked.resolution = resolution
        tracked.escalations = []
        if self._flapping(tracked):
            tracked.held = "flapping"
            tracked.resolution_held = True
            out.suppressed.append(Suppressed(key, "flapping", "resolution held"))
            return out
        tracked.held = None
        self._follow_up(tracked, state, out)
        return out

    def _follow_up(self, tracked: AlertState, state: NotifierState, out: Outcome) -> None:
        alert, resolution = tracked.alert, tracked.resolution
        key = alert.dedup_key
        if resolution is None:
            return
        untold_rules = self._withdraw(tracked, state, out)
        overflowed = set()
        for name in {record.channel for record in tracked.routes}:
            channel = state.channels.get(name)
            if channel is not None and channel.discard(key):
                overflowed.add(name)
                out.changes.channels.add(name)
        targets: dict[str, tuple[UUID, list[str]]] = {}
        digested: set[str] = set()
        for route_record in tracked.routes:
            rule_id = route_record.rule_id
            if rule_id in untold_rules or route_record.channel in overflowed:
                continue
            if rule_id in digested or self._resolve_in_digest(tracked, rule_id, state, out):
                digested.add(rule_id)
                continue
            _, recipients = targets.setdefault(route_record.channel, (UUID(rule_id), []))
            recipients += [r for r in route_record.recipients if r not in recipients]
        for name, (first_rule, recipients) in targets.items():
            message = Message(
                name, tuple(recipients), "resolved", (alert,), first_rule, key, (resolution,)
            )
            self._send(message, state, out, urgent=alert.critical)
        tracked.routes = []

    def _withdraw(self, tracked: AlertState, state: NotifierState, out: Outcome) -> set[str]:
        """Take the alert out of its groups and open digests; the rules it waited in."""
        alert = tracked.alert
        untold: set[str] = set()
        for rule_id, group_key in {(r.rule_id, r.group_key) for r in tracked.routes}:
            group = state.groups.get((rule_id, group_key))
            if group is not None:
                out.changes.groups.add((rule_id, group_key))
                if group.remove(alert.dedup_key, self._timing(rule_id)):
                    untold.add(rule_id)
                if group.empty:
                    del state.groups[(rule_id, group_key)]
            digest = state.digests.get((rule_id, alert.kind))
            if digest is not None and digest.discard(alert.dedup_key):
                out.changes.digests.add((rule_id, alert.kind))
                untold.add(rule_id)
        return untold

    def _resolve_in_digest(
        self, tracked: AlertState, rule_id: str, state: NotifierState, out: Outcome
    ) -> bool:
        rule = self._rules.get(rule_id)
        digest = state.digests.get((rule_id, tracked.alert.kind))
        if rule is None or rule.digest is None or digest is None or tracked.resolution is None:
            return False
        listed = digest.resolve_told(tracked.alert, tracked.resolution, rule.digest, self.now)
        if listed:
            out.changes.digests.add((rule_id, tracked.alert.kind))
        return listed

    def _timing(self, rule_id: str) -> Timing:
        rule = self._rules.get(rule_id)
        return rule.timing if rule else Timing()

    # ------------------------------------------------------------------ acknowledgement

    def acknowledge(self, dedup_key: str, by: str, state: NotifierState) -> Outcome:
        """Record who acknowledged a firing alert, and stop its escalation.

        Raises NotFound for an alert the notifier does not know and Conflict for one already
        resolved (nobody needs to act on it); acknowledging twice keeps the first one."""
        if not by.strip():
            raise Invalid("acknowledged_by", "must not be blank")
        tracked = state.alerts.get(dedup_key)
        if tracked is None:
            raise NotFound("alert", dedup_key)
        if not tracked.firing:
            raise Conflict("dedup_key", f"alert {dedup_key!r} is already resolved")
        out = Outcome()
        if tracked.acknowledged_at is None:
            tracked.acknowledged_by = by
            tracked.acknowledged_at = self.now
            tracked.escalations = []
            out.changes.alerts.add(dedup_key)
        return out

    # ------------------------------------------------------------------ the clock

    def tick(self, state: NotifierState) -> Outcome:
        out = Outcome()
        self._release_overflow(state, out)
        self._recheck_holds(state, out)
        self._escalate(state, out)
        self._flush_digests(state, out)
        self._flush_groups(state, out)
        self._forget_resolved(state, out)
        return out

    def _recheck_holds(self, state: NotifierState, out: Outcome) -> None:
        for key, tracked in list(state.alerts.items()):
            if tracked.held is None:
                continue
            if tracked.firing:
                before = (tracked.held, len(tracked.routes))
                self._admit(tracked, state, out, report=False)
                if (tracked.held, len(tracked.routes)) != before:
                    out.changes.alerts.add(key)
            elif not self._flapping(tracked):
                tracked.held = None
                if tracked.resolution_held:
                    tracked.resolution_held = False
                    self._follow_up(tracked, state, out)
                out.changes.alerts.add(key)

    def _escalate(self, state: NotifierState, out: Outcome) -> None:
        for key, tracked in state.alerts.items():
            if not (tracked.firing and tracked.escalations) or tracked.acknowledged_at:
                continue
            alert = tracked.alert
            remaining = []
            for escalation in tracked.escalations:
                rule = self._rules.get(escalation.rule_id)
                if rule is None:
                    continue
                for number, step in escalation.due_steps(rule.escalation, self.now):
                    out.changes.alerts.add(key)
                    for channel in step.channels:
                        tracked.routes.append(
                            RouteRecord(
                                escalation.rule_id,
                                channel,
                                list(rule.recipients),
                                rule.group_key(alert),
                            )
                        )
                        message = Message(
                            channel,
                            rule.recipients,
                            "escalation",
                            (alert,),
                            rule.rule_id,
                            key,
                            step=number,
                        )
                        self._send(message, state, out, urgent=True)
                if not escalation.finished(rule.escalation):
                    remaining.append(escalation)
            if len(remaining) != len(tracked.escalations):
                tracked.escalations = remaining
                out.changes.alerts.add(key)

    def _live_rule(self, rule_id: str) -> Rule | None:
        rule = self._rules.get(rule_id)
        return rule if rule is not None and rule.enabled else None

    def _quiet_until(self, rule: Rule) -> datetime | None:
        return rule.quiet_hours.period_end(self.now) if rule.quiet_hours else None

    def _flush_digests(self, state: NotifierState, out: Outcome) -> None:
        for digest_id, digest in list(state.digests.items()):
            rule = self._live_rule(digest.rule_id)
            if digest.closes_at is not None and digest.closes_at <= self.now:
                out.changes.digests.add(digest_id)
                quiet_until = self._quiet_until(rule) if rule else None
                if rule is None:
                    out.suppressed += [
                        Suppressed(a.dedup_key, "rule_removed") for a in digest.take()
                    ]
                elif quiet_until is not None:
                    digest.closes_at = quiet_until
                else:
                    self._broadcast(rule, "digest", digest.take(), None, (), state, out)
            if digest.resolved_due_at is not None and digest.resolved_due_at <= self.now:
                out.changes.digests.add(digest_id)
                alerts, resolutions = digest.take_resolved()
                if rule is not None:
                    self._broadcast(rule, "resolved", alerts, None, resolutions, state, out)
            digest.forget_old(rule.digest if rule else None, self.now)
            if digest.empty or rule is None:
                del state.digests[digest_id]
                out.changes.digests.add(digest_id)

    def _flush_groups(self, state: NotifierState, out: Outcome) -> None:
        for group_id, group in list(state.groups.items()):
            if group.due_at is None or group.due_at > self.now:
                continue
            out.changes.groups.add(group_id)
            rule = self._live_rule(group.rule_id)
            if rule is None:
                out.suppressed += [Suppressed(key, "rule_removed") for key in group.pending]
                del state.groups[group_id]
                continue
            quiet_until = self._quiet_until(rule)
            if quiet_until is not None:
                group.due_at = quiet_until
                continue
            alerts = group.take(rule.timing, self.now)
            if len(alerts) == 1:
                self._broadcast(rule, "alert", alerts, alerts[0].dedup_key, (), state, out)
            elif alerts:
                thread = f"group:{group.rule_id}:{group.group_key}"
                self._broadcast(rule, "group", alerts, thread, (), state, out)
            if group.empty:
                del state.groups[group_id]

    def _broadcast(
        self,
        rule: Rule,
        purpose: Purpose,
        alerts: tuple[Alert, ...],
        thread_key: str | None,
        resolutions: tuple[Resolution, ...],
        state: NotifierState,
        out: Outcome,
    ) -> None:
        if not alerts:
            return
        for channel in rule.channels:
            message = Message(
                channel, rule.recipients, purpose, alerts, rule.rule_id, thread_key, resolutions
            )
            self._send(message, state, out, urgent=False)

    def _forget_resolved(self, state: NotifierState, out: Outcome) -> None:
        """Drop resolved alerts once their changes no longer count towards flapping."""
        flap = self.config.flap
        for key, tracked in list(state.alerts.items()):
            if tracked.firing or tracked.held is not None:
                continue
            if flap is None or flap.settled(tracked.changes, self.now):
                del state.alerts[key]
                out.changes.alerts.add(key)

    # ------------------------------------------------------------------ questions

    def dry_run(self, alert: Alert, state: NotifierState | None = None) -> DryRun:
        """Raise ``alert`` against a copy of ``state`` and explain each matched rule."""
        trial = copy.deepcopy(state) if state is not None else NotifierState()
        outcome = self.raise_alert(alert, trial)
        suppressed = next(iter(outcome.suppressed), None)
        decisions = []
        for rule in route(alert, self.config.rules):
            action, due_at = self._decision(alert, rule, trial, suppressed)
            decisions.append(
                RuleDecision(
                    rule.rule_id,
                    rule.name,
                    rule.channels,
                    rule.recipients,
                    action,
                    due_at,
                    escalates=alert.critical and bool(rule.escalation) and suppressed is None,
                )
            )
        return DryRun(tuple(decisions), suppressed, tuple(outcome.messages))

    def _decision(
        self, alert: Alert, rule: Rule, trial: NotifierState, suppressed: Suppressed | None
    ) -> tuple[str, datetime | None]:
        if suppressed is not None:
            return suppressed.reason, None
        if alert.critical:
            return "immediate", None
        rule_id = str(rule.rule_id)
        digest = trial.digests.get((rule_id, alert.kind))
        if digest is not None and any(a.dedup_key == alert.dedup_key for a in digest.held):
            action, due_at = "digest", digest.closes_at
        else:
            group = trial.groups.get((rule_id, rule.group_key(alert)))
            action, due_at = "grouped", group.due_at if group else None
        if rule.quiet_hours is not None and due_at is not None:
            quiet_until = rule.quiet_hours.period_end(due_at)
            if quiet_until is not None:
                return "quiet_hours", quiet_until
        return action, due_at

    def next_wakeup(self, state: NotifierState) -> datetime | None:
        """The earliest moment a tick would have something to do, so the caller can sleep
        until then (ticking earlier is harmless)."""
        moments: list[datetime] = []
        moments += [g.due_at for g in state.groups.values() if g.due_at]
        for digest in state.digests.values():
            moments += [m for m in (digest.closes_at, digest.resolved_due_at) if m]
        for name, channel in state.channels.items():
            limit = self.config.rate_limits.get(name)
            room = channel.next_room(limit)
            if channel.overflowing:
                moments.append(room or self.now)
        moments += self._alert_wakeups(state.alerts.values())
        return min(moments, default=None)

    def _alert_wakeups(self, tracked_alerts: Iterable[AlertState]) -> list[datetime]:
        moments = []
        flap = self.config.flap
        for tracked in tracked_alerts:
            if tracked.held == "flapping" and flap and tracked.changes:
                moments.append(max(tracked.changes) + flap.window)
            elif tracked.held == "silenced":
                ends = [s.ends_at for s in self.config.silences if s.mutes(tracked.alert, self.now)]
                moments += ends
            if tracked.firing and not tracked.acknowledged_at:
                for escalation in tracked.escalations:
                    rule = self._rules.get(escalation.rule_id)
                    due = escalation.next_due(rule.escalation) if rule else None
                    if due:
                        moments.append(due)
        return moments
