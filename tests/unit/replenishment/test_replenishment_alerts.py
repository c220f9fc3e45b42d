"""Replenishment alerts as pure decisions: projected stockouts with their suggestion,
regional imbalance, suggestions left waiting; each raised once under its dedup_key and
resolved once when its condition clears."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from planning_world import item, policy, position, stock_at, van

from stockwire.contracts.alerts import MAX_FIGURES, MAX_LABELS
from stockwire.contracts.vocabulary import (
    AlertSeverity,
    LocationKind,
    ReplenishmentAlertKind,
    SuggestionKind,
)
from stockwire.replenishment.domain.alerts import (
    Alert,
    OpenAlert,
    changes,
    imbalance_alert,
    overdue_alert,
    stockout_alert,
)
from stockwire.replenishment.domain.levels import levels
from stockwire.replenishment.domain.positions import LocationStock
from stockwire.replenishment.domain.reorder import evaluate
from stockwire.replenishment.domain.safety_stock import LeadTimeDemand
from stockwire.replenishment.domain.suggestions import Suggestion

TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WAREHOUSE_EXCESS = stock_at("WH-NORTH", available=40, max_level=30)


def van_alert(available: float, daily: float, region: list[LocationStock]) -> Alert | None:
    # A van's ONT policy: min 2, max 5, lead time 2 days, review 1 day; the stockout is
    # projected at the daily mean its levels planned by.
    van_policy = policy(item("ONT-G240", lead_time_days=30), van("VAN-12"))
    planned = levels(van_policy, LeadTimeDemand(daily * 2, daily * 4), daily, None)
    return stockout_alert(evaluate(van_policy, planned, position(available), region, TODAY))


def test_a_projected_stockout_names_its_date_and_the_transfer_suggested():
    # 1 unit at 0.3 a day: 3.3 days, gone on 2026-03-04; lead 2 + review 1 = 3 >= 3.
    found = van_alert(available=1, daily=0.3, region=[WAREHOUSE_EXCESS])

    assert found is not None
    assert found.kind is ReplenishmentAlertKind.PROJECTED_STOCKOUT
    assert found.summary == (
        "ONT-G240 at VAN-12 runs out in about 3 days, on 2026-03-04; a transfer of 4 from "
        "WH-NORTH is suggested"
    )
    assert found.dedup_key == "projected_stockout:ONT-G240@VAN-12"
    assert found.severity is AlertSeverity.WARNING
    assert (found.sku, found.location, found.region, found.category) == (
        "ONT-G240",
        "VAN-12",
        "NORTH",
        "ont",
    )
    assert found.labels == {
        "runs_out_on": "2026-03-04",
        "suggestion": "transfer:ONT-G240@VAN-12",
        "source_location": "WH-NORTH",
    }
    assert found.figures["days_left"] == 3
    assert found.figures["suggested_quantity"] == 4
    assert found.figures["reorder_point"] == 2


def test_running_out_within_the_lead_time_is_critical():
    # 1 unit at 0.6 a day: 1.7 days, so 1 day < the 2-day lead time.
    found = van_alert(available=1, daily=0.6, region=[])

    assert found is not None
    assert found.severity is AlertSeverity.CRITICAL
    assert found.summary == (
        "ONT-G240 at VAN-12 runs out in about 1 day, on 2026-03-02; a purchase of 4 is "
        "suggested, arriving about 2026-03-31"
    )


def test_an_empty_location_with_demand_runs_out_today():
    found = van_alert(available=0, daily=0.3, region=[WAREHOUSE_EXCESS])

    assert found is not None
    assert found.summary.startswith("ONT-G240 at VAN-12 runs out today; a transfer of 5")


def test_a_stockout_beyond_the_lead_time_and_review_raises_nothing():
    # 1 unit at 0.2 a day: 5 days > 2 + 1.
    assert van_alert(available=1, daily=0.2, region=[WAREHOUSE_EXCESS]) is None


def test_without_demand_there_is_no_stockout_alert():
    assert van_alert(available=0, daily=0.0, region=[]) is None


def test_a_location_above_its_reorder_point_raises_no_stockout_alert():
    # 3 units at 1 a day run out in 3 days, within lead time + review; but 3 > the min of
    # 2: the policy has it covered, and a transfer on its way counts the same.
    assert van_alert(available=3, daily=1.0, region=[WAREHOUSE_EXCESS]) is None


VAN_SHORT = stock_at("VAN-12", 1, max_level=5, reorder_point=2, kind=LocationKind.TECHNICIAN_VAN)


def test_a_short_location_beside_one_with_excess_is_a_regional_imbalance():
    found = imbalance_alert("ONT-G240", "NORTH", [VAN_SHORT, WAREHOUSE_EXCESS], discrete=True)

    assert found is not None
    assert found.kind is ReplenishmentAlertKind.REGIONAL_IMBALANCE
    assert found.dedup_key == "regional_imbalance:ONT-G240@NORTH"
    assert found.summary == (
        "ONT-G240 in NORTH is out of balance: VAN-12 is at or below its reorder point (1 of "
        "2) while WH-NORTH holds 10 above its max"
    )
    assert found.figures == {
        "locations_short": 1,
        "locations_with_excess": 1,
        "shortfall": 1,
        "excess": 10,
    }
    assert found.labels == {"short_location": "VAN-12", "excess_location": "WH-NORTH"}
    assert found.location is None


def test_an_imbalance_names_the_shortest_location_and_the_largest_excess_and_counts_the_rest():
    region = [
        VAN_SHORT,
        stock_at("VAN-3", 0, max_level=5, reorder_point=2, kind=LocationKind.TECHNICIAN_VAN),
        WAREHOUSE_EXCESS,
        stock_at("POP-7", 20, max_level=4, kind=LocationKind.POINT_OF_PRESENCE),
    ]

    found = imbalance_alert("ONT-G240", "NORTH", region, discrete=True)

    assert found is not None
    assert found.summary == (
        "ONT-G240 in NORTH is out of balance: VAN-3 is at or below its reorder point (0 of 2) "
        "while POP-7 holds 16 above its max (2 locations short, 2 locations with excess)"
    )
    assert found.figures["shortfall"] == 3  # (2 - 0) + (2 - 1)
    assert found.figures["excess"] == 26  # 16 + 10


@pytest.mark.parametrize(
    "region",
    [
        [VAN_SHORT],
        [WAREHOUSE_EXCESS],
        [VAN_SHORT, stock_at("QUAR-1", 50, max_level=0, kind=LocationKind.QUARANTINE)],
        [stock_at("VAN-12", 3, max_level=5, reorder_point=2), WAREHOUSE_EXCESS],
        # Planned at 0 and holding 0 is at its reorder point, but needs nothing.
        [stock_at("WH-SOUTH", 0, max_level=0), stock_at("VAN-12", 7, max_level=5)],
    ],
)
def test_no_imbalance_without_both_a_short_location_and_usable_excess(
    region: list[LocationStock],
):
    assert imbalance_alert("ONT-G240", "NORTH", region, discrete=True) is None


TRANSFER = Suggestion(SuggestionKind.TRANSFER, "ONT-G240", "VAN-12", 4, source_location="WH-NORTH")


def test_a_suggestion_left_waiting_past_its_decision_time_is_overdue():
    found = overdue_alert(TRANSFER, "NORTH", NOW - timedelta(days=3), NOW)

    assert found is not None
    assert found.kind is ReplenishmentAlertKind.SUGGESTION_OVERDUE
    assert found.dedup_key == "suggestion_overdue:transfer:ONT-G240@VAN-12"
    assert found.summary == (
        "the transfer of 4 ONT-G240 from WH-NORTH to VAN-12 has waited 3 days for a decision"
    )
    assert found.figures == {"age_hours": 72, "quantity": 4}
    assert found.labels == {"suggestion": "transfer:ONT-G240@VAN-12", "suggestion_kind": "transfer"}


def test_a_shorter_decision_time_counts_the_wait_in_hours():
    buy = Suggestion(SuggestionKind.LAST_TIME_BUY, "ONT-G240", "WH-NORTH", 5)

    found = overdue_alert(buy, None, NOW - timedelta(hours=30), NOW, timedelta(days=1))

    assert found is not None
    assert found.summary == (
        "the last-time buy of 5 ONT-G240 to WH-NORTH has waited 30 hours for a decision"
    )


def test_a_suggestion_within_its_decision_time_is_not_overdue():
    assert overdue_alert(TRANSFER, "NORTH", NOW - timedelta(days=2), NOW) is None


def opened(alert: Alert) -> OpenAlert:
    return OpenAlert(
        alert.kind, alert.dedup_key, alert.severity, alert.sku, alert.location, alert.region
    )


def test_a_condition_is_raised_once_and_resolved_once():
    warning = van_alert(available=1, daily=0.3, region=[WAREHOUSE_EXCESS])
    assert warning is not None
    open_alerts: list[OpenAlert] = []
    published = []
    for found in ([warning], [warning], [], []):
        step = changes(open_alerts, found)
        published.append(([a.dedup_key for a in step.raised], [r.dedup_key for r in step.resolved]))
        open_alerts = [
            a for a in open_alerts if a.dedup_key not in {r.dedup_key for r in step.resolved}
        ]
        open_alerts += [opened(a) for a in step.raised]

    key = "projected_stockout:ONT-G240@VAN-12"
    assert published == [([key], []), ([], []), ([], [key]), ([], [])]


def test_a_condition_that_got_worse_is_raised_again_and_one_that_eased_is_not():
    warning = van_alert(available=1, daily=0.3, region=[])
    critical = van_alert(available=1, daily=0.6, region=[])
    assert warning is not None and critical is not None

    worse = changes([opened(warning)], [critical])
    eased = changes([opened(critical)], [warning])

    assert worse.raised == (critical,)
    assert (eased.raised, eased.resolved) == ((), ())


def test_each_kind_resolves_with_what_cleared():
    still_open = [
        OpenAlert(
            ReplenishmentAlertKind.PROJECTED_STOCKOUT,
            "projected_stockout:ONT-G240@VAN-12",
            AlertSeverity.WARNING,
            "ONT-G240",
            "VAN-12",
            "NORTH",
        ),
        OpenAlert(
            ReplenishmentAlertKind.REGIONAL_IMBALANCE,
            "regional_imbalance:ONT-G240@NORTH",
            AlertSeverity.WARNING,
            "ONT-G240",
            None,
            "NORTH",
        ),
        OpenAlert(
            ReplenishmentAlertKind.SUGGESTION_OVERDUE,
            "suggestion_overdue:transfer:ONT-G240@VAN-12",
            AlertSeverity.WARNING,
            "ONT-G240",
            "VAN-12",
            "NORTH",
        ),
    ]

    resolved = changes(still_open, []).resolved

    assert [(r.kind, r.dedup_key, r.summary) for r in resolved] == [
        (
            ReplenishmentAlertKind.PROJECTED_STOCKOUT,
            "projected_stockout:ONT-G240@VAN-12",
            "ONT-G240 at VAN-12 is no longer projected to run out before more can arrive",
        ),
        (
            ReplenishmentAlertKind.REGIONAL_IMBALANCE,
            "regional_imbalance:ONT-G240@NORTH",
            "ONT-G240 in NORTH is back in balance",
        ),
        (
            ReplenishmentAlertKind.SUGGESTION_OVERDUE,
            "suggestion_overdue:transfer:ONT-G240@VAN-12",
            "the suggestion for ONT-G240 at VAN-12 is no longer waiting for a decision",
        ),
    ]
    assert [(r.sku, r.location, r.region) for r in resolved][1] == ("ONT-G240", None, "NORTH")


LABEL = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def test_alerts_of_the_longest_codes_fit_the_common_alert_shape():
    sku, code, region = "S" * 64, "L" * 64, "R" * 64
    long_van = policy(item(sku), van(code, region))
    planned = levels(long_van, LeadTimeDemand(0.6, 1.2), 0.3, None)
    giver = stock_at("W" * 64, available=1_000_000, max_level=30)
    evaluation = evaluate(long_van, planned, position(0), [giver], TODAY)
    short = stock_at(code, 0, max_level=5, reorder_point=2, kind=LocationKind.TECHNICIAN_VAN)
    assert evaluation.suggestion is not None
    alerts = [
        stockout_alert(evaluation),
        imbalance_alert(sku, region, [short, giver, giver], discrete=True),
        overdue_alert(evaluation.suggestion, region, NOW - timedelta(days=400), NOW),
        overdue_alert(
            Suggestion(SuggestionKind.LAST_TIME_BUY, sku, code, 999_999),
            region,
            NOW - timedelta(days=9),
            NOW,
        ),
    ]

    for alert in alerts:
        assert alert is not None
        assert len(alert.summary) <= 500
        assert len(alert.dedup_key) <= 256
        assert len(alert.labels) <= MAX_LABELS
        assert len(alert.figures) <= MAX_FIGURES
        assert all(LABEL.match(name) for name in [*alert.labels, *alert.figures])
        assert all(len(value) <= 256 for value in alert.labels.values())
