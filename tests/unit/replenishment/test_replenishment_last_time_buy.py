"""Last-time buys: an end of life within the horizon with an installed base yields a buy
sized from the failure rate over the remaining service horizon, less what is held."""

import math
from datetime import date, timedelta

import pytest

from stockwire.contracts.vocabulary import SuggestionKind
from stockwire.replenishment.domain.explanation import LastTimeBuyExplanation
from stockwire.replenishment.domain.last_time_buy import LAST_TIME_BUY_HORIZON_DAYS, last_time_buy

TODAY = date(2026, 3, 1)


def poisson_cdf(k: int, mean: float) -> float:
    return sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k + 1))


def evaluate(
    end_of_life: date | None = TODAY + timedelta(days=200),
    installed_base: int = 40,
    held: float = 3,
    service_level: float = 0.95,
) -> LastTimeBuyExplanation | None:
    # 40 devices failing 0.05 times a device-year for 2 more years: lambda = 4.0.
    return last_time_buy(
        sku="ONT-G240",
        location="WH-NORTH",
        end_of_life=end_of_life,
        today=TODAY,
        installed_base=installed_base,
        failures_per_device_year=0.05,
        remaining_service_years=2,
        service_level=service_level,
        held=held,
        discrete=True,
        supplier_lead_time_days=60,
    )


def test_an_end_of_life_within_the_horizon_with_an_installed_base_yields_a_buy():
    # Poisson(4): P(X <= 7) = 0.9489 < 0.95 <= P(X <= 8) = 0.9786, so 8 spares cover the
    # remaining service at 0.95; 3 are held, so buy 8 - 3 = 5.
    found = evaluate()

    assert poisson_cdf(7, 4.0) < 0.95 <= poisson_cdf(8, 4.0)
    assert found is not None
    assert found.expected_failures == pytest.approx(4.0)
    assert found.failures_quantile == 8
    assert found.shortfall == 5
    assert found.days_to_end_of_life == 200
    assert found.suggestion is not None
    assert found.suggestion.kind is SuggestionKind.LAST_TIME_BUY
    assert found.suggestion.quantity == 5
    assert found.suggestion.key == "last_time_buy:ONT-G240@WH-NORTH"
    assert found.suggestion.order_by == TODAY + timedelta(days=200)
    assert found.suggestion.lead_time_days == 60
    assert found.suggestion.expected_arrival == date(2026, 4, 30)
    assert found.reason.endswith("3 are held, so buy 5")


def test_a_higher_service_level_buys_more():
    # P(X <= 8) = 0.9786 < 0.98 <= P(X <= 9) = 0.9919: 9 - 3 = 6.
    found = evaluate(service_level=0.98)

    assert found is not None
    assert found.suggestion is not None
    assert found.suggestion.quantity == 6


@pytest.mark.parametrize("held", [8, 10])
def test_stock_already_held_that_covers_the_failures_buys_nothing(held: float):
    found = evaluate(held=held)

    assert found is not None
    assert found.shortfall == 8 - held
    assert found.suggestion is None
    assert found.reason.endswith(f"the {held} held cover it")


@pytest.mark.parametrize(
    "end_of_life",
    [
        None,
        TODAY - timedelta(days=1),
        TODAY + timedelta(days=LAST_TIME_BUY_HORIZON_DAYS + 1),
    ],
)
def test_no_end_of_life_within_the_horizon_means_no_evaluation(end_of_life: date | None):
    assert evaluate(end_of_life=end_of_life) is None


@pytest.mark.parametrize("days", [0, LAST_TIME_BUY_HORIZON_DAYS])
def test_the_horizon_includes_today_and_its_last_day(days: int):
    found = evaluate(end_of_life=TODAY + timedelta(days=days))

    assert found is not None
    assert found.suggestion is not None


def test_without_an_installed_base_there_is_nothing_to_replace():
    assert evaluate(installed_base=0) is None


def test_negative_figures_are_a_programming_error():
    with pytest.raises(ValueError):
        evaluate(held=-1)
