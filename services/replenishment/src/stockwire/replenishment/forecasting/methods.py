"""The candidate methods, and running them through statsforecast, here or on a cluster.

Every candidate is one of statsforecast's models made for spare parts, plus simple
exponential smoothing for smooth demand. All of them forecast a flat mean per period:

- ``SES``: simple exponential smoothing, its smoothing weight fitted per series;
- ``SBA``: Croston's method with the Syntetos-Boylan bias correction;
- ``TSB``: Teunter-Syntetos-Babai, which lets the demand probability decay between
  demands (alpha_d = alpha_p = 0.1), so obsolescence shows;
- ``ADIDA``: aggregate to the mean interval between demands, forecast, disaggregate;
- ``IMAPA``: ADIDA over every aggregation level up to that interval, averaged.

Here, statsforecast runs the series in ``n_jobs`` processes. With an ``engine`` (a Dask
``Client``, a Spark session, a Ray context: anything fugue's ``transform`` takes), fugue
hash-partitions the history by series, coarsely (each physical partition holds many
whole series, ``algo="coarse"``), and each partition runs the same ``StatsForecast``
call on the cluster. statsforecast's own fugue backend partitions by series exactly, which
fugue runs as one call per series: 10,000 weekly series took 347 s on a two-worker local
Dask cluster that way, against 11 s here (docs/decisions/0011). A series is computed the
same way wherever it runs, so a local run and a cluster run give the same numbers.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from fugue.dataframe.api import as_pandas
from fugue.workflow.api import transform
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
    params = {"horizon": horizon, "names": list(names)}
    schema = "unique_id:str,ds:long," + ",".join(f"{name}:double" for name in names)
    forecasts = _run(history, _forecast, params, schema, engine=engine, n_jobs=n_jobs)
    first_step = forecasts.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True).head(1)
    run = first_step.set_index("unique_id")[list(names)].astype(np.float64)
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
    params = {"horizon": horizon, "n_windows": n_windows, "names": list(names)}
    schema = "unique_id:str,ds:long,cutoff:long,y:double," + ",".join(
        f"{name}:double" for name in names
    )
    holdout = _run(history, _cross_validate, params, schema, engine=engine, n_jobs=n_jobs)
    holdout = holdout.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    columns = ["unique_id", "ds", "cutoff", "y"]
    result = holdout[columns].astype({"ds": np.int64, "cutoff": np.int64, "y": np.float64})
    run = holdout[list(names)].astype(np.float64)
    return result.join(run.reindex(columns=list(CANDIDATES), fill_value=0.0))


def _forecast(history: pd.DataFrame, horizon: int, names: list[str], n_jobs: int) -> pd.DataFrame:
    """statsforecast's forecast of ``history``'s series (one partition of them, or all)."""
    statsforecast = StatsForecast(models=candidate_models(names), freq=1, n_jobs=n_jobs)
    result: pd.DataFrame = statsforecast.forecast(df=history, h=horizon)
    return result.reset_index(drop=True)


def _cross_validate(
    history: pd.DataFrame, horizon: int, n_windows: int, names: list[str], n_jobs: int
) -> pd.DataFrame:
    """statsforecast's rolling holdout of ``history``'s series (one partition, or all)."""
    statsforecast = StatsForecast(models=candidate_models(names), freq=1, n_jobs=n_jobs)
    result: pd.DataFrame = statsforecast.cross_validation(
        df=history, h=horizon, n_windows=n_windows, step_size=horizon
    )
    return result.reset_index(drop=True)


def _run(
    history: pd.DataFrame,
    work: Any,
    params: dict[str, Any],
    schema: str,
    *,
    engine: object | None,
    n_jobs: int,
) -> pd.DataFrame:
    """``work(history, **params)`` here with ``n_jobs`` processes, or on ``engine`` per
    coarse partition of whole series (one process per partition there)."""
    if engine is None:
        result: pd.DataFrame = work(history, n_jobs=n_jobs, **params)
    else:
        distributed = transform(
            history,
            work,
            schema=schema,
            params={**params, "n_jobs": 1},
            partition={"by": "unique_id", "algo": "coarse"},
            engine=engine,
        )
        result = as_pandas(distributed)
    return result.reset_index(drop=True).astype({"unique_id": str})
