"""Safety stock and reorder points against hand-computed cases, the failure-rate term
included. Poisson probabilities are worked out here from the formula, not from scipy."""

import math

import pytest

from stockwire.contracts.vocabulary import SafetyStockTerm
from stockwire.replenishment.domain.quantities import round_down, round_up
from stockwire.replenishment.domain.safety_stock import (
    FailureExposure,
    LeadTimeDemand,
    poisson_quantile,
    safety_stock,
)


def poisson_cdf(k: int, mean: float) -> float:
    return sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k + 1))


# 1461 devices failing 0.25 times a device-year for 2 days:
# lambda = 1461 * 0.25 * 2 / 365.25 = 730.5 / 365.25 = 2.0
TWO_EXPECTED = FailureExposure(installed_base=1461, failures_per_device_year=0.25)
# Twice as many devices: lambda = 4.0 over 2 days.
FOUR_EXPECTED = FailureExposure(installed_base=2922, failures_per_device_year=0.25)


def test_the_hand_computed_poisson_cdf_brackets_the_quantiles_used_below():
    # Poisson(2): P(X <= 4) = 0.9473, P(X <= 5) = 0.9834, P(X <= 6) = 0.9955
    assert poisson_cdf(4, 2.0) == pytest.approx(0.947347, abs=1e-6)
    assert poisson_cdf(5, 2.0) == pytest.approx(0.983436, abs=1e-6)
    assert poisson_cdf(6, 2.0) == pytest.approx(0.995466, abs=1e-6)
    # Poisson(4): P(X <= 7) = 0.9489, P(X <= 8) = 0.9786
    assert poisson_cdf(7, 4.0) == pytest.approx(0.948866, abs=1e-6)
    assert poisson_cdf(8, 4.0) == pytest.approx(0.978637, abs=1e-6)


@pytest.mark.parametrize(
    ("mean", "level", "quantile"),
    [
        (2.0, 0.95, 5),  # 0.9473 < 0.95 <= 0.9834
        (2.0, 0.98, 5),  # 0.9473 < 0.98 <= 0.9834
        (2.0, 0.995, 6),  # 0.9834 < 0.995 <= 0.9955
        (4.0, 0.95, 8),  # 0.9489 < 0.95 <= 0.9786
        (4.0, 0.98, 9),  # 0.9786 < 0.98
        (0.0, 0.95, 0),  # nothing expected, nothing needed
    ],
)
def test_the_poisson_quantile_is_the_smallest_count_reaching_the_level(
    mean: float, level: float, quantile: int
):
    assert poisson_quantile(mean, level) == quantile
    assert poisson_cdf(quantile, mean) >= level
    assert quantile == 0 or poisson_cdf(quantile - 1, mean) < level


def test_demand_variability_alone_sets_the_reorder_point():
    # mu_L = 6.0, q_L(0.95) = 9.4: the term is 9.4 - 6.0 = 3.4; the reorder point is 9.4
    # rounded up to 10, the safety stock 10 - 6 = 4.
    found = safety_stock(14, 0.95, LeadTimeDemand(mean=6.0, quantile=9.4), None, discrete=True)

    assert found.variability_term == pytest.approx(3.4)
    assert found.reorder_point == 10
    assert isinstance(found.reorder_point, int)
    assert found.safety_stock == 4
    assert found.expected_demand == 6.0
    assert found.dominant is SafetyStockTerm.DEMAND_VARIABILITY
    assert (found.failure_mean, found.failure_quantile, found.failure_term) == (None, None, None)
    assert (found.installed_base, found.failures_per_device_year) == (None, None)


def test_the_failure_rate_dominates_when_its_quantile_is_larger():
    # Failures: lambda = 2.0, Q(0.95) = 5, term 5 - 2 = 3.
    # Forecast: mu_L = 1.2, q_L = 3.0, term 1.8. Q = 5 > q_L = 3: failures set it.
    found = safety_stock(2, 0.95, LeadTimeDemand(1.2, 3.0), TWO_EXPECTED, discrete=True)

    assert found.failure_mean == pytest.approx(2.0)
    assert found.failure_quantile == 5
    assert found.failure_term == pytest.approx(3.0)
    assert found.variability_term == pytest.approx(1.8)
    assert found.dominant is SafetyStockTerm.FAILURE_RATE
    assert found.reorder_point == 5
    assert found.expected_demand == pytest.approx(2.0)
    assert found.safety_stock == pytest.approx(3.0)
    assert (found.installed_base, found.failures_per_device_year) == (1461, 0.25)


def test_a_critical_service_level_asks_one_more_failure_spare():
    # At 0.995: P(X <= 5) = 0.9834 < 0.995 <= P(X <= 6) = 0.9955, so Q = 6.
    found = safety_stock(2, 0.995, LeadTimeDemand(1.2, 3.0), TWO_EXPECTED, discrete=True)

    assert found.reorder_point == 6
    assert found.safety_stock == pytest.approx(4.0)


def test_the_larger_quantile_not_the_larger_mean_plus_the_larger_term():
    # Forecast: mu_L = 10, q_L = 11 (term 1). Failures: lambda = 4, Q(0.95) = 8 (term 4).
    # max(q_L, Q) = 11; max(mu_L, lambda) + max(terms) = 10 + 4 = 14 would pair the
    # forecast's mean with the failures' spread.
    found = safety_stock(2, 0.95, LeadTimeDemand(10.0, 11.0), FOUR_EXPECTED, discrete=True)

    assert found.failure_quantile == 8
    assert found.reorder_point == 11
    assert found.dominant is SafetyStockTerm.DEMAND_VARIABILITY
    assert found.safety_stock == 1


def test_a_tie_goes_to_the_locations_own_forecast():
    found = safety_stock(2, 0.95, LeadTimeDemand(2.5, 5.0), TWO_EXPECTED, discrete=True)

    assert found.failure_quantile == 5
    assert found.dominant is SafetyStockTerm.DEMAND_VARIABILITY
    assert found.reorder_point == 5
    assert found.safety_stock == 2.5


def test_no_installed_base_expects_no_failures():
    exposure = FailureExposure(installed_base=0, failures_per_device_year=0.25)

    found = safety_stock(30, 0.95, LeadTimeDemand(0.4, 2.0), exposure, discrete=True)

    assert (found.failure_mean, found.failure_quantile) == (0, 0)
    assert found.dominant is SafetyStockTerm.DEMAND_VARIABILITY
    assert found.reorder_point == 2


def test_length_items_round_up_to_a_thousandth_of_a_meter():
    found = safety_stock(7, 0.95, LeadTimeDemand(80.0, 123.4561), None, discrete=False)

    assert found.reorder_point == 123.457


def test_arithmetic_noise_adds_no_unit():
    noisy = 3 * 0.1 * 10  # 3.0000000000000004

    found = safety_stock(7, 0.95, LeadTimeDemand(1.0, noisy), None, discrete=True)

    assert noisy > 3
    assert found.reorder_point == 3
    assert round_up(2.00001, discrete=True) == 3
    assert round_down(2.9999999999, discrete=True) == 3
    assert round_down(2.9, discrete=True) == 2


def test_a_zero_lead_time_needs_only_what_is_short_now():
    found = safety_stock(0, 0.95, LeadTimeDemand(0.0, 0.0), TWO_EXPECTED, discrete=True)

    assert found.failure_mean == 0
    assert found.reorder_point == 0


@pytest.mark.parametrize(
    ("demand", "failures"),
    [
        (LeadTimeDemand(-1.0, 2.0), None),
        (LeadTimeDemand(1.0, math.inf), None),
        (LeadTimeDemand(1.0, 2.0), FailureExposure(-1, 0.5)),
        (LeadTimeDemand(1.0, 2.0), FailureExposure(10, -0.5)),
        (LeadTimeDemand(1.0, 2.0), FailureExposure(10, math.nan)),
    ],
)
def test_impossible_figures_are_a_programming_error(
    demand: LeadTimeDemand, failures: FailureExposure | None
):
    with pytest.raises(ValueError):
        safety_stock(7, 0.95, demand, failures, discrete=True)


@pytest.mark.parametrize("level", [0.0, 1.0])
def test_a_poisson_quantile_needs_a_level_strictly_inside_the_unit_interval(level: float):
    with pytest.raises(ValueError):
        poisson_quantile(2.0, level)
