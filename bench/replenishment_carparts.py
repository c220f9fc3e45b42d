"""The car-parts data and the published protocol: scoring Stockwire's forecasts and the
statsforecast baselines on the same points (``uv run python bench/replenishment_carparts.py``
prints the baselines alone, in a few seconds).

857 monthly series, January 1998 to March 2002 (bench/data/carparts/PROVENANCE.md). Every
method forecasts the final 3 months (2002-01 to 2002-03) of every series from the 48
months before, and all 857 x 3 points are scored.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import poisson
from statsforecast import StatsForecast
from statsforecast.models import ADIDA, IMAPA, TSB, CrostonClassic, CrostonSBA, Naive

from stockwire.replenishment.forecasting import (
    DemandClass,
    classify_series,
    forecast_frame,
    lead_time_quantiles,
    naive_scale,
    pinball_loss,
)
from stockwire.replenishment.forecasting.calibration import CLASSIFICATION_CHOICE
from stockwire.replenishment.forecasting.methods import (
    CANDIDATES,
    cross_validate_candidates,
    forecast_candidates,
)

DATA = Path(__file__).parent / "data" / "carparts" / "parts.csv"
TEST_START = pd.Timestamp("2002-01-01")
HORIZON = 3
HOLDOUT_WINDOWS = 4
"""Stockwire's holdout on monthly data: a year of origins (4 windows of 3 months), all
within the 48 training months."""
LEVELS = (0.90, 0.95)
BASELINES = {
    "naive": Naive(alias="naive"),
    "croston": CrostonClassic(alias="croston"),
    "sba": CrostonSBA(alias="sba"),
    "tsb": TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb"),
    "adida": ADIDA(alias="adida"),
    "imapa": IMAPA(alias="imapa"),
}
"""Each baseline under the name its figures carry (``mse_<name>``)."""


def load_parts() -> pd.DataFrame:
    """Every series in statsforecast's long format: ``unique_id``, ``ds`` (month), ``y``."""
    wide = pd.read_csv(DATA, parse_dates=["date"])
    long = wide.melt(id_vars="date", var_name="unique_id", value_name="y")
    long = long.rename(columns={"date": "ds"}).astype({"y": np.float64})
    return long.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def split(parts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 48 training months and the 3 test months."""
    train = parts[parts["ds"] < TEST_START].reset_index(drop=True)
    test = parts[parts["ds"] >= TEST_START].reset_index(drop=True)
    return train, test


def baseline_forecasts(train: pd.DataFrame) -> pd.DataFrame:
    """Every baseline's forecast of the test months: ``unique_id``, ``ds``, a column each."""
    statsforecast = StatsForecast(models=list(BASELINES.values()), freq="MS", n_jobs=1)
    forecasts: pd.DataFrame = statsforecast.forecast(df=train, h=HORIZON)
    return forecasts.reset_index(drop=True)


@dataclass(frozen=True)
class Scorer:
    """Scores forecasts of the test points (aligned with ``test``'s rows)."""

    test: pd.DataFrame
    scale: pd.Series
    """In-sample naive MAE of each series over the training months (MASE's scale)."""

    @classmethod
    def of(cls, train: pd.DataFrame, test: pd.DataFrame) -> "Scorer":
        return cls(test, naive_scale(train))

    @property
    def y(self) -> np.ndarray:
        values: np.ndarray = self.test["y"].to_numpy(dtype=np.float64)
        return values

    def mse(self, mean: np.ndarray) -> float:
        return float(np.mean((self.y - mean) ** 2))

    def mase(self, mean: np.ndarray) -> float:
        """Mean over series of the test MAE over the series' in-sample naive MAE."""
        errors = pd.Series(np.abs(self.y - mean), index=self.test["unique_id"])
        per_series = errors.groupby(level=0).mean() / self.scale
        return float(per_series.mean())

    def ql50(self, mean: np.ndarray) -> float:
        """Mean pinball loss at 0.5 of the point forecast: half its MAE."""
        return float(np.mean(pinball_loss(self.y, mean, 0.5)))

    def pinball(self, quantile: np.ndarray, level: float) -> float:
        return float(np.mean(pinball_loss(self.y, quantile, level)))

    def coverage(self, quantile: np.ndarray) -> float:
        return float(np.mean(self.y <= quantile))

    def distribution(self, forecasts: pd.DataFrame, level: float) -> tuple[float, float]:
        """Pinball loss and coverage of the one-month quantile at ``level`` of the
        distributions in ``forecasts`` (a row per test point)."""
        quantile = lead_time_quantiles(
            forecasts["mean"].to_numpy(),
            forecasts["dispersion"].to_numpy(),
            1,
            level,
            forecasts["level_uncertainty"].to_numpy(),
        )
        return self.pinball(quantile, level), self.coverage(quantile)

    def poisson(self, mean: np.ndarray, level: float) -> tuple[float, float]:
        """Pinball loss and coverage of the Poisson quantile around ``mean``."""
        quantile = poisson.ppf(level, mean)
        return self.pinball(quantile, level), self.coverage(quantile)


def aligned(test: pd.DataFrame, forecasts: pd.DataFrame, column: str) -> np.ndarray:
    """``forecasts[column]`` in the order of ``test``'s rows."""
    merged = test[["unique_id", "ds"]].merge(forecasts, on=["unique_id", "ds"], how="left")
    values: np.ndarray = merged[column].to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{column} has no forecast for some test points")
    return values


def baseline_figures(scorer: Scorer, forecasts: pd.DataFrame) -> dict[str, float]:
    """The baselines' figures: MSE of each, MASE of naive, QL(0.5) of Croston, SBA and
    TSB, and the Poisson quantiles around the Croston and TSB means."""
    figures: dict[str, float] = {}
    means = {name: aligned(scorer.test, forecasts, name) for name in BASELINES}
    for name, mean in means.items():
        figures[f"mse_{name}"] = scorer.mse(mean)
    figures["mase_naive"] = scorer.mase(means["naive"])
    for name in ("croston", "sba", "tsb"):
        figures[f"ql50_{name}"] = scorer.ql50(means[name])
    for name in ("croston", "tsb"):
        for level in (0.90, 0.95):
            loss, coverage = scorer.poisson(means[name], level)
            percent = round(level * 100)
            figures[f"pinball{percent}_poisson_{name}"] = loss
            figures[f"coverage{percent}_poisson_{name}"] = coverage
    return figures


def stockwire_figures(scorer: Scorer, train: pd.DataFrame) -> dict[str, float]:
    """Stockwire's forecasts (``forecast_frame`` on the 48 months alone) scored: MSE,
    MASE, QL(0.5) of the mean; pinball loss and coverage of the one-month quantiles."""
    result = forecast_frame(train, horizon=HORIZON, n_windows=HOLDOUT_WINDOWS)
    forecasts = scorer.test[["unique_id"]].merge(result.series, on="unique_id", how="left")
    mean = forecasts["mean"].to_numpy(dtype=np.float64)
    figures = {"mse": scorer.mse(mean), "mase": scorer.mase(mean), "ql50": scorer.ql50(mean)}
    for level in LEVELS:
        loss, coverage = scorer.distribution(forecasts, level)
        figures[f"pinball{round(level * 100)}"] = loss
        figures[f"coverage{round(level * 100)}"] = coverage
    figures["coverage95_gap"] = abs(figures["coverage95"] - 0.95)
    return figures


def alternative_figures(scorer: Scorer, train: pd.DataFrame) -> dict[str, float]:
    """MSE of the two other ways to choose a method, from the same candidates:
    ``mse_sb_rule``, the Syntetos-Boylan rule (SES for smooth and erratic series, SBA for
    the others), and ``mse_series_pick``, each series' own best candidate on its rolling
    holdout (the same windows Stockwire's per-class fit uses)."""
    positional = train.assign(ds=train.groupby("unique_id").cumcount())
    candidates = forecast_candidates(positional, horizon=HORIZON, engine=None, n_jobs=1)
    holdout = cross_validate_candidates(
        positional, horizon=HORIZON, n_windows=HOLDOUT_WINDOWS, engine=None, n_jobs=1
    )
    classes = train.groupby("unique_id")["y"].apply(lambda y: classify_series(y.to_numpy()))
    rule = classes.map(lambda demand_class: CLASSIFICATION_CHOICE[DemandClass(demand_class)])
    squared = holdout[list(CANDIDATES)].sub(holdout["y"], axis=0).pow(2)
    best = squared.groupby(holdout["unique_id"]).mean().idxmin(axis=1)
    ids = scorer.test["unique_id"]
    return {
        "mse_sb_rule": scorer.mse(_picked(candidates, rule.reindex(ids).to_numpy(), ids)),
        "mse_series_pick": scorer.mse(_picked(candidates, best.reindex(ids).to_numpy(), ids)),
    }


def _picked(candidates: pd.DataFrame, names: np.ndarray, ids: pd.Series) -> np.ndarray:
    """For each test point (series ``ids``), the forecast of the candidate named."""
    table = candidates.reindex(ids).to_numpy(dtype=np.float64)
    column = np.array([CANDIDATES.index(name) for name in names])
    picked: np.ndarray = table[np.arange(len(column)), column]
    return picked


if __name__ == "__main__":
    train, test = split(load_parts())
    scorer = Scorer.of(train, test)
    for name, value in baseline_figures(scorer, baseline_forecasts(train)).items():
        print(f"{name:32} {value:.4f}")
