"""How reliable a model is, and whether it is failing more than it usually does.

**Figures.** A model's (or a model's in one region) total operating time T, in hours,
counts every device of the model, those that never failed too; r is its recorded
failures. Then, with a confidence c and a = 1 - c:

- failures per device-year: r / (T / 8766), a device-year being 365.25 days;
- MTBF: T / r;
- its two-sided chi-square interval for a time-terminated observation (the count stops
  at a time, not at a failure), chi2(p, k) being the p-quantile with k degrees of
  freedom: 2T / chi2(1 - a/2, 2r + 2) <= MTBF <= 2T / chi2(a/2, 2r);
- with r = 0 there is no MTBF and no upper bound; the lower bound is T / ln(1/a).

T is first rounded to the 3 places the contract keeps, and every figure is computed from
that T, so a reader recomputes the same numbers from a published record. Hours are then
rounded to 3 places and rates to 6, half to even: rounding is monotone, so the rounded
bounds still enclose the rounded MTBF. A figure beyond the contract's range (a handful
of failures in minutes of operation) is capped at :data:`MAX_HOURS` or :data:`MAX_RATE`.

**Failure spike.** Each model (and model in a region) is compared with its own past. Its
baseline rate is its failures per operating hour over the baseline window (90 days by
default) that ends where the recent window (7 days by default) begins. Were the model
failing as it used to, the failures X in the recent window would be Poisson with mean

    expected = baseline rate * operating hours in the recent window

and the one-sided test is

    p = P(X >= observed | expected)

A spike is p < alpha (0.001 by default) with at least a minimum count of failures (3 by
default), so one unlucky failure of a model that never fails raises nothing. A model with
no operating time in its baseline window has no baseline and is not tested. The baseline
rate is taken as known: with few baseline failures the test is quicker to call a spike
than an exact two-sample test would be, which the small alpha and the minimum count hold
back. A model whose baseline had no failure at all expects none, so any recent count at
the minimum is a spike.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from scipy.special import gammainc, gammaincinv

from stockwire.assets.domain.alerts import Alert, Resolution, dedup_key
from stockwire.contracts.vocabulary import AlertSeverity, AssetAlertKind

HOURS_PER_DEVICE_YEAR = Decimal(8766)
"""A device-year is 365.25 days of operating time (the contract's figure)."""

HOURS_PLACES = Decimal("0.001")
RATE_PLACES = Decimal("0.000001")
FIGURE_PLACES = Decimal("0.000001")
"""An alert's figures keep 6 places (the common alert shape's)."""
MAX_HOURS = Decimal(10**15)
"""The largest operating time or MTBF figure the contract takes."""
MAX_RATE = Decimal(10**9)
"""The largest failures per device-year the contract takes."""

SPIKE = AssetAlertKind.FAILURE_SPIKE


@dataclass(frozen=True, slots=True)
class Fleet:
    """What the records say of a model (in a region, or everywhere when ``region`` is
    None): the devices installed now, their total operating time and their failures."""

    sku: str
    region: str | None
    installed_base: int
    operating_hours: Decimal
    failures: int


@dataclass(frozen=True, slots=True)
class Reliability:
    """A fleet's figures at ``confidence``, rounded as the contract keeps them."""

    sku: str
    region: str | None
    installed_base: int
    operating_hours: Decimal
    device_years: Decimal
    failures: int
    failures_per_device_year: Decimal | None
    mtbf_hours: Decimal | None
    mtbf_lower_hours: Decimal
    mtbf_upper_hours: Decimal | None
    confidence: Decimal


def reliability(fleet: Fleet, confidence: Decimal) -> Reliability:
    """The fleet's failure rate and MTBF with its interval at ``confidence`` (0 < c < 1)."""
    if not 0 < confidence < 1:
        raise ValueError("the confidence lies strictly between 0 and 1")
    if fleet.failures < 0 or fleet.operating_hours < 0:
        raise ValueError("operating time and failures are never negative")
    hours = _hours(fleet.operating_hours)
    r = fleet.failures
    a = 1 - float(confidence)
    rate = _rate(r * HOURS_PER_DEVICE_YEAR / hours) if hours > 0 else None
    if r == 0:
        mtbf = upper = None
        lower = _hours(hours / Decimal(repr(math.log(1 / a))))
    else:
        mtbf = _hours(hours / r)
        lower = _hours(2 * hours / _quantile(1 - a / 2, 2 * r + 2))
        upper = _hours(2 * hours / _quantile(a / 2, 2 * r))
    return Reliability(
        sku=fleet.sku,
        region=fleet.region,
        installed_base=fleet.installed_base,
        operating_hours=hours,
        device_years=_hours(hours / HOURS_PER_DEVICE_YEAR),
        failures=r,
        failures_per_device_year=rate,
        mtbf_hours=mtbf,
        mtbf_lower_hours=lower,
        mtbf_upper_hours=upper,
        confidence=confidence,
    )


def changed(before: Reliability | None, now: Reliability, ratio: Decimal) -> bool:
    """Whether ``now`` tells a reader something ``before`` (last published) did not: the
    installed base, the failures or the confidence differ, or the operating time grew by
    more than ``ratio`` of what it was. With r and c the same, every figure moves with T
    alone (in proportion, or its inverse), so T's relative change bounds them all; time
    passing is not news until it adds up."""
    if before is None:
        return True
    if (before.installed_base, before.failures, before.confidence) != (
        now.installed_base,
        now.failures,
        now.confidence,
    ):
        return True
    grown = abs(now.operating_hours - before.operating_hours)
    return grown > ratio * before.operating_hours if before.operating_hours else grown > 0


def _quantile(p: float, dof: int) -> Decimal:
    # The chi-square p-quantile with k degrees of freedom is 2 * P^-1(k/2, p), P the
    # regularized lower incomplete gamma function (scipy.special: scipy.stats would add
    # some 50 MB to the service for two functions).
    return Decimal(repr(float(2 * gammaincinv(dof / 2, p))))


def _hours(value: Decimal) -> Decimal:
    return min(value, MAX_HOURS).quantize(HOURS_PLACES, ROUND_HALF_EVEN)


def _rate(value: Decimal) -> Decimal:
    return min(value, MAX_RATE).quantize(RATE_PLACES, ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class SpikePolicy:
    recent_days: int = 7
    baseline_days: int = 90
    alpha: float = 0.001
    minimum_failures: int = 3

    def recent_start(self, now: datetime) -> datetime:
        return now - timedelta(days=self.recent_days)

    def baseline_start(self, now: datetime) -> datetime:
        return self.recent_start(now) - timedelta(days=self.baseline_days)


@dataclass(frozen=True, slots=True)
class Windows:
    """A fleet's failures and operating hours in the recent window and in the baseline
    window before it."""

    sku: str
    region: str | None
    recent_failures: int
    recent_hours: Decimal
    baseline_failures: int
    baseline_hours: Decimal


@dataclass(frozen=True, slots=True)
class SpikeTest:
    observed: int
    expected: Decimal
    p_value: Decimal
    spike: bool


def spike_test(windows: Windows, policy: SpikePolicy) -> SpikeTest | None:
    """The recent failures against the baseline's; None when there is no baseline (no
    operating time in the baseline window)."""
    if windows.baseline_hours <= 0:
        return None
    observed = windows.recent_failures
    expected = windows.baseline_failures * windows.recent_hours / windows.baseline_hours
    # P(X >= n) for X ~ Poisson(mu) is P(n, mu), the regularized lower incomplete gamma.
    p_value = float(gammainc(observed, float(expected))) if observed > 0 else 1.0
    return SpikeTest(
        observed=observed,
        expected=expected.quantize(FIGURE_PLACES, ROUND_HALF_EVEN),
        p_value=Decimal(repr(p_value)).quantize(FIGURE_PLACES, ROUND_HALF_EVEN),
        spike=observed >= policy.minimum_failures and p_value < policy.alpha,
    )


def spike_key(sku: str, region: str | None) -> str:
    return dedup_key(SPIKE, sku) if region is None else dedup_key(SPIKE, sku, region)


def spike_alert(
    windows: Windows, test: SpikeTest, policy: SpikePolicy, installed_base: int
) -> Alert:
    """The failure spike alert of a fleet whose test found one."""
    where = f" in {windows.region}" if windows.region is not None else ""
    return Alert(
        kind=SPIKE,
        severity=AlertSeverity.WARNING,
        dedup_key=spike_key(windows.sku, windows.region),
        summary=f"failure spike for {windows.sku}{where}: {test.observed} failures in the "
        f"last {policy.recent_days} days, {test.expected.normalize():f} expected from the "
        f"previous {policy.baseline_days} days (p = {test.p_value.normalize():f})",
        sku=windows.sku,
        region=windows.region,
        figures={
            "observed": Decimal(test.observed),
            "expected": test.expected,
            "p_value": test.p_value,
            "window_days": Decimal(policy.recent_days),
            "baseline_days": Decimal(policy.baseline_days),
            "installed_base": Decimal(installed_base),
        },
    )


def spike_resolution(key: str, sku: str | None, region: str | None) -> Resolution:
    """The resolution of the failure spike alert ``key``: the model is back to its usual."""
    where = f" in {region}" if region is not None else ""
    return Resolution(
        SPIKE.value,
        key,
        f"failures of {sku}{where} are back within their baseline",
        sku=sku,
        region=region,
    )
