"""The re-plan's entry point: method choice from the holdout on series with known
properties, the Syntetos-Boylan fallback on small frames, the holdout it reports, the
history it refuses, and the same numbers on an in-process Dask cluster."""

import warnings

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from stockwire.replenishment.forecasting import (
    DemandClass,
    PoolSource,
    forecast_frame,
    lead_time_quantile,
)
from stockwire.replenishment.forecasting.engine import DEFAULT_WINDOWS
from stockwire.replenishment.forecasting.methods import CANDIDATES, cross_validate_candidates


def frame(series: dict[str, np.ndarray], start: str = "2024-01-01") -> pd.DataFrame:
    return pd.concat(
        pd.DataFrame(
            {
                "unique_id": name,
                "ds": pd.date_range(start, periods=len(y), freq="W-MON"),
                "y": np.asarray(y, dtype=np.float64),
            }
        )
        for name, y in series.items()
    )


def intermittent(rng: np.random.Generator, count: int, periods: int = 60) -> dict[str, np.ndarray]:
    """Demand in about one period in three, of 1 to 4 units."""
    return {
        f"P{i:03d}": np.where(rng.random(periods) < 0.35, 1 + rng.poisson(1.0, periods), 0)
        for i in range(count)
    }


def test_a_small_frame_falls_back_to_the_syntetos_boylan_choice():
    rng = np.random.default_rng(1)
    series = intermittent(rng, 3) | {"SMOOTH": 5 + rng.poisson(5.0, 60)}

    result = forecast_frame(frame(series), horizon=4)

    rows = result.series.set_index("unique_id")
    assert rows.loc["SMOOTH", "demand_class"] == DemandClass.SMOOTH.value
    assert rows.loc["SMOOTH", "method"] == "SES"
    assert rows.loc["P000", "demand_class"] == DemandClass.INTERMITTENT.value
    assert rows.loc["P000", "method"] == "SBA"
    assert set(rows["pool"]) == {PoolSource.CLASSIFICATION.value}


def test_the_chosen_combination_beats_every_single_candidate_on_the_holdout():
    history = frame(intermittent(np.random.default_rng(2), 60))

    result = forecast_frame(history, horizon=4)

    fit = result.pools[DemandClass.INTERMITTENT]
    assert fit.source is PoolSource.CLASS
    assert fit.holdout_series == 60
    chosen = np.mean((result.holdout["y"] - result.holdout["mean"]) ** 2)
    positional = history.assign(ds=history.groupby("unique_id").cumcount())
    alone = cross_validate_candidates(
        positional, horizon=4, n_windows=DEFAULT_WINDOWS, engine=None, n_jobs=1
    )
    for name in CANDIDATES:
        assert chosen <= np.mean((alone["y"] - alone[name]) ** 2)


def test_where_parts_go_out_of_use_the_holdout_chooses_the_method_that_sees_it():
    rng = np.random.default_rng(3)
    series = intermittent(rng, 60)
    gone = [f"P{i:03d}" for i in range(20)]
    for name in gone:  # a third of the parts stop selling 20 periods before the end
        series[name] = np.r_[series[name][:40], np.zeros(20)]

    result = forecast_frame(frame(series), horizon=4)

    # SBA updates only when demand comes, so it never sees a part stop selling.
    assert result.pools[DemandClass.INTERMITTENT].weights["SBA"] < 0.01
    rows = result.series.set_index("unique_id")
    selling = rows.drop(index=gone)
    assert rows.loc[gone, "mean"].max() < 0.5 * selling["mean"].mean()
    assert lead_time_quantile(result.distribution("P000"), 4, 0.95) < lead_time_quantile(
        result.distribution("P059"), 4, 0.95
    )


def test_stationary_poisson_demand_is_forecast_near_its_rate():
    rng = np.random.default_rng(4)
    rates = rng.uniform(1.0, 8.0, 40)
    series = {f"R{i:02d}": rng.poisson(rate, 104) for i, rate in enumerate(rates)}

    result = forecast_frame(frame(series), horizon=4)

    found = result.series.set_index("unique_id").loc[list(series)]
    assert found["mean"].sum() / rates.sum() == pytest.approx(1.0, abs=0.1)
    assert np.median(np.abs(found["mean"].to_numpy() / rates - 1)) < 0.15
    assert found["dispersion"].max() < 1.3


def test_the_holdout_has_each_long_enough_series_windows_with_their_real_dates():
    rng = np.random.default_rng(5)
    series = intermittent(rng, 40) | {"NEW": np.array([0, 2, 0, 1, 0, 0, 1, 0])}

    result = forecast_frame(frame(series), horizon=4, n_windows=3)

    holdout = result.holdout
    assert "NEW" not in set(holdout["unique_id"])  # 8 periods < (3 + 1) x 4
    assert result.distribution("NEW").mean > 0
    p000 = holdout[holdout["unique_id"] == "P000"]
    dates = pd.date_range("2024-01-01", periods=60, freq="W-MON")
    assert p000["ds"].tolist() == dates[-12:].tolist()
    assert p000["cutoff"].tolist() == [dates[-13]] * 4 + [dates[-9]] * 4 + [dates[-5]] * 4
    assert p000["y"].tolist() == series["P000"][-12:].tolist()
    accuracy = result.accuracy(level=0.95).set_index("unique_id")
    assert accuracy.loc["P000", "points"] == 12
    assert len(accuracy) == 40


def test_one_short_series_alone_is_forecast_by_the_syntetos_boylan_rule():
    result = forecast_frame(frame({"VAN-12": np.array([0, 1, 0, 0, 2, 0, 1])}), horizon=4)

    assert result.holdout.empty
    assert result.series["method"].tolist() == ["SBA"]
    assert result.distribution("VAN-12").mean > 0
    assert result.accuracy(level=0.9).empty


def test_a_frame_without_any_demand_forecasts_none():
    series = {f"Z{i:02d}": np.zeros(30) for i in range(35)}

    result = forecast_frame(frame(series), horizon=4)

    assert (result.series["demand_class"] == DemandClass.NO_DEMAND.value).all()
    assert (result.series["mean"] == 0).all()
    assert len(result.holdout) == 35 * 2 * 4
    assert lead_time_quantile(result.distribution("Z00"), 8, 0.99) == 0


def test_history_in_any_row_order_gives_the_same_forecasts():
    rng = np.random.default_rng(6)
    history = frame(intermittent(rng, 35))

    ordered = forecast_frame(history, horizon=4)
    shuffled = forecast_frame(history.sample(frac=1.0, random_state=1), horizon=4)

    pd.testing.assert_frame_equal(ordered.series, shuffled.series)


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (frame({"A": np.array([1, 0, 2])}).drop(columns="y"), "columns"),
        (frame({"A": np.array([1, -1, 2])}), ">= 0"),
        (frame({"A": np.array([1.0, np.nan, 2])}), ">= 0"),
        (  # B has no row for 2024-01-08, which A has
            pd.DataFrame(
                {
                    "unique_id": ["A", "A", "A", "B", "B"],
                    "ds": pd.to_datetime(
                        ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-01", "2024-01-15"]
                    ),
                    "y": [1.0, 0.0, 2.0, 1.0, 3.0],
                }
            ),
            "missing",
        ),
        (pd.concat([frame({"A": np.array([1, 0])})] * 2), "repeated"),
    ],
    ids=["no-y", "negative", "nan", "gap", "duplicate"],
)
def test_bad_history_is_refused(history, message):
    with pytest.raises(ValueError, match=message):
        forecast_frame(history, horizon=2)


def test_a_local_dask_cluster_gives_the_same_numbers():
    rng = np.random.default_rng(7)
    history = frame(intermittent(rng, 45) | {"SHORT": np.array([0, 1, 0, 0, 2, 0])})
    local = forecast_frame(history, horizon=4)

    with (
        warnings.catch_warnings(),
        LocalCluster(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        # dask's groupby-apply warns about a pandas deprecation statsforecast triggers.
        warnings.simplefilter("ignore", FutureWarning)
        distributed = forecast_frame(history, horizon=4, engine=client)

    pd.testing.assert_frame_equal(distributed.series, local.series, check_exact=True)
    pd.testing.assert_frame_equal(distributed.holdout, local.holdout, check_exact=True)
    assert distributed.pools == local.pools
