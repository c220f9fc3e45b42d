"""Why a suggestion was made: every number that went into it, as plain data that
serializes to JSON."""

import json
from datetime import date

from planning_world import item, place, policy, position, stock_at

from stockwire.contracts.vocabulary import Criticality, LocationKind
from stockwire.replenishment.domain.levels import levels
from stockwire.replenishment.domain.reorder import evaluate
from stockwire.replenishment.domain.safety_stock import FailureExposure, LeadTimeDemand

TODAY = date(2026, 3, 1)


def explained() -> dict[str, object]:
    # A critical ONT at a warehouse, lead time 2 days: 0.97 raised to 0.995. Failures:
    # lambda = 1461 * 0.25 * 2 / 365.25 = 2.0, Q(0.995) = 6 (P(X <= 5) = 0.9834 < 0.995
    # <= P(X <= 6) = 0.9955); forecast q_L = 3.0. Reorder point 6, order-up-to 6 + 1.0 * 7
    # = 13. Available 4 + inbound 1 = 5 <= 6: need 13 - 5 = 8, and POP-7 has 3 to spare.
    warehouse = policy(item(criticality=Criticality.CRITICAL, lead_time_days=2), place())
    exposure = FailureExposure(installed_base=1461, failures_per_device_year=0.25)
    planned = levels(warehouse, LeadTimeDemand(1.2, 3.0), 0.6, exposure)
    region = [stock_at("POP-7", 5, max_level=2, kind=LocationKind.POINT_OF_PRESENCE)]
    return evaluate(warehouse, planned, position(4, in_transit_in=1), region, TODAY).as_dict()


def leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def test_the_why_holds_every_number_behind_the_suggestion():
    why = explained()

    policy_part = why["policy"]
    assert isinstance(policy_part, dict)
    assert policy_part["service_level"] == 0.995
    assert policy_part["requested_service_level"] == 0.97
    assert policy_part["sources"]["service_level"] == "criticality"
    assert policy_part["sources"]["lead_time_days"] == "catalog"
    assert policy_part["service_level_reason"].startswith("0.995: ONT-G240 is of critical")
    level_part = why["levels"]
    assert isinstance(level_part, dict)
    assert (level_part["reorder_point"], level_part["order_up_to"]) == (6, 13)
    safety = level_part["safety"]
    assert safety["demand_mean"] == 1.2
    assert safety["demand_quantile"] == 3.0
    assert safety["failure_mean"] == 2.0
    assert safety["failure_quantile"] == 6
    assert safety["variability_term"] == 1.8
    assert safety["failure_term"] == 4.0
    assert safety["dominant"] == "failure_rate"
    assert why["position"] == {
        "on_hand": 4,
        "reserved": 0,
        "available": 4,
        "in_transit_in": 1,
        "on_order": 0,
    }
    assert (why["inbound"], why["inventory_position"], why["need"]) == (1, 5, 8)
    assert why["excess_elsewhere"] == [
        {
            "location": "POP-7",
            "kind": "point_of_presence",
            "available": 5,
            "inbound": 0,
            "max_level": 2,
            "excess": 3,
        }
    ]
    assert why["suggestion"] == {
        "kind": "transfer",
        "sku": "ONT-G240",
        "location": "WH-NORTH",
        "quantity": 3,
        "source_location": "POP-7",
        "lead_time_days": None,
        "expected_arrival": None,
        "order_by": None,
    }
    assert why["evaluated_on"] == TODAY


def test_the_why_is_plain_data_ready_for_json():
    why = explained()

    kinds = {type(leaf) for leaf in leaves(why)}
    text = json.dumps(why, default=date.isoformat)

    assert kinds <= {str, int, float, bool, date, type(None)}
    assert json.loads(text)["levels"]["safety"]["dominant"] == "failure_rate"
