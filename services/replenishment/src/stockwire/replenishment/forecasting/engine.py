"""The frame-level entry point of the scheduled re-plan: every series' demand distribution.

:func:`forecast_frame` takes the demand history of many series in statsforecast's long
format and, in one call:

1. classifies each series (Syntetos-Boylan, :mod:`.classify`);
2. runs the candidate methods (:mod:`.methods`) over a rolling holdout: the last
   ``n_windows`` windows of ``horizon`` periods of each series long enough, each forecast
   from the periods before it. All five candidates run on a sample of at most
   :data:`MAX_CALIBRATION_SERIES` series per class; the other series get the holdout of
   the candidates the fits below use, enough for their accuracy;
3. fits, per demand class, the combination of candidates and the distribution's spread
   on the sample's holdout points (:mod:`.calibration`);
4. forecasts every series from its whole history with the candidates some class's fit
   uses (each is a fit of every series), and combines them with its class's fit.

The result holds each series' mean per period, dispersion and level uncertainty (its
:class:`~.distribution.DemandDistribution`: lead-time means and quantiles follow from
it), the method, the holdout points for the accuracy KPI, and each class's fit. Steps 2
and 4 are statsforecast's, and run on a cluster when ``engine`` is given; the rest is
vectorised pandas and numpy over the frame, in this process.

History must hold every period of each series, zeros included, oldest first or not; the
periods of one series must be consecutive periods of the frame (a gap is refused when
another series has that period, which is the only way to see one without a frequency).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockwire.replenishment.forecasting.accuracy import holdout_accuracy, naive_scale
from stockwire.replenishment.forecasting.calibration import PoolFit, fit_pools
from stockwire.replenishment.forecasting.classify import DemandClass, demand_stats
from stockwire.replenishment.forecasting.distribution import DemandDistribution
from stockwire.replenishment.forecasting.methods import (
    CANDIDATES,
    cross_validate_candidates,
    forecast_candidates,
)

MAX_CALIBRATION_SERIES = 4_000
"""Series per class on whose holdout all five candidates run and the class's fit is made."""
DEFAULT_WINDOWS = 2
"""Holdout windows per series: two fit in the re-plan's time budget (each window is one
more fit of every candidate on every series; docs/benchmarks.md)."""

SERIES_COLUMNS = [
    "unique_id",
    "demand_class",
    "adi",
    "cv2",
    "periods",
    "method",
    "pool",
    "mean",
    "dispersion",
    "level_uncertainty",
    "naive_mae",
]
HOLDOUT_COLUMNS = ["unique_id", "ds", "cutoff", "y", "mean", "dispersion", "level_uncertainty"]


@dataclass(frozen=True)
class FrameForecast:
    """The re-plan's forecasts.

    - ``series``: a row per series: ``unique_id``, ``demand_class``, ``adi``, ``cv2``,
      ``periods`` (of history), ``method``, ``pool`` (where its class's fit came from,
      :class:`~.calibration.PoolSource`), ``mean`` (per period), ``dispersion``
      (variance-to-mean ratio per period), ``level_uncertainty`` (see
      :mod:`.distribution`) and ``naive_mae`` (MASE's scale);
    - ``holdout``: a row per holdout point: ``unique_id``, ``ds``, ``cutoff`` (the last
      period its forecast saw), ``y`` and the forecast's ``mean``, ``dispersion`` and
      ``level_uncertainty``;
    - ``pools``: each class's fit.
    """

    series: pd.DataFrame
    holdout: pd.DataFrame
    pools: dict[DemandClass, PoolFit]

    def distribution(self, unique_id: str) -> DemandDistribution:
        """One series' demand distribution per period."""
        row = self.series.loc[self.series["unique_id"] == unique_id]
        if row.empty:
            raise KeyError(unique_id)
        return DemandDistribution(
            mean=float(row["mean"].iloc[0]),
            dispersion=float(row["dispersion"].iloc[0]),
            level_uncertainty=float(row["level_uncertainty"].iloc[0]),
        )

    def accuracy(self, *, level: float) -> pd.DataFrame:
        """Per series with holdout points: MASE, bias, pinball loss and coverage at
        ``level`` (see :func:`~.accuracy.holdout_accuracy`)."""
        scale = self.series.set_index("unique_id")["naive_mae"]
        return holdout_accuracy(self.holdout, scale, level=level)


def forecast_frame(
    history: pd.DataFrame,
    *,
    horizon: int,
    season_length: int = 1,
    engine: object | None = None,
    n_jobs: int = 1,
    n_windows: int = DEFAULT_WINDOWS,
) -> FrameForecast:
    """Forecast every series of ``history`` (columns ``unique_id``, ``ds``, ``y``).

    ``horizon`` is the holdout windows' length in periods (and the forecasts'; they are
    flat). ``season_length`` sets MASE's naive forecast. ``engine`` runs statsforecast on
    a cluster (a Dask ``Client``, or any other engine fugue's ``transform`` takes);
    ``n_jobs`` is statsforecast's processes when it runs here. A series joins the holdout
    when it has at least ``(n_windows + 1) * horizon`` periods.
    """
    if horizon < 1 or n_windows < 1 or n_jobs < 1:
        raise ValueError("horizon, n_windows and n_jobs must be >= 1")
    frame = _prepared(history)
    ids = frame["unique_id"].to_numpy()
    y = frame["y"].to_numpy(dtype=np.float64)
    boundaries = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    starts, ends = boundaries[:-1], boundaries[1:]
    series_ids = ids[starts]
    lengths = ends - starts
    start_of = pd.Series(starts, index=series_ids)

    positional = pd.DataFrame(
        {"unique_id": ids, "ds": np.arange(y.size) - np.repeat(starts, lengths), "y": y}
    )
    stats = demand_stats(y, starts, ends)
    stats.index = series_ids
    holdout_periods = n_windows * horizon
    eligible = lengths >= holdout_periods + horizon
    points = _HoldoutPoints(positional, y, start_of, n_windows, horizon, engine, n_jobs)

    calibration_ids = _calibration_sample(stats.loc[eligible, "demand_class"])
    calibration = points.of(calibration_ids, CANDIDATES)
    pools = fit_pools(calibration)
    others = series_ids[eligible & ~pd.Index(series_ids).isin(calibration_ids)]
    # At least one candidate, so every series has its holdout points for the accuracy KPI
    # even when every fit is all zeros (a frame without demand).
    holdout_names = _used(pools, set(DemandClass)) or [CANDIDATES[0]]
    holdout = pd.concat([calibration, points.of(others, holdout_names)], ignore_index=True)
    holdout = holdout.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)

    present = {DemandClass(name) for name in stats["demand_class"].unique()}
    candidates = forecast_candidates(
        positional, horizon=horizon, engine=engine, n_jobs=n_jobs, names=_used(pools, present)
    )
    series = _series_forecasts(stats, candidates.reindex(series_ids), pools)
    before_holdout = np.arange(y.size) < np.repeat(
        np.where(eligible, ends - holdout_periods, ends), lengths
    )
    scale = naive_scale(frame.loc[before_holdout], season_length=season_length)
    series["naive_mae"] = scale.reindex(series_ids).to_numpy()

    holdout_out = _holdout_forecasts(holdout, pools, frame["ds"].to_numpy(), start_of)
    return FrameForecast(series[SERIES_COLUMNS], holdout_out, pools)


def _prepared(history: pd.DataFrame) -> pd.DataFrame:
    """``history`` sorted by series and period, checked: non-negative finite demand, one
    row per series and period, no period missing inside a series."""
    missing = {"unique_id", "ds", "y"} - set(history.columns)
    if missing:
        raise ValueError(f"history lacks the columns {sorted(missing)}")
    if history.empty:
        raise ValueError("history has no rows")
    frame = pd.DataFrame(
        {
            "unique_id": history["unique_id"].astype(str).to_numpy(),
            "ds": history["ds"].to_numpy(),
            "y": history["y"].to_numpy(dtype=np.float64),
        }
    )
    if not np.isfinite(frame["y"]).all() or (frame["y"] < 0).any():
        raise ValueError("demand must be finite and >= 0")
    frame = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    period = pd.Series(pd.factorize(frame["ds"], sort=True)[0], index=frame.index)
    spans = period.groupby(frame["unique_id"], sort=False).agg(["min", "max", "size"])
    if (
        spans["size"].sum() != len(frame)
        or (spans["max"] - spans["min"] + 1 != spans["size"]).any()
    ):
        bad = spans.index[spans["max"] - spans["min"] + 1 != spans["size"]][:5].tolist()
        raise ValueError(f"series with a missing or repeated period, e.g. {bad}")
    return frame


def _calibration_sample(classes: pd.Series) -> np.ndarray:
    """The series (ids, sorted) whose holdout the pools are fitted on: every one of a class
    with at most :data:`MAX_CALIBRATION_SERIES` of them, a seeded random sample of that
    many of a larger class (a few thousand series pin down a pool's seven numbers)."""
    chosen = []
    rng = np.random.default_rng(0)
    for _, members in classes.groupby(classes, sort=True):
        ids = np.sort(members.index.to_numpy())
        if ids.size > MAX_CALIBRATION_SERIES:
            ids = np.sort(rng.choice(ids, MAX_CALIBRATION_SERIES, replace=False))
        chosen.append(ids)
    return np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=object)


def _used(pools: dict[DemandClass, PoolFit], classes: set[DemandClass]) -> list[str]:
    """The candidates with weight in the fit of any of ``classes``."""
    return [name for name in CANDIDATES if any(pools[each].weights[name] > 0 for each in classes)]


@dataclass(frozen=True)
class _HoldoutPoints:
    """Runs candidates over the rolling holdout of chosen series."""

    positional: pd.DataFrame
    y: np.ndarray
    start_of: pd.Series
    n_windows: int
    horizon: int
    engine: object | None
    n_jobs: int

    def of(self, series: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
        """Holdout forecasts of the candidates ``names`` for ``series``, with each one's
        class and dispersion index over the history before each window."""
        columns = [
            "unique_id",
            "ds",
            "cutoff",
            "y",
            *CANDIDATES,
            "demand_class",
            "dispersion_index",
        ]
        if series.size == 0:
            return pd.DataFrame({name: [] for name in columns})
        points = cross_validate_candidates(
            self.positional[self.positional["unique_id"].isin(series)],
            horizon=self.horizon,
            n_windows=self.n_windows,
            engine=self.engine,
            n_jobs=self.n_jobs,
            names=names,
        )
        first = self.start_of.reindex(points["unique_id"]).to_numpy()
        before = demand_stats(self.y, first, first + points["cutoff"].to_numpy() + 1)
        points["demand_class"] = before["demand_class"].to_numpy()
        points["dispersion_index"] = before["dispersion_index"].to_numpy()
        return points[columns]


def _series_forecasts(
    stats: pd.DataFrame, candidates: pd.DataFrame, pools: dict[DemandClass, PoolFit]
) -> pd.DataFrame:
    series = stats.rename_axis("unique_id").reset_index()
    series["method"] = ""
    series["pool"] = ""
    series["mean"] = 0.0
    series["dispersion"] = 1.0
    series["level_uncertainty"] = 0.0
    for demand_class, fit in pools.items():
        members = (series["demand_class"] == demand_class.value).to_numpy()
        if not members.any():
            continue
        series.loc[members, "method"] = fit.method
        series.loc[members, "pool"] = fit.source.value
        series.loc[members, "mean"] = fit.mean(candidates.loc[members])
        series.loc[members, "dispersion"] = fit.dispersion(
            series.loc[members, "dispersion_index"].to_numpy()
        )
        series.loc[members, "level_uncertainty"] = fit.level_uncertainty
    return series


def _holdout_forecasts(
    holdout: pd.DataFrame,
    pools: dict[DemandClass, PoolFit],
    dates: np.ndarray,
    start_of: pd.Series,
) -> pd.DataFrame:
    """Holdout points with their combined forecast, periods back in ``history``'s ``ds``."""
    result = pd.DataFrame(
        {
            "unique_id": holdout["unique_id"].to_numpy(),
            "y": holdout["y"].to_numpy(dtype=np.float64),
            "mean": np.zeros(len(holdout)),
            "dispersion": np.ones(len(holdout)),
            "level_uncertainty": np.zeros(len(holdout)),
        }
    )
    first = start_of.reindex(holdout["unique_id"]).to_numpy().astype(np.int64)
    result["ds"] = dates[first + holdout["ds"].to_numpy(dtype=np.int64)] if len(holdout) else []
    result["cutoff"] = (
        dates[first + holdout["cutoff"].to_numpy(dtype=np.int64)] if len(holdout) else []
    )
    for demand_class, fit in pools.items():
        members = (holdout["demand_class"] == demand_class.value).to_numpy()
        if not members.any():
            continue
        result.loc[members, "mean"] = fit.mean(holdout.loc[members])
        result.loc[members, "dispersion"] = fit.dispersion(
            holdout.loc[members, "dispersion_index"].to_numpy(dtype=np.float64)
        )
        result.loc[members, "level_uncertainty"] = fit.level_uncertainty
    return result[HOLDOUT_COLUMNS]
