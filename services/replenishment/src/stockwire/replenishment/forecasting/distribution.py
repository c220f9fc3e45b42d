"""Demand as a distribution: one period's, and its sum over a lead time.

A series' forecast is three numbers: ``mean``, its demand per period; ``dispersion``,
the variance-to-mean ratio of one period's demand around that mean (1 is Poisson); and
``level_uncertainty``, how uncertain the mean itself is, as the variance of the mean's
error over one period's variance. Over the next L periods demand then has

    mean      L * mean
    variance  L * dispersion * mean * (1 + level_uncertainty * L)

The first term is the periods' own noise, which adds up over L periods; the second is the
error of the forecast's level, which every one of the L periods shares, so it grows with
L². (For an exponentially weighted mean with weight alpha, the error's variance is
alpha / (2 - alpha) of one period's: the second term's shape.) Leaving it out makes
quantiles over long lead times too low, the more so the longer the lead time.

The lead-time demand is taken as negative binomial with that mean and variance (Poisson
when the variance is no more than the mean), so one row per series answers "the quantile
of the demand over the next L periods at level p" for any L and p, exactly, without
simulation. Why the variance is proportional to the mean: for compound-Poisson demand
(orders arrive as a Poisson process, each of a random size S) the variance-to-mean ratio
is E[S²]/E[S], a property of the order sizes that does not change with the order rate,
so a ratio measured on a series' history carries over to its forecast rate. How the two
numbers are estimated and calibrated is the engine's (:mod:`.calibration`).

Quantiles are whole units, the smallest k with P(demand <= k) >= level, as a stock level
is.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, gammaln
from scipy.stats import nbinom, poisson

POISSON_TOLERANCE = 1e-9
"""A variance within this share of the mean is taken as Poisson (the NB size would be
infinite)."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DemandDistribution:
    """One series' demand per period: its mean, the variance-to-mean ratio around it
    (>= 1), and the uncertainty of the mean (>= 0), as described above."""

    mean: float
    dispersion: float
    level_uncertainty: float = 0.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.mean) and self.mean >= 0):
            raise ValueError(f"mean must be finite and >= 0, not {self.mean}")
        if not (np.isfinite(self.dispersion) and self.dispersion >= 1):
            raise ValueError(f"dispersion must be finite and >= 1, not {self.dispersion}")
        if not (np.isfinite(self.level_uncertainty) and self.level_uncertainty >= 0):
            raise ValueError(
                f"level_uncertainty must be finite and >= 0, not {self.level_uncertainty}"
            )


def lead_time_mean(distribution: DemandDistribution, lead_time_periods: int) -> float:
    """Expected demand over the next ``lead_time_periods`` periods."""
    _check_lead_time(lead_time_periods)
    return distribution.mean * lead_time_periods


def lead_time_variance(distribution: DemandDistribution, lead_time_periods: int) -> float:
    """Variance of the demand over the next ``lead_time_periods`` periods."""
    _check_lead_time(lead_time_periods)
    return float(
        _variance(
            np.array([distribution.mean]),
            np.array([distribution.dispersion]),
            np.array([distribution.level_uncertainty]),
            lead_time_periods,
        )[0]
    )


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
        np.array([distribution.level_uncertainty]),
    )
    return float(quantiles[0])


def lead_time_quantiles(
    mean: FloatArray,
    dispersion: FloatArray,
    lead_time_periods: int,
    level: float,
    level_uncertainty: FloatArray | None = None,
) -> FloatArray:
    """:func:`lead_time_quantile` for many series at once (no level uncertainty when
    ``level_uncertainty`` is None)."""
    _check_lead_time(lead_time_periods)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level}")
    per_period = np.asarray(mean, dtype=np.float64)
    uncertainty = (
        np.zeros_like(per_period)
        if level_uncertainty is None
        else np.asarray(level_uncertainty, dtype=np.float64)
    )
    total = per_period * lead_time_periods
    variance = _variance(per_period, dispersion, uncertainty, lead_time_periods)
    result = np.zeros_like(total)
    positive = total > 0
    is_poisson = positive & (variance - total <= POISSON_TOLERANCE * total)
    is_nb = positive & ~is_poisson
    result[is_poisson] = poisson.ppf(level, total[is_poisson])
    size, probability = _nb_parameters(total[is_nb], variance[is_nb])
    result[is_nb] = nbinom.ppf(level, size, probability)
    return result


def log_pmf(y: FloatArray, mean: FloatArray, variance: FloatArray) -> FloatArray:
    """Log-probability of each count ``y`` under the negative binomial with that mean
    (> 0) and variance (Poisson when the variance is no more than the mean).

    Written as -log(r + y) - log B(r, y + 1) + r log(1 - q) + y log(q), with the size r
    and q = 1 - p = (variance - mean) / variance, which stays accurate as the variance
    nears the mean (r in the billions), where the usual difference of log-gammas loses
    its digits and a likelihood fit's gradient turns to noise.
    """
    result = np.empty(np.shape(y), dtype=np.float64)
    is_poisson = variance - mean <= POISSON_TOLERANCE * mean
    p_y, p_mean = y[is_poisson], mean[is_poisson]
    result[is_poisson] = p_y * np.log(p_mean) - p_mean - gammaln(p_y + 1)
    n_y, n_mean, n_variance = y[~is_poisson], mean[~is_poisson], variance[~is_poisson]
    excess = n_variance - n_mean
    size = n_mean * n_mean / excess
    q = excess / n_variance
    result[~is_poisson] = (
        -np.log(size + n_y) - betaln(size, n_y + 1) + size * np.log1p(-q) + n_y * np.log(q)
    )
    return result


def _variance(
    mean: FloatArray, dispersion: FloatArray, level_uncertainty: FloatArray, periods: int
) -> FloatArray:
    result: FloatArray = periods * dispersion * mean * (1.0 + level_uncertainty * periods)
    return result


def _nb_parameters(mean: FloatArray, variance: FloatArray) -> tuple[FloatArray, FloatArray]:
    """scipy's (n, p) of the negative binomial with this mean and variance (> mean)."""
    return mean * mean / (variance - mean), mean / variance


def _check_lead_time(lead_time_periods: int) -> None:
    if lead_time_periods < 1:
        raise ValueError(f"lead_time_periods must be >= 1, not {lead_time_periods}")
