"""Policies per SKU x location: defaults by location kind and category, overrides, where
each value came from, criticality's floor, and input refused with its reason."""

import math

import pytest
from planning_world import item, place, policy, van

from stockwire.contracts.vocabulary import Category, Criticality, LocationKind, TrackingMode
from stockwire.replenishment.domain.policies import (
    STOCKED_KINDS,
    Origin,
    PolicyKind,
    PolicySettings,
    is_stocked,
)
from stockwire.replenishment.domain.service_levels import (
    CRITICAL_SERVICE_LEVEL,
    HIGH_CRITICALITY_SERVICE_LEVEL,
    raised_service_level,
)
from stockwire.runtime.domain_errors import Invalid


def fields_of(error: pytest.ExceptionInfo[Invalid]) -> list[str]:
    return [problem.field for problem in error.value.problems]


def test_a_warehouse_plans_a_computed_reorder_point_at_its_higher_service_level():
    found = policy(item(lead_time_days=30), place("WH-NORTH", LocationKind.WAREHOUSE))

    assert found.kind is PolicyKind.REORDER_POINT
    assert found.service_level == 0.97
    assert found.review_period_days == 7
    assert found.lead_time_days == 30
    assert found.supplier_lead_time_days == 30
    assert (found.reorder_point, found.order_up_to) == (None, None)
    assert (found.min_quantity, found.max_quantity) == (None, None)
    assert found.sources == {
        "kind": Origin.BASE,
        "service_level": Origin.LOCATION_KIND,
        "review_period_days": Origin.BASE,
        "lead_time_days": Origin.CATALOG,
    }
    assert found.service_level_reason == "0.97: the default for warehouse locations"


def test_a_van_keeps_a_small_min_max_of_what_technicians_install():
    found = policy(item(category=Category.ONT, lead_time_days=30), van("VAN-12"))

    assert found.kind is PolicyKind.MIN_MAX
    assert (found.min_quantity, found.max_quantity) == (2, 5)
    assert found.service_level == 0.90
    assert (found.review_period_days, found.lead_time_days) == (1, 2)
    assert found.supplier_lead_time_days == 30
    assert found.sources["kind"] is Origin.LOCATION_KIND
    assert found.sources["min_quantity"] is Origin.LOCATION_KIND_AND_CATEGORY
    assert found.sources["max_quantity"] is Origin.LOCATION_KIND_AND_CATEGORY
    assert found.sources["lead_time_days"] is Origin.LOCATION_KIND


def test_a_van_falls_back_to_its_kinds_min_max_for_other_categories():
    found = policy(item("SW-24", Category.SWITCH), van())

    assert (found.min_quantity, found.max_quantity) == (1, 3)
    assert found.sources["max_quantity"] is Origin.LOCATION_KIND


def test_a_category_default_outranks_the_location_kinds():
    cable = item("CAT6-305", Category.CABLE, tracking_mode=TrackingMode.LENGTH)

    found = policy(cable, van())

    # Van: 0.90 (location kind), cable: 0.98 (category), the category layer is above.
    assert found.service_level == 0.98
    assert found.sources["service_level"] is Origin.CATEGORY
    assert (found.min_quantity, found.max_quantity) == (50, 150)
    assert found.discrete is False


def test_an_override_wins_and_says_so():
    override = PolicySettings(service_level=0.99, order_up_to=40)

    found = policy(item(), place(), override)

    assert found.service_level == 0.99
    assert found.order_up_to == 40
    assert found.reorder_point is None
    assert found.sources["service_level"] is Origin.OVERRIDE
    assert found.sources["order_up_to"] is Origin.OVERRIDE
    assert found.sources["review_period_days"] is Origin.BASE
    assert found.service_level_reason == "0.99: the override for ONT-G240 at WH-NORTH"


def test_an_override_of_one_bound_keeps_the_default_of_the_other():
    found = policy(item(), van(), PolicySettings(max_quantity=8))

    assert (found.min_quantity, found.max_quantity) == (2, 8)
    assert found.sources["min_quantity"] is Origin.LOCATION_KIND_AND_CATEGORY
    assert found.sources["max_quantity"] is Origin.OVERRIDE


def test_an_override_min_above_the_default_max_is_refused_naming_both():
    with pytest.raises(Invalid) as refused:
        policy(item(), van(), PolicySettings(min_quantity=10))

    assert refused.value.field == "max_quantity"
    assert refused.value.reason == (
        "the max (5, the default for ont items at technician_van locations) is below the "
        "min (10, the override for ONT-G240 at VAN-12)"
    )


def test_switching_a_van_to_a_reorder_point_leaves_its_default_min_max_behind():
    found = policy(item(), van(), PolicySettings(kind=PolicyKind.REORDER_POINT))

    assert found.kind is PolicyKind.REORDER_POINT
    assert (found.min_quantity, found.max_quantity) == (None, None)
    assert "min_quantity" not in found.sources
    assert found.lead_time_days == 2


def test_a_reorder_point_fixed_on_a_min_max_policy_is_refused():
    with pytest.raises(Invalid) as refused:
        policy(item(), van(), PolicySettings(reorder_point=4))

    assert refused.value.field == "reorder_point"
    assert refused.value.reason.endswith("(min_max is the default for technician_van locations)")


def test_a_min_max_override_without_bounds_where_no_default_gives_them_is_refused():
    with pytest.raises(Invalid) as refused:
        policy(item(), place(), PolicySettings(kind=PolicyKind.MIN_MAX))

    assert fields_of(refused) == ["min_quantity", "max_quantity"]


def test_whole_unit_items_refuse_fractions_and_length_items_take_them():
    with pytest.raises(Invalid) as refused:
        policy(item(), van(), PolicySettings(min_quantity=2.5))
    cable = item("CAT6-305", Category.CABLE, tracking_mode=TrackingMode.LENGTH)

    found = policy(cable, van(), PolicySettings(min_quantity=62.5))

    assert refused.value.field == "min_quantity"
    assert refused.value.reason == "ONT-G240 is counted in whole units, not 2.5"
    assert found.min_quantity == 62.5


@pytest.mark.parametrize(
    "kind",
    [
        LocationKind.CUSTOMER_SITE,
        LocationKind.JOBSITE,
        LocationKind.ROOFTOP,
        LocationKind.QUARANTINE,
        LocationKind.REPAIR_VENDOR,
    ],
)
def test_locations_holding_no_planned_stock_get_no_policy(kind: LocationKind):
    with pytest.raises(Invalid) as refused:
        policy(item(), place("SITE-1", kind))

    assert not is_stocked(kind)
    assert refused.value.field == "location"
    assert refused.value.reason.startswith(f"SITE-1 is a {kind} location")


def test_every_stocked_kind_resolves_with_its_defaults_alone():
    kinds = {kind: policy(item(), place("X", kind)).kind for kind in STOCKED_KINDS}

    assert kinds == {
        LocationKind.WAREHOUSE: PolicyKind.REORDER_POINT,
        LocationKind.POINT_OF_PRESENCE: PolicyKind.REORDER_POINT,
        LocationKind.FIBER_HUT: PolicyKind.REORDER_POINT,
        LocationKind.TECHNICIAN_VAN: PolicyKind.MIN_MAX,
    }


@pytest.mark.parametrize(
    ("criticality", "planned"),
    [
        (Criticality.LOW, 0.97),
        (Criticality.MEDIUM, 0.97),
        (Criticality.HIGH, 0.98),
        (Criticality.CRITICAL, 0.995),
    ],
)
def test_criticality_raises_the_warehouse_default(criticality: Criticality, planned: float):
    found = policy(item(criticality=criticality), place())

    assert found.service_level == planned
    assert found.requested_service_level == 0.97


def test_a_raised_service_level_records_criticality_as_its_source_and_why():
    found = policy(item(criticality=Criticality.CRITICAL), place())

    assert found.sources["service_level"] is Origin.CRITICALITY
    assert found.service_level_reason == (
        "0.995: ONT-G240 is of critical criticality (at least 0.995), above the 0.97 of the "
        "default for warehouse locations"
    )


def test_criticality_never_lowers_a_higher_override():
    found = policy(item(criticality=Criticality.HIGH), place(), PolicySettings(service_level=0.99))

    assert found.service_level == 0.99
    assert found.sources["service_level"] is Origin.OVERRIDE


def test_the_floors_are_stated_once():
    assert HIGH_CRITICALITY_SERVICE_LEVEL == 0.98
    assert CRITICAL_SERVICE_LEVEL == 0.995
    assert raised_service_level(0.9, Criticality.HIGH) == 0.98
    assert raised_service_level(0.999, Criticality.CRITICAL) == 0.999
    assert raised_service_level(0.5, Criticality.MEDIUM) == 0.5


def test_max_below_min_is_refused_with_the_reason():
    with pytest.raises(Invalid) as refused:
        PolicySettings(kind=PolicyKind.MIN_MAX, min_quantity=5, max_quantity=2)

    assert refused.value.field == "max_quantity"
    assert refused.value.reason == "the max (2) is below the min (5)"


@pytest.mark.parametrize("level", [0.0, 1.0, 1.2, -0.1, math.nan])
def test_a_service_level_outside_the_open_unit_interval_is_refused(level: float):
    with pytest.raises(Invalid) as refused:
        PolicySettings(service_level=level)

    assert refused.value.field == "service_level"
    assert "strictly between 0 and 1" in refused.value.reason


@pytest.mark.parametrize("level", [0.000001, 0.5, 0.999999])
def test_a_service_level_inside_the_open_unit_interval_is_taken(level: float):
    assert PolicySettings(service_level=level).service_level == level


@pytest.mark.parametrize("field", ["min_quantity", "max_quantity", "reorder_point", "order_up_to"])
def test_a_negative_quantity_is_refused(field: str):
    with pytest.raises(Invalid) as refused:
        PolicySettings(**{field: -1})

    assert refused.value.field == field
    assert refused.value.reason == "a quantity is never negative, not -1"


@pytest.mark.parametrize("field", ["review_period_days", "lead_time_days"])
@pytest.mark.parametrize("days", [0, -3])
def test_a_review_period_or_lead_time_under_a_day_is_refused(field: str, days: int):
    with pytest.raises(Invalid) as refused:
        PolicySettings(**{field: days})

    assert refused.value.field == field
    assert refused.value.reason.endswith(f"is at least 1 day, not {days}")


def test_an_order_up_to_below_the_reorder_point_is_refused():
    with pytest.raises(Invalid) as refused:
        PolicySettings(reorder_point=10, order_up_to=4)

    assert refused.value.field == "order_up_to"


def test_bounds_of_the_other_kind_are_refused_in_the_same_override():
    with pytest.raises(Invalid) as refused:
        PolicySettings(kind=PolicyKind.REORDER_POINT, min_quantity=1, max_quantity=3)

    assert fields_of(refused) == ["min_quantity", "max_quantity"]


def test_every_problem_of_an_override_is_reported_at_once():
    with pytest.raises(Invalid) as refused:
        PolicySettings(service_level=2, min_quantity=-1, review_period_days=0)

    assert fields_of(refused) == ["service_level", "min_quantity", "review_period_days"]
    assert refused.value.detail.count(";") == 2
