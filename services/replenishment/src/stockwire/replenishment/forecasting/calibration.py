"""Choosing the forecast per demand class from the rolling holdout.

Each class's series form a pool. On the pool's holdout points (forecasts made only from
the periods before each window), two things are fitted:

- **the mean**: the non-negative combination of the candidates' forecasts with the least
  squared error (non-negative least squares, no intercept). It chooses a method when one
  candidate takes all the weight, and a blend when a blend is better; the weights may sum
  to less than 1, which shrinks the forecasts where the candidates over-forecast (as they
  do for parts going out of use) and where they chase noise;
- **the spread**, two factors per pool fitted together by maximum likelihood (negative
  binomial, :mod:`.distribution`) on the pool's holdout: each series' variance-to-mean
  ratio is its own history's, ``D`` (see :mod:`.classify`), shrunk toward Poisson,
  ``dispersion = 1 + shrinkage * (D - 1)``; and the ``level_uncertainty``, the error of
  the mean shared by every period after a cutoff. The likelihood is a composite one: of
  each holdout period alone (lead time 1) and of each window's sum (lead time ``horizon``),
  whose variance the level's error enters with the square of the window's length, so the
  two factors are told apart. A likelihood fit calibrates the whole distribution, so
  quantiles at any service level, over one period or several, follow.

A class with fewer than :data:`MIN_POOL_SERIES` series in the holdout borrows the whole
frame's pool; a frame with fewer than that has no evidence to fit on, and falls back to
the Syntetos-Boylan choice: SES for smooth and erratic series, SBA for intermittent and
lumpy ones, with the series' own dispersion unshrunk and the level uncertainty of an
exponentially weighted mean of weight 0.1 (0.1 / (2 - 0.1), SBA's weight).

"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls

from stockwire.replenishment.forecasting.classify import DemandClass
from stockwire.replenishment.forecasting.distribution import log_pmf
from stockwire.replenishment.forecasting.methods import CANDIDATES

MIN_POOL_SERIES = 30
MAX_SHRINKAGE = 3.0
MAX_LEVEL_UNCERTAINTY = 2.0
FALLBACK_LEVEL_UNCERTAINTY = 0.1 / (2 - 0.1)
MIN_MEAN = 1e-6
"""Holdout points forecast below this carry no information on the dispersion."""

CLASSIFICATION_CHOICE: dict[DemandClass, str] = {
    DemandClass.SMOOTH: "SES",
    DemandClass.ERRATIC: "SES",
    DemandClass.INTERMITTENT: "SBA",
    DemandClass.LUMPY: "SBA",
    DemandClass.NO_DEMAND: "SBA",
}


class PoolSource(StrEnum):
    CLASS = "class"
    """Fitted on the class's own holdout points."""
    FRAME = "frame"
    """The class had too few series in the holdout: fitted on every series'."""
    CLASSIFICATION = "classification"
    """Too few series in the holdout altogether: the Syntetos-Boylan choice."""


@dataclass(frozen=True)
class PoolFit:
    """What one demand class's series are forecast with."""

    demand_class: DemandClass
    source: PoolSource
    weights: dict[str, float]
    shrinkage: float
    level_uncertainty: float
    holdout_series: int
    """Distinct series whose holdout points the fit used (0 for the fallback)."""

    @property
    def method(self) -> str:
        """The method as people read it: ``"TSB"``, or ``"0.41 TSB + 0.37 IMAPA"``."""
        used = [(name, weight) for name, weight in self.weights.items() if weight > 0]
        if len(used) == 1 and used[0][1] == 1.0:
            return used[0][0]
        if not used:
            return "zero"
        ordered = sorted(used, key=lambda item: -item[1])
        return " + ".join(f"{weight:.3g} {name}" for name, weight in ordered)

    def mean(self, candidates: pd.DataFrame) -> np.ndarray:
        """The mean forecast from the candidates' forecasts (a column per candidate)."""
        weights = np.array([self.weights[name] for name in CANDIDATES])
        result: np.ndarray = candidates[list(CANDIDATES)].to_numpy(dtype=np.float64) @ weights
        return result

    def dispersion(self, dispersion_index: np.ndarray) -> np.ndarray:
        """The forecast's variance-to-mean ratio from the history's."""
        result: np.ndarray = 1.0 + self.shrinkage * (dispersion_index - 1.0)
        return result


def fit_pools(holdout: pd.DataFrame) -> dict[DemandClass, PoolFit]:
    """A :class:`PoolFit` per demand class from the holdout points.

    ``holdout`` has a row per point: ``unique_id``, ``cutoff``, ``y``, a column per
    candidate, and the series' ``demand_class`` and ``dispersion_index`` over the history
    before the point's window.
    """
    frame = _fit(holdout) if holdout["unique_id"].nunique() >= MIN_POOL_SERIES else None
    fits: dict[DemandClass, PoolFit] = {}
    for demand_class in DemandClass:
        pool = holdout[holdout["demand_class"] == demand_class.value]
        if pool["unique_id"].nunique() >= MIN_POOL_SERIES:
            fits[demand_class] = PoolFit(demand_class, PoolSource.CLASS, *_fit(pool))
        elif frame is not None:
            fits[demand_class] = PoolFit(demand_class, PoolSource.FRAME, *frame)
        else:
            fits[demand_class] = classification_fit(demand_class)
    return fits


def classification_fit(demand_class: DemandClass) -> PoolFit:
    """The Syntetos-Boylan choice for a class, with the history's dispersion unshrunk."""
    chosen = CLASSIFICATION_CHOICE[demand_class]
    weights = {name: 1.0 if name == chosen else 0.0 for name in CANDIDATES}
    return PoolFit(
        demand_class, PoolSource.CLASSIFICATION, weights, 1.0, FALLBACK_LEVEL_UNCERTAINTY, 0
    )


def _fit(pool: pd.DataFrame) -> tuple[dict[str, float], float, float, int]:
    """Weights, shrinkage, level uncertainty and series count fitted on a pool's holdout."""
    candidates = pool[list(CANDIDATES)].to_numpy(dtype=np.float64)
    y = pool["y"].to_numpy(dtype=np.float64)
    solution, _ = nnls(candidates, y)
    weights = {name: float(weight) for name, weight in zip(CANDIDATES, solution, strict=True)}
    points = pool.assign(mean=candidates @ solution)
    shrinkage, level_uncertainty = _fit_spread(points[points["mean"] >= MIN_MEAN])
    return weights, shrinkage, level_uncertainty, int(pool["unique_id"].nunique())


def _fit_spread(points: pd.DataFrame) -> tuple[float, float]:
    """Shrinkage and level uncertainty maximising the composite likelihood of the
    periods and of the windows' sums."""
    if points.empty:
        return 1.0, FALLBACK_LEVEL_UNCERTAINTY
    windows = points.groupby(["unique_id", "cutoff"], sort=False).agg(
        y=("y", "sum"), mean=("mean", "first"), d=("dispersion_index", "first"), n=("y", "size")
    )
    y = np.concatenate([points["y"].to_numpy(), windows["y"].to_numpy()]).astype(np.float64)
    periods = np.concatenate([np.ones(len(points)), windows["n"].to_numpy()]).astype(np.float64)
    mean = periods * np.concatenate([points["mean"].to_numpy(), windows["mean"].to_numpy()])
    excess = np.concatenate([points["dispersion_index"].to_numpy(), windows["d"].to_numpy()]) - 1

    def negative_log_likelihood(factors: np.ndarray) -> float:
        shrinkage, level_uncertainty = factors
        variance = mean * (1.0 + shrinkage * excess) * (1.0 + level_uncertainty * periods)
        return -float(log_pmf(y, mean, variance).sum())

    result = minimize(
        negative_log_likelihood,
        x0=np.array([1.0, FALLBACK_LEVEL_UNCERTAINTY]),
        method="L-BFGS-B",
        bounds=[(0.0, MAX_SHRINKAGE), (0.0, MAX_LEVEL_UNCERTAINTY)],
    )
    return float(result.x[0]), float(result.x[1])
