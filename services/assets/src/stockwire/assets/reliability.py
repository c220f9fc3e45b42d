"""The reliability job: every model's figures, published when they change, and failure
spikes raised and resolved.

:func:`compute_reliability` runs in one transaction that first takes a PostgreSQL
advisory lock, so when several instances run the job only one computes at a time (the
others skip that round): a key's figures are published once per change, and a spike is
raised once. Figures are published on the compacted reliability topic for the keys
whose figures changed since they were last published (:func:`~.domain.reliability.changed`,
kept in ``reliability_published``); spikes are the model's (and the model in a region's)
recent failures tested against its own baseline
(:func:`~.domain.reliability.spike_test`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from stockwire.assets import fleet
from stockwire.assets.domain.alerts import changes
from stockwire.assets.domain.reliability import (
    SPIKE,
    Reliability,
    SpikePolicy,
    changed,
    reliability,
    spike_alert,
    spike_resolution,
    spike_test,
)
from stockwire.assets.settings import AssetsSettings
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.assets import ReliabilityComputed
from stockwire.contracts.topics import reliability_key
from stockwire.runtime.periodic import only_one

JOB = "assets-reliability"
"""The job's name: its advisory lock, and its log lines."""


@dataclass(frozen=True)
class ReliabilityPolicy:
    confidence: Decimal = Decimal("0.9")
    change_ratio: Decimal = Decimal("0.01")
    spike: SpikePolicy = field(default_factory=SpikePolicy)

    @classmethod
    def of(cls, settings: AssetsSettings) -> "ReliabilityPolicy":
        return cls(
            confidence=settings.assets_reliability_confidence,
            change_ratio=settings.assets_reliability_change_ratio,
            spike=SpikePolicy(
                recent_days=settings.assets_spike_recent_days,
                baseline_days=settings.assets_spike_baseline_days,
                alpha=settings.assets_spike_alpha,
                minimum_failures=settings.assets_spike_min_failures,
            ),
        )


@dataclass(frozen=True)
class ReliabilityRun:
    """What one run did: the keys it published figures for, the spike alerts it raised
    and resolved (dedup keys)."""

    published: list[str]
    raised: list[str]
    resolved: list[str]


def computed(figures: Reliability, as_of: datetime) -> ReliabilityComputed:
    """The record of ``figures`` as the reliability topic carries it."""
    return ReliabilityComputed(
        sku=figures.sku,
        region=figures.region,
        installed_base=figures.installed_base,
        operating_hours=figures.operating_hours,
        device_years=figures.device_years,
        failures=figures.failures,
        failures_per_device_year=figures.failures_per_device_year,
        mtbf_hours=figures.mtbf_hours,
        mtbf_lower_hours=figures.mtbf_lower_hours,
        mtbf_upper_hours=figures.mtbf_upper_hours,
        confidence=figures.confidence,
        as_of=as_of,
    )


async def compute_reliability(
    now: datetime, policy: ReliabilityPolicy, uow: AssetsUnitOfWork
) -> ReliabilityRun | None:
    """Compute every key's figures and spikes at ``now``, publish what changed, raise and
    resolve spike alerts; None when another instance is computing."""
    async with uow:
        if not await only_one(uow.session, JOB):
            return None
        found = [reliability(f, policy.confidence) for f in await fleet.fleets(uow.session, now)]
        before = await fleet.published(uow.session)
        fresh = [
            figures
            for figures in found
            if changed(
                before.get(reliability_key(figures.sku, figures.region)),
                figures,
                policy.change_ratio,
            )
        ]
        for figures in fresh:
            uow.publish(computed(figures, now))
        await fleet.save_published(uow.session, fresh, now)

        bases = {(f.sku, f.region): f.installed_base for f in found}
        wanted = []
        for windows in await fleet.windows(uow.session, now, policy.spike):
            test = spike_test(windows, policy.spike)
            if test is not None and test.spike:
                base = bases.get((windows.sku, windows.region), 0)
                wanted.append(spike_alert(windows, test, policy.spike, base))
        active = await uow.assets.active_alerts_of([SPIKE])
        raised, resolved = changes(wanted, {k: a.kind for k, a in active.items()}, [SPIKE])
        await uow.raise_alerts(raised)
        await uow.resolve_alerts(
            [spike_resolution(key, active[key].sku, active[key].region) for key in resolved]
        )
        await uow.commit()
    return ReliabilityRun(
        published=[reliability_key(f.sku, f.region) for f in fresh],
        raised=[alert.dedup_key for alert in raised],
        resolved=resolved,
    )


async def compute_round(new_uow: Callable[[], AssetsUnitOfWork], policy: ReliabilityPolicy) -> str:
    """One round of the periodic job, and what to log of it."""
    run = await compute_reliability(datetime.now(UTC), policy, new_uow())
    if run is None:
        return "another instance is computing"
    return (
        f"{len(run.published)} figures published, {len(run.raised)} spikes raised, "
        f"{len(run.resolved)} resolved"
    )
