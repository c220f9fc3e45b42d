"""The candidate methods, and running them through statsforecast, here or on a cluster.

Every candidate is one of statsforecast's models made for spare parts, plus simple
exponential smoothing for smooth demand. All of them forecast a flat mean per period:

- ``SES``: simple exponential smoothing, its smoothing weight fitted per series;
- ``SBA``: Croston's method with the Syntetos-Boylan bias correction;
- ``TSB``: Teunter-Syntetos-Babai, which lets the demand probability decay between
  demands (alpha_d = alpha_p = 0.1), so obsolescence shows;
- ``ADIDA``: aggregate to the mean interval between demands, forecast, disaggregate;
- ``IMAPA``: ADIDA over every aggregation level up to that interval, averaged.

``engine`` (anything fugue's ``engine_context`` takes: a Dask ``Client``, a Spark
session, a Ray context, or a fugue engine) sends the same call to statsforecast's fugue
backend, which fits the series partition by partition on the cluster. Forecasts come
back as float32 there (the schema statsforecast's fugue backend declares), so the local
path rounds them to float32 as well: a local run and a cluster run then give the same
numbers to the bit.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from fugue.dataframe.api import as_pandas
from fugue.execution.api import engine_context
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    CrostonSBA,
    SimpleExponentialSmoothingOptimized,
)

CANDIDATES: tuple[str, ...] = ("SES", "SBA", "TSB", "ADIDA", "IMAPA")
"""Column names of the candidates' forecasts, in a fixed order."""

TSB_ALPHA = 0.1


def candidate_models(names: Sequence[str] = CANDIDATES) -> list[Any]:
    """Fresh statsforecast models for ``names`` (of :data:`CANDIDATES`), in that order."""
    models: dict[str, Any] = {
        "SES": SimpleExponentialSmoothingOptimized(alias="SES"),
        "SBA": CrostonSBA(alias="SBA"),
        "TSB": TSB(alpha_d=TSB_ALPHA, alpha_p=TSB_ALPHA, alias="TSB"),
        "ADIDA": ADIDA(alias="ADIDA"),
        "IMAPA": IMAPA(alias="IMAPA"),
    }
    return [models[name] for name in names]


def forecast_candidates(
    history: pd.DataFrame,
    *,
    horizon: int,
    engine: object | None,
    n_jobs: int,
    names: Sequence[str] = CANDIDATES,
) -> pd.DataFrame:
    """The mean per period of the candidates ``names`` for each series of ``history``
    (long format, ``ds`` the integer position of the period): one row per ``unique_id``,
    a column per candidate, 0 for those not in ``names`` (not run: each one costs a fit of
    every series)."""
    index = pd.Index(np.sort(history["unique_id"].unique()), name="unique_id")
    if not names:
        return pd.DataFrame(0.0, index=index, columns=list(CANDIDATES))
    statsforecast = StatsForecast(models=candidate_models(names), freq=1, n_jobs=n_jobs)
    forecasts = _run(engine, lambda: statsforecast.forecast(df=history, h=horizon))
    first_step = forecasts.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True).head(1)
    run = _as_float32(first_step.set_index("unique_id")[list(names)])
    return run.reindex(index=index, columns=list(CANDIDATES), fill_value=0.0)


def cross_validate_candidates(
    history: pd.DataFrame,
    *,
    horizon: int,
    n_windows: int,
    engine: object | None,
    n_jobs: int,
    names: Sequence[str] = CANDIDATES,
) -> pd.DataFrame:
    """The forecasts of the candidates ``names`` over the last ``n_windows`` windows of
    ``horizon`` periods of each series, each made from the periods before its window (its
    ``cutoff``, an integer position): a row per series and holdout period with ``y`` and a
    column per candidate, 0 for those not in ``names`` (at least one)."""
    if not names:
        raise ValueError("cross-validation needs at least one candidate")
    columns = ["unique_id", "ds", "cutoff", "y"]
    statsforecast = StatsForecast(models=candidate_models(names), freq=1, n_jobs=n_jobs)
    holdout = _run(
        engine,
        lambda: statsforecast.cross_validation(
            df=history, h=horizon, n_windows=n_windows, step_size=horizon
        ),
    )
    holdout = holdout.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    result = holdout[columns].astype({"ds": np.int64, "cutoff": np.int64, "y": np.float64})
    run = _as_float32(holdout[list(names)]).reindex(columns=list(CANDIDATES), fill_value=0.0)
    return result.join(run)


def _run(engine: object | None, call: Any) -> pd.DataFrame:
    if engine is None:
        result: pd.DataFrame = call()
        return result.reset_index(drop=True).astype({"unique_id": str})
    with engine_context(engine):
        distributed = call()
    local = as_pandas(distributed)
    return local.reset_index(drop=True).astype({"unique_id": str})


def _as_float32(forecasts: pd.DataFrame) -> pd.DataFrame:
    return forecasts.astype(np.float32).astype(np.float64)
