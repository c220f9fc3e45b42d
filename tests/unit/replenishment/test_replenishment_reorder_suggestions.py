"""Transfer and purchase suggestions: a transfer is preferred over a purchase when the
region has excess, sources are chosen deterministically, and nothing is suggested above
the reorder point."""

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from planning_world import item, place, policy, position, stock_at, van

from stockwire.contracts.vocabulary import LocationKind, SuggestionKind
from stockwire.replenishment.domain.levels import Levels, LevelSource, levels
from stockwire.replenishment.domain.policies import EffectivePolicy, PolicySettings
from stockwire.replenishment.domain.positions import LocationStock, Position
from stockwire.replenishment.domain.reorder import evaluate
from stockwire.replenishment.domain.safety_stock import LeadTimeDemand
from stockwire.replenishment.domain.suggestions import suggestion_key

TODAY = date(2026, 3, 1)
VAN = policy(item("ONT-G240", lead_time_days=30), van("VAN-12"))  # min 2, max 5


def van_levels(van_policy: EffectivePolicy = VAN) -> Levels:
    return levels(van_policy, LeadTimeDemand(0.5, 2.0), 0.25, None)


def at_van(stock: Position, region: list[LocationStock]):
    return evaluate(VAN, van_levels(), stock, region, TODAY)


def test_a_van_at_its_min_gets_a_transfer_from_the_warehouse_with_excess():
    # Available 1 + inbound 0 = 1 <= min 2: need 5 - 1 = 4. WH-NORTH holds 40 against a
    # max of 30: 10 above it, so all 4 come from there.
    found = at_van(position(1), [stock_at("WH-NORTH", available=40, max_level=30)])

    assert found.triggered
    assert found.need == 4
    assert found.suggestion is not None
    assert found.suggestion.kind is SuggestionKind.TRANSFER
    assert found.suggestion.source_location == "WH-NORTH"
    assert found.suggestion.quantity == 4
    assert found.suggestion.key == "transfer:ONT-G240@VAN-12"
    assert (found.suggestion.lead_time_days, found.suggestion.expected_arrival) == (None, None)


def test_a_transfer_takes_no_more_than_the_sources_excess():
    # WH-NORTH: 33 - 30 = 3 above its max; the van needs 4.
    found = at_van(position(1), [stock_at("WH-NORTH", available=33, max_level=30)])

    assert found.suggestion is not None
    assert found.suggestion.quantity == 3


def test_the_location_with_the_most_excess_gives_the_transfer():
    region = [
        stock_at("WH-NORTH", available=40, max_level=30),  # 10
        stock_at("POP-7", available=14, max_level=2, kind=LocationKind.POINT_OF_PRESENCE),  # 12
        stock_at("VAN-3", available=9, max_level=5, kind=LocationKind.TECHNICIAN_VAN),  # 4
    ]

    found = at_van(position(0), region)

    assert found.suggestion is not None
    assert found.suggestion.source_location == "POP-7"
    assert [e.location for e in found.excess_elsewhere] == ["POP-7", "WH-NORTH", "VAN-3"]
    assert [e.excess for e in found.excess_elsewhere] == [12, 10, 4]


def test_equal_excess_goes_to_the_first_location_code_whatever_the_order_given():
    region = [
        stock_at("WH-B", available=20, max_level=10),
        stock_at("WH-A", available=20, max_level=10),
        stock_at("WH-C", available=15, max_level=10),
    ]
    sources = set()
    for seed in range(6):
        shuffled = region[:]
        random.Random(seed).shuffle(shuffled)
        found = at_van(position(0), shuffled)
        assert found.suggestion is not None
        sources.add(found.suggestion.source_location)

    assert sources == {"WH-A"}


def test_excess_is_only_what_can_ship_now():
    # Available 2 + inbound 40 = 42 is 32 above the max of 10, but only 2 are on the shelf.
    found = at_van(position(1), [stock_at("WH-NORTH", available=2, max_level=10, in_transit_in=40)])

    assert found.suggestion is not None
    assert found.suggestion.quantity == 2


def test_stock_nobody_may_use_and_the_location_itself_give_no_transfer():
    region = [
        stock_at("QUAR-1", available=50, max_level=0, kind=LocationKind.QUARANTINE),
        stock_at("RMA-VENDOR", available=50, max_level=0, kind=LocationKind.REPAIR_VENDOR),
        stock_at("VAN-12", available=50, max_level=5, kind=LocationKind.TECHNICIAN_VAN),
        stock_at("WH-NORTH", available=30, max_level=30),  # at its max, no excess
    ]

    found = at_van(position(1), region)

    assert found.excess_elsewhere == ()
    assert found.suggestion is not None
    assert found.suggestion.kind is SuggestionKind.PURCHASE


def test_without_excess_in_the_region_a_purchase_of_the_need_arrives_after_the_lead_time():
    # Need 5 - 1 = 4; the supplier's 30 days from 2026-03-01 is 2026-03-31.
    found = at_van(position(1), [])

    assert found.suggestion is not None
    assert found.suggestion.kind is SuggestionKind.PURCHASE
    assert found.suggestion.quantity == 4
    assert found.suggestion.lead_time_days == 30
    assert found.suggestion.expected_arrival == date(2026, 3, 31)
    assert found.suggestion.source_location is None
    assert found.suggestion.key == "purchase:ONT-G240@VAN-12"
    assert "arriving about 2026-03-31 after the supplier's 30 days" in found.reason


def test_a_warehouse_purchase_orders_up_to_its_computed_level():
    # Reorder point ceil(9.4) = 10, order-up-to ceil(10 + 0.2 * 7) = 12; available 6 and 3
    # in transit: 9 <= 10, so buy 12 - 9 = 3.
    warehouse = policy(item(lead_time_days=45), place())
    planned = levels(warehouse, LeadTimeDemand(6.0, 9.4), 0.2, None)

    found = evaluate(warehouse, planned, position(6, in_transit_in=3), [], TODAY)

    assert found.suggestion is not None
    assert found.suggestion.quantity == 3
    assert found.suggestion.expected_arrival == date(2026, 4, 15)


def test_above_the_reorder_point_nothing_is_suggested_and_the_reason_says_so():
    found = at_van(position(3), [stock_at("WH-NORTH", available=40, max_level=30)])

    assert not found.triggered
    assert found.suggestion is None
    assert found.need == 0
    assert found.reason == "available + inbound (3) is above the reorder point (2)"


@pytest.mark.parametrize(
    ("stock", "triggered"),
    [
        (position(2), True),  # at the reorder point: reorder
        (position(1, in_transit_in=1, on_order=1), False),  # 1 + 1 + 1 = 3 > 2
        (position(1, on_order=1), True),  # 1 + 1 = 2
    ],
)
def test_inbound_transfers_and_orders_count_towards_the_reorder_point(
    stock: Position, triggered: bool
):
    found = at_van(stock, [])

    assert found.triggered is triggered
    assert (found.suggestion is not None) is triggered


def test_reserved_stock_counts_for_nothing():
    promised = Position(on_hand=5, reserved=4, available=1, in_transit_in=0)

    found = at_van(promised, [])

    assert found.triggered
    assert found.need == 4


def test_at_a_reorder_point_equal_to_the_order_up_to_level_there_is_nothing_to_order():
    empty_van = policy(item(), van(), PolicySettings(min_quantity=0, max_quantity=0))

    found = evaluate(empty_van, van_levels(empty_van), position(0), [], TODAY)

    assert found.triggered
    assert found.suggestion is None
    assert found.reason.endswith("there is nothing to order")


def test_a_suggestion_key_names_kind_sku_and_location():
    assert suggestion_key(SuggestionKind.PURCHASE, "SFP-10G", "WH-1") == "purchase:SFP-10G@WH-1"


@given(
    available=st.integers(-5, 60),
    inbound=st.integers(0, 20),
    reorder_point=st.integers(0, 30),
    extra=st.integers(0, 30),
    others=st.lists(st.tuples(st.integers(0, 80), st.integers(0, 40)), max_size=4),
)
def test_a_suggestion_never_overshoots_the_order_up_to_level_nor_a_sources_excess(
    available: int,
    inbound: int,
    reorder_point: int,
    extra: int,
    others: list[tuple[int, int]],
):
    planned = Levels(
        reorder_point=reorder_point,
        reorder_point_source=LevelSource.FIXED,
        order_up_to=reorder_point + extra,
        order_up_to_source=LevelSource.FIXED,
        daily_demand_mean=1.0,
        review_period_demand=7.0,
        safety=None,
    )
    by_code = {f"WH-{i}": pair for i, pair in enumerate(others)}
    region = [stock_at(code, held, max_level=top) for code, (held, top) in by_code.items()]

    found = evaluate(VAN, planned, position(available, in_transit_in=inbound), region, TODAY)

    suggestion = found.suggestion
    stock = available + inbound
    assert found.triggered is (stock <= reorder_point)
    if suggestion is None:
        assert not found.triggered or stock >= reorder_point + extra
        return
    assert suggestion.quantity > 0
    assert stock + suggestion.quantity <= reorder_point + extra
    if suggestion.kind is SuggestionKind.PURCHASE:
        assert stock + suggestion.quantity == reorder_point + extra
        assert all(held <= top for held, top in others)
    else:
        held, top = by_code[str(suggestion.source_location)]
        assert suggestion.quantity <= held - top
        assert held - top == max(h - t for h, t in others)
