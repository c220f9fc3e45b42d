"""When stock runs out: whole days of cover from available + inbound at the daily demand
mean, and no date when nothing is expected to be used."""

from datetime import date

import pytest

from stockwire.replenishment.domain.stockout import MAX_COVER_DAYS, projected_stockout

TODAY = date(2026, 3, 1)


def test_stock_runs_out_during_the_day_after_its_whole_days_of_cover():
    # 10 units at 3 a day: 3.33 days of cover, gone during the 4th day, 2026-03-04.
    found = projected_stockout(10, 3.0, TODAY)

    assert found is not None
    assert found.cover_days == pytest.approx(10 / 3)
    assert found.days == 3
    assert found.runs_out_on == date(2026, 3, 4)


def test_exact_cover_runs_out_the_day_after_it_ends():
    found = projected_stockout(9, 3.0, TODAY)

    assert found is not None
    assert (found.days, found.runs_out_on) == (3, date(2026, 3, 4))


def test_arithmetic_noise_takes_no_day_away():
    found = projected_stockout(0.3, 0.1, TODAY)  # 0.3 / 0.1 = 2.9999999999999996

    assert found is not None
    assert found.days == 3


@pytest.mark.parametrize("stock", [0, -2])
def test_no_stock_runs_out_today(stock: float):
    found = projected_stockout(stock, 0.5, TODAY)

    assert found is not None
    assert (found.days, found.runs_out_on, found.cover_days) == (0, TODAY, 0)


def test_no_demand_means_no_stockout():
    assert projected_stockout(4, 0.0, TODAY) is None


def test_stock_lasting_a_century_is_not_projected_to_run_out():
    assert projected_stockout(MAX_COVER_DAYS + 1, 1.0, TODAY) is None
    assert projected_stockout(1, 1e-300, TODAY) is None


def test_a_negative_demand_mean_is_a_programming_error():
    with pytest.raises(ValueError):
        projected_stockout(4, -1.0, TODAY)
