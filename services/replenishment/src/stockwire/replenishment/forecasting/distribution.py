"""Demand as a distribution: negative binomial per period, and its sum over a lead time.

Per period, demand is negative binomial with mean ``mean`` and variance
``dispersion * mean`` (the "NB1" form: ``dispersion`` is the variance-to-mean ratio,
1 being Poisson). With the success probability ``p = 1 / dispersion`` and the size
``r = mean / (dispersion - 1)``, a sum of L independent periods is again negative
binomial, with size ``L * r`` and the same p: mean ``L * mean``, variance
``L * dispersion * mean``. So one pair of numbers per series answers "the quantile of the
demand over the next L periods at level p", for any L and p, exactly and without
simulation.

Why NB1: for compound-Poisson demand (orders arrive as a Poisson process, each of a random
size S), the variance-to-mean ratio is E[S²]/E[S], a property of the order sizes that does
not change with the order rate. So the ratio measured on a series' whole history carries
over to its current, forecast, rate. How ``dispersion`` is estimated and calibrated is
the engine's (see :mod:`.engine`).

Quantiles are integers, the smallest k with P(demand <= k) >= level, as a stock level is.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln
from scipy.stats import nbinom, poisson

POISSON_TOLERANCE = 1e-9
"""A dispersion within this of 1 is taken as Poisson (the NB size would be infinite)."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DemandDistribution:
    """One series' demand per period: its mean and variance-to-mean ratio (>= 1)."""

    mean: float
    dispersion: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.mean) and self.mean >= 0):
            raise ValueError(f"mean must be finite and >= 0, not {self.mean}")
        if not (np.isfinite(self.dispersion) and self.dispersion >= 1):
            raise ValueError(f"dispersion must be finite and >= 1, not {self.dispersion}")


def lead_time_mean(distribution: DemandDistribution, lead_time_periods: int) -> float:
    """Expected demand over the next ``lead_time_periods`` periods."""
    _check_lead_time(lead_time_periods)
    return distribution.mean * lead_time_periods


def lead_time_variance(distribution: DemandDistribution, lead_time_periods: int) -> float:
    """Variance of the demand over the next ``lead_time_periods`` periods."""
    _check_lead_time(lead_time_periods)
    return distribution.dispersion * distribution.mean * lead_time_periods


def lead_time_quantile(
    distribution: DemandDistribution, lead_time_periods: int, level: float
) -> float:
    """Smallest whole demand the next ``lead_time_periods`` periods stay at or below with
    probability ``level`` (0 < level < 1)."""
    quantiles = lead_time_quantiles(
        np.array([distribution.mean]),
        np.array([distribution.dispersion]),
        lead_time_periods,
        level,
    )
    return float(quantiles[0])


def lead_time_quantiles(
    mean: FloatArray, dispersion: FloatArray, lead_time_periods: int, level: float
) -> FloatArray:
    """:func:`lead_time_quantile` for many series at once."""
    _check_lead_time(lead_time_periods)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level}")
    total = np.asarray(mean, dtype=np.float64) * lead_time_periods
    ratio = np.asarray(dispersion, dtype=np.float64)
    result = np.zeros_like(total)
    positive = total > 0
    is_poisson = positive & (ratio - 1 <= POISSON_TOLERANCE)
    is_nb = positive & ~is_poisson
    result[is_poisson] = poisson.ppf(level, total[is_poisson])
    size, probability = _nb_parameters(total[is_nb], ratio[is_nb])
    result[is_nb] = nbinom.ppf(level, size, probability)
    return result


def log_pmf(y: FloatArray, mean: FloatArray, dispersion: FloatArray) -> FloatArray:
    """Log-probability of each count ``y`` under its NB1(mean, dispersion); mean > 0."""
    ratio = np.maximum(np.asarray(dispersion, dtype=np.float64), 1.0)
    result = np.empty_like(np.asarray(y, dtype=np.float64))
    is_poisson = ratio - 1 <= POISSON_TOLERANCE
    p_y, p_mean = y[is_poisson], mean[is_poisson]
    result[is_poisson] = p_y * np.log(p_mean) - p_mean - gammaln(p_y + 1)
    n_y = y[~is_poisson]
    size, probability = _nb_parameters(mean[~is_poisson], ratio[~is_poisson])
    result[~is_poisson] = (
        gammaln(n_y + size)
        - gammaln(size)
        - gammaln(n_y + 1)
        + size * np.log(probability)
        + n_y * np.log1p(-probability)
    )
    return result


def _nb_parameters(mean: FloatArray, dispersion: FloatArray) -> tuple[FloatArray, FloatArray]:
    """scipy's (n, p) of the NB1 with this mean and variance-to-mean ratio (> 1)."""
    probability = 1.0 / dispersion
    return mean / (dispersion - 1.0), probability


def _check_lead_time(lead_time_periods: int) -> None:
    if lead_time_periods < 1:
        raise ValueError(f"lead_time_periods must be >= 1, not {lead_time_periods}")
