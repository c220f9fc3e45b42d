"""Replenishment alerts as the domain decides them: the condition, how bad, the numbers
behind it, and the resolution once it clears.

Each condition is named by its ``dedup_key``:

- ``projected_stockout:SKU@LOCATION``: the location is at or below its reorder point and
  its stock (available + inbound) runs out within the policy's lead time plus review
  period, so waiting for the next review could be too late; critical when it runs out
  within the lead time itself. It resolves once the position is above the reorder point
  again (the remedy arrived or is on its way) or demand no longer runs it out in time.
- ``regional_imbalance:SKU@REGION``: a stocked location of the region is at or below its
  reorder point while another holds more than its max.
- ``suggestion_overdue:SUGGESTION_KEY``: a suggestion has stayed open longer than it
  should without being accepted or rejected.
- ``last_time_buy_due:SKU@REGION``: a model nearing its end of life needs a last-time buy
  for the installed base of a region.

:func:`changes` turns an evaluation into what to publish: a condition found that is not
open yet is raised, one that is open and no longer found is resolved, and one still there
is left alone, unless it got worse (a warning become critical), when it is raised again
under the same key so the people it concerns hear of it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stockwire.contracts.vocabulary import AlertSeverity, ReplenishmentAlertKind, SuggestionKind
from stockwire.replenishment.domain.explanation import LastTimeBuyExplanation, ReorderExplanation
from stockwire.replenishment.domain.policies import STOCKED_KINDS
from stockwire.replenishment.domain.positions import LocationStock
from stockwire.replenishment.domain.quantities import format_quantity
from stockwire.replenishment.domain.stockout import projected_stockout
from stockwire.replenishment.domain.suggestions import Suggestion

SUGGESTION_DECISION_TIME = timedelta(days=2)
"""How long a suggestion may wait for a decision before someone is told."""


@dataclass(frozen=True, slots=True)
class Alert:
    kind: ReplenishmentAlertKind
    severity: AlertSeverity
    dedup_key: str
    summary: str
    sku: str
    location: str | None = None
    region: str | None = None
    category: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    figures: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert raised earlier and not resolved yet, as the service keeps it."""

    kind: ReplenishmentAlertKind
    dedup_key: str
    severity: AlertSeverity
    sku: str
    location: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    kind: ReplenishmentAlertKind
    dedup_key: str
    summary: str
    sku: str
    location: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class AlertChanges:
    raised: tuple[Alert, ...]
    resolved: tuple[Resolution, ...]


def stockout_key(sku: str, location: str) -> str:
    return f"{ReplenishmentAlertKind.PROJECTED_STOCKOUT}:{sku}@{location}"


def imbalance_key(sku: str, region: str) -> str:
    return f"{ReplenishmentAlertKind.REGIONAL_IMBALANCE}:{sku}@{region}"


def overdue_key(suggestion_key: str) -> str:
    return f"{ReplenishmentAlertKind.SUGGESTION_OVERDUE}:{suggestion_key}"


def stockout_alert(evaluation: ReorderExplanation) -> Alert | None:
    """The projected stockout alert of an evaluated SKU x location (its available +
    inbound at the daily demand mean its levels planned by), with what is suggested about
    it; None when it is above its reorder point (the policy has it covered: its remedy,
    if it needed one, is on its way) or does not run out within lead time + review
    period."""
    policy = evaluation.policy
    if not evaluation.triggered:
        return None
    stockout = projected_stockout(
        evaluation.inventory_position, evaluation.levels.daily_demand_mean, evaluation.evaluated_on
    )
    if stockout is None or stockout.days > policy.lead_time_days + policy.review_period_days:
        return None
    when = (
        "today"
        if stockout.days == 0
        else f"in about {_count(stockout.days, 'day')}, on {stockout.runs_out_on.isoformat()}"
    )
    suggestion = evaluation.suggestion
    labels = {"runs_out_on": stockout.runs_out_on.isoformat()}
    figures = {
        "days_left": float(stockout.days),
        "cover_days": stockout.cover_days,
        "available": evaluation.position.available,
        "inbound": evaluation.inbound,
        "daily_demand": evaluation.levels.daily_demand_mean,
        "reorder_point": evaluation.levels.reorder_point,
        "lead_time_days": float(policy.lead_time_days),
    }
    if suggestion is not None:
        labels["suggestion"] = suggestion.key
        figures["suggested_quantity"] = suggestion.quantity
        if suggestion.source_location is not None:
            labels["source_location"] = suggestion.source_location
    critical = stockout.days < policy.lead_time_days
    return Alert(
        kind=ReplenishmentAlertKind.PROJECTED_STOCKOUT,
        severity=AlertSeverity.CRITICAL if critical else AlertSeverity.WARNING,
        dedup_key=stockout_key(policy.sku, policy.location),
        summary=f"{policy.sku} at {policy.location} runs out {when}; {_remedy(evaluation)}",
        sku=policy.sku,
        location=policy.location,
        region=policy.region,
        category=policy.category.value,
        labels=labels,
        figures=figures,
    )


def _remedy(evaluation: ReorderExplanation) -> str:
    suggestion = evaluation.suggestion
    if suggestion is None:
        return "nothing is suggested: it is at its order-up-to level"
    quantity = format_quantity(suggestion.quantity)
    if suggestion.kind is SuggestionKind.TRANSFER:
        return f"a transfer of {quantity} from {suggestion.source_location} is suggested"
    arrival = suggestion.expected_arrival.isoformat() if suggestion.expected_arrival else "later"
    return f"a purchase of {quantity} is suggested, arriving about {arrival}"


def imbalance_alert(
    sku: str, region: str, stock: Sequence[LocationStock], discrete: bool
) -> Alert | None:
    """The regional imbalance alert of ``sku`` in ``region``, given every stocked location
    of the region with its levels; None when no location is short while another has
    excess."""
    stocked = [place for place in stock if place.kind in STOCKED_KINDS]
    short = sorted(
        (place for place in stocked if place.short),
        key=lambda place: (
            place.position.inventory_position - place.reorder_point,
            place.location,
        ),
    )
    excess = sorted(
        (
            (place.excess(discrete), place.location)
            for place in stocked
            if place.excess(discrete) > 0
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if not short or not excess:
        return None
    lowest, (most, giver) = short[0], excess[0]
    summary = (
        f"{sku} in {region} is out of balance: {lowest.location} is at or below its reorder "
        f"point ({format_quantity(lowest.position.inventory_position)} of "
        f"{format_quantity(lowest.reorder_point)}) while {giver} holds "
        f"{format_quantity(most)} above its max"
    )
    if len(short) > 1 or len(excess) > 1:
        summary += (
            f" ({_count(len(short), 'location')} short, "
            f"{_count(len(excess), 'location')} with excess)"
        )
    return Alert(
        kind=ReplenishmentAlertKind.REGIONAL_IMBALANCE,
        severity=AlertSeverity.WARNING,
        dedup_key=imbalance_key(sku, region),
        summary=summary,
        sku=sku,
        region=region,
        labels={"short_location": lowest.location, "excess_location": giver},
        figures={
            "locations_short": float(len(short)),
            "locations_with_excess": float(len(excess)),
            "shortfall": sum(
                place.reorder_point - place.position.inventory_position for place in short
            ),
            "excess": sum(amount for amount, _ in excess),
        },
    )


def overdue_alert(
    suggestion: Suggestion,
    region: str | None,
    opened_at: datetime,
    now: datetime,
    decision_time: timedelta = SUGGESTION_DECISION_TIME,
) -> Alert | None:
    """The alert of a suggestion open since ``opened_at`` and still undecided at ``now``;
    None while it is within ``decision_time``."""
    age = now - opened_at
    if age <= decision_time:
        return None
    quantity = format_quantity(suggestion.quantity)
    what = _SUGGESTION_NAMES[suggestion.kind]
    source = f" from {suggestion.source_location}" if suggestion.source_location else ""
    hours = age.total_seconds() / 3600
    waited = _count(int(hours), "hour") if hours < 48 else _count(age.days, "day")
    return Alert(
        kind=ReplenishmentAlertKind.SUGGESTION_OVERDUE,
        severity=AlertSeverity.WARNING,
        dedup_key=overdue_key(suggestion.key),
        summary=(
            f"the {what} of {quantity} {suggestion.sku}{source} to {suggestion.location} "
            f"has waited {waited} for a decision"
        ),
        sku=suggestion.sku,
        location=suggestion.location,
        region=region,
        labels={"suggestion": suggestion.key, "suggestion_kind": suggestion.kind.value},
        figures={"age_hours": round(hours, 6), "quantity": suggestion.quantity},
    )


_SUGGESTION_NAMES = {
    SuggestionKind.TRANSFER: "transfer",
    SuggestionKind.PURCHASE: "purchase",
    SuggestionKind.LAST_TIME_BUY: "last-time buy",
}
_RANK = {AlertSeverity.INFO: 0, AlertSeverity.WARNING: 1, AlertSeverity.CRITICAL: 2}


def last_time_buy_key(sku: str, region: str) -> str:
    return f"{ReplenishmentAlertKind.LAST_TIME_BUY_DUE}:{sku}@{region}"


def last_time_buy_alert(evaluation: LastTimeBuyExplanation, region: str) -> Alert | None:
    """The alert of a last-time buy due for the installed base of ``region``; None when
    what is held covers it."""
    suggestion = evaluation.suggestion
    if suggestion is None:
        return None
    return Alert(
        kind=ReplenishmentAlertKind.LAST_TIME_BUY_DUE,
        severity=AlertSeverity.WARNING,
        dedup_key=last_time_buy_key(evaluation.sku, region),
        summary=(
            f"{evaluation.sku} reaches its end of life on "
            f"{evaluation.end_of_life.isoformat()}: a last-time buy of "
            f"{format_quantity(suggestion.quantity)} into {evaluation.location} covers the "
            f"{evaluation.installed_base} installed in {region}"
        ),
        sku=evaluation.sku,
        location=evaluation.location,
        region=region,
        labels={"end_of_life": evaluation.end_of_life.isoformat()},
        figures={
            "quantity": suggestion.quantity,
            "installed_base": float(evaluation.installed_base),
            "expected_failures": evaluation.expected_failures,
            "days_to_end_of_life": float(evaluation.days_to_end_of_life),
        },
    )


def changes(previous: Iterable[OpenAlert], current: Iterable[Alert]) -> AlertChanges:
    """What to raise and resolve, given the alerts open before an evaluation and the
    conditions it found.

    ``previous`` must hold only the open alerts of conditions this evaluation judged (for
    one SKU x location: its projected stockout, its region's imbalance for the SKU, the
    overdue alerts of its suggestions), or it would resolve what it never looked at."""
    open_ = {alert.dedup_key: alert for alert in previous}
    found = {alert.dedup_key: alert for alert in current}
    raised = tuple(
        found[key]
        for key in sorted(found)
        if key not in open_ or _RANK[found[key].severity] > _RANK[open_[key].severity]
    )
    resolved = tuple(resolution(open_[key]) for key in sorted(open_) if key not in found)
    return AlertChanges(raised=raised, resolved=resolved)


def resolution(alert: OpenAlert) -> Resolution:
    """The resolution of ``alert``, whose condition has cleared."""
    match alert.kind:
        case ReplenishmentAlertKind.PROJECTED_STOCKOUT:
            summary = (
                f"{alert.sku} at {alert.location} is no longer projected to run out before "
                f"more can arrive"
            )
        case ReplenishmentAlertKind.REGIONAL_IMBALANCE:
            summary = f"{alert.sku} in {alert.region} is back in balance"
        case ReplenishmentAlertKind.SUGGESTION_OVERDUE:
            summary = (
                f"the suggestion for {alert.sku} at {alert.location} is no longer waiting "
                f"for a decision"
            )
        case ReplenishmentAlertKind.LAST_TIME_BUY_DUE:
            summary = f"the last-time buy of {alert.sku} in {alert.region} is settled"
    return Resolution(
        kind=alert.kind,
        dedup_key=alert.dedup_key,
        summary=summary,
        sku=alert.sku,
        location=alert.location,
        region=alert.region,
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
