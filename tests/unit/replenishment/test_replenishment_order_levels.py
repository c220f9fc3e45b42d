"""Reorder points and order-up-to levels per policy kind, computed or fixed, against
hand-computed cases."""

import pytest
from planning_world import item, place, policy, van

from stockwire.contracts.vocabulary import SafetyStockTerm
from stockwire.replenishment.domain.levels import LevelSource, levels
from stockwire.replenishment.domain.policies import PolicySettings
from stockwire.replenishment.domain.safety_stock import FailureExposure, LeadTimeDemand

NO_DEMAND = LeadTimeDemand(0.0, 0.0)
# lambda over 2 days = 1461 * 0.25 * 2 / 365.25 = 2.0; per day 1.0.
TWO_IN_TWO_DAYS = FailureExposure(installed_base=1461, failures_per_device_year=0.25)


def test_a_min_max_policy_reorders_at_its_min_and_orders_up_to_its_max():
    found = levels(policy(item(), van()), LeadTimeDemand(3.0, 6.0), 1.5, None)

    assert (found.reorder_point, found.order_up_to) == (2, 5)
    assert (found.reorder_point_source, found.order_up_to_source) == (
        LevelSource.MIN,
        LevelSource.MAX,
    )
    assert found.safety is None
    assert found.review_period_demand == 1.5  # one day's review at 1.5 a day


def test_a_computed_reorder_point_adds_the_review_periods_demand_for_its_order_up_to():
    # Warehouse: 0.97, lead time 30 days (catalog), review 7 days.
    # q_L(0.97) = 9.4 -> reorder point 10; 0.2 a day * 7 days = 1.4; 10 + 1.4 = 11.4 -> 12.
    warehouse = policy(item(lead_time_days=30), place())

    found = levels(warehouse, LeadTimeDemand(6.0, 9.4), 0.2, None)

    assert found.reorder_point == 10
    assert found.reorder_point_source is LevelSource.COMPUTED
    assert found.review_period_demand == pytest.approx(1.4)
    assert found.order_up_to == 12
    assert found.order_up_to_source is LevelSource.COMPUTED
    assert found.safety is not None
    assert found.safety.lead_time_days == 30
    assert found.safety.service_level == 0.97


def test_when_failures_dominate_the_review_period_is_sized_by_them_too():
    # Lead time 2 days, 0.97: lambda = 2.0, P(X <= 4) = 0.9473 < 0.97 <= P(X <= 5), Q = 5.
    # Forecast q_L = 3.0 < 5, so failures set the point; they expect 1.0 a day, so the
    # 7-day review adds 7.0 (not the forecast's 0.6 * 7): 5 + 7 = 12.
    warehouse = policy(item(lead_time_days=2), place())

    found = levels(warehouse, LeadTimeDemand(1.2, 3.0), 0.6, TWO_IN_TWO_DAYS)

    assert found.safety is not None
    assert found.safety.dominant is SafetyStockTerm.FAILURE_RATE
    assert found.reorder_point == 5
    assert found.daily_demand_mean == pytest.approx(1.0)
    assert found.review_period_demand == pytest.approx(7.0)
    assert found.order_up_to == 12


def test_a_fixed_reorder_point_is_used_as_is_and_nothing_is_computed_for_it():
    # 8 + 0.5 * 7 = 11.5 -> 12.
    fixed = policy(item(), place(), PolicySettings(reorder_point=8))

    found = levels(fixed, LeadTimeDemand(20.0, 30.0), 0.5, TWO_IN_TWO_DAYS)

    assert found.reorder_point == 8
    assert found.reorder_point_source is LevelSource.FIXED
    assert found.safety is None
    assert found.order_up_to == 12


def test_a_fixed_order_up_to_is_kept_when_above_the_reorder_point():
    fixed = policy(item(), place(), PolicySettings(order_up_to=25))

    found = levels(fixed, LeadTimeDemand(6.0, 9.4), 0.2, None)

    assert (found.reorder_point, found.order_up_to) == (10, 25)
    assert found.order_up_to_source is LevelSource.FIXED


def test_a_fixed_order_up_to_below_a_computed_reorder_point_is_raised_to_it():
    fixed = policy(item(), place(), PolicySettings(order_up_to=6))

    found = levels(fixed, LeadTimeDemand(6.0, 9.4), 0.2, None)

    assert (found.reorder_point, found.order_up_to) == (10, 10)
    assert found.order_up_to_source is LevelSource.RAISED_TO_REORDER_POINT


def test_a_negative_daily_demand_is_a_programming_error():
    with pytest.raises(ValueError):
        levels(policy(), NO_DEMAND, -0.1, None)
