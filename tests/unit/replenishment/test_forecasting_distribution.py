"""Lead-time demand from a series' distribution: exact against scipy, closed under sums,
and calibrated: on synthetic Poisson and over-dispersed series, the quantiles the whole
engine produces cover future demand at about their level."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import nbinom, poisson

from stockwire.replenishment.forecasting import (
    DemandDistribution,
    forecast_frame,
    lead_time_mean,
    lead_time_quantile,
    lead_time_quantiles,
    lead_time_variance,
)
from stockwire.replenishment.forecasting.distribution import log_pmf


def test_a_dispersion_of_one_is_poisson_over_the_lead_time():
    demand = DemandDistribution(mean=0.7, dispersion=1.0)

    assert lead_time_mean(demand, 4) == pytest.approx(2.8)
    assert lead_time_variance(demand, 4) == pytest.approx(2.8)
    assert lead_time_quantile(demand, 4, 0.95) == poisson.ppf(0.95, 2.8) == 6


def test_an_over_dispersed_lead_time_is_the_negative_binomial_with_that_variance():
    demand = DemandDistribution(mean=0.5, dispersion=3.0)
    # Over 6 periods: mean 3, variance 9, so p = 3 / 9 and n = 3 / (9 / 3 - 1) = 1.5.
    assert lead_time_variance(demand, 6) == pytest.approx(9.0)
    assert lead_time_quantile(demand, 6, 0.9) == nbinom.ppf(0.9, 1.5, 1 / 3)


def test_the_lead_time_quantile_is_that_of_the_sum_of_independent_periods():
    rng = np.random.default_rng(11)
    demand = DemandDistribution(mean=1.3, dispersion=2.5)
    size, p = 1.3 / 1.5, 1 / 2.5
    sums = nbinom.rvs(size, p, size=(200_000, 5), random_state=rng).sum(axis=1)

    for level in (0.8, 0.95, 0.99):
        assert lead_time_quantile(demand, 5, level) == np.quantile(
            sums, level, method="inverted_cdf"
        )


def test_level_uncertainty_is_that_of_a_rate_known_only_up_to_a_gamma_spread():
    # A Poisson rate drawn from a gamma of mean 0.8 and shape k, then shared by 6 periods:
    # the sum is negative binomial with mean 4.8 and variance 4.8 + 4.8² / k, which is
    # 6 x 0.8 x (1 + a x 6) with a = 0.8 / k.
    rng = np.random.default_rng(12)
    shape = 2.0
    rates = rng.gamma(shape, 0.8 / shape, size=300_000)
    sums = rng.poisson(rates * 6)
    demand = DemandDistribution(mean=0.8, dispersion=1.0, level_uncertainty=0.8 / shape)

    assert lead_time_variance(demand, 6) == pytest.approx(4.8 + 4.8**2 / shape)
    for level in (0.5, 0.9, 0.99):
        assert lead_time_quantile(demand, 6, level) == np.quantile(
            sums, level, method="inverted_cdf"
        )


def test_level_uncertainty_weighs_more_the_longer_the_lead_time():
    certain = DemandDistribution(mean=0.5, dispersion=2.0)
    uncertain = DemandDistribution(mean=0.5, dispersion=2.0, level_uncertainty=0.1)

    ratios = [
        lead_time_variance(uncertain, periods) / lead_time_variance(certain, periods)
        for periods in (1, 4, 12)
    ]

    assert ratios == pytest.approx([1.1, 1.4, 2.2])


def test_no_demand_needs_no_stock_at_any_level():
    assert lead_time_quantile(DemandDistribution(mean=0.0, dispersion=1.0), 3, 0.999) == 0


def test_many_series_at_once_give_what_each_gives_alone():
    means = np.array([0.0, 0.2, 1.0, 7.5])
    dispersions = np.array([1.0, 1.0, 4.0, 1.2])

    together = lead_time_quantiles(means, dispersions, 3, 0.9)

    assert together.tolist() == [
        lead_time_quantile(DemandDistribution(mean, dispersion), 3, 0.9)
        for mean, dispersion in zip(means, dispersions, strict=True)
    ]


def test_the_log_probability_is_scipys():
    y = np.array([0.0, 1.0, 4.0, 0.0, 2.0])
    mean = np.array([0.3, 1.0, 2.0, 0.5, 2.0])
    variance = mean * np.array([1.0, 2.0, 3.0, 1.5, 1.0])

    found = log_pmf(y, mean, variance)

    expected = [
        poisson.logpmf(0, 0.3),
        nbinom.logpmf(1, 1.0, 0.5),
        nbinom.logpmf(4, 1.0, 1 / 3),
        nbinom.logpmf(0, 1.0, 1 / 1.5),
        poisson.logpmf(2, 2.0),
    ]
    assert found == pytest.approx(expected)


def test_the_log_probability_turns_smoothly_into_poissons_as_the_variance_nears_the_mean():
    y = np.array([0.0, 1.0, 3.0, 7.0])
    mean = np.full(4, 1.3)

    for excess in (1e-4, 1e-6, 1e-8, 1e-10):
        gap = log_pmf(y, mean, mean * (1 + excess)) - poisson.logpmf(y, mean)
        # The negative binomial differs from the Poisson by about the excess itself.
        assert np.abs(gap).max() < 30 * excess


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda: DemandDistribution(mean=-0.1, dispersion=1.0), "mean"),
        (lambda: DemandDistribution(mean=1.0, dispersion=0.9), "dispersion"),
        (lambda: DemandDistribution(1.0, 1.0, level_uncertainty=-0.1), "level_uncertainty"),
        (lambda: lead_time_quantile(DemandDistribution(1.0, 1.0), 0, 0.9), "lead_time"),
        (lambda: lead_time_quantile(DemandDistribution(1.0, 1.0), 2, 1.0), "level"),
    ],
)
def test_impossible_inputs_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        bad()


def synthetic(draw, series: int, periods: int) -> pd.DataFrame:
    """Long-format history of ``series`` series, ``draw(i, periods)`` giving series i."""
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"S{i:03d}" for i in range(series)], periods),
            "ds": np.tile(pd.date_range("2024-01-01", periods=periods, freq="W-MON"), series),
            "y": np.concatenate([draw(i, periods) for i in range(series)]).astype(np.float64),
        }
    )


def coverage(result, future: np.ndarray, lead_time: int, level: float) -> float:
    """Share of the future lead-time sums (a row per series) at or below each series'
    quantile."""
    series = result.series.sort_values("unique_id")
    quantiles = lead_time_quantiles(
        series["mean"].to_numpy(),
        series["dispersion"].to_numpy(),
        lead_time,
        level,
        series["level_uncertainty"].to_numpy(),
    )
    return float(np.mean(future <= quantiles[:, None]))


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95])
def test_quantiles_of_poisson_series_cover_future_demand_at_their_level(level):
    rng = np.random.default_rng(21)
    rates = rng.uniform(1.0, 6.0, 120)
    history = synthetic(lambda i, n: rng.poisson(rates[i], n), 120, 80)
    lead_time = 4
    future = rng.poisson(rates[:, None] * lead_time, size=(120, 2_000))

    result = forecast_frame(history, horizon=4)

    # Whole-unit quantiles cover a little more than the level (by how much depends on the
    # rates); a forecast that ignored its own uncertainty would cover less.
    assert level - 0.02 <= coverage(result, future, lead_time, level) <= level + 0.04


def test_quantiles_of_over_dispersed_series_stay_calibrated_where_poisson_falls_short():
    rng = np.random.default_rng(22)
    rates = rng.uniform(0.3, 2.0, 120)
    ratio = 4.0  # variance four times the mean: orders of about 3 units at a time
    size, p = rates / (ratio - 1), 1 / ratio
    history = synthetic(lambda i, n: nbinom.rvs(size[i], p, size=n, random_state=rng), 120, 80)
    lead_time = 2
    future = nbinom.rvs(size[:, None] * lead_time, p, size=(120, 2_000), random_state=rng)

    result = forecast_frame(history, horizon=4)
    series = result.series.sort_values("unique_id")
    poisson_quantiles = poisson.ppf(0.9, series["mean"].to_numpy() * lead_time)

    assert 0.88 <= coverage(result, future, lead_time, 0.9) <= 0.94
    assert float(np.mean(future <= poisson_quantiles[:, None])) < 0.85
