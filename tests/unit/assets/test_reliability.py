"""Reliability figures against hand-computed cases, the failure spike test both ways, and
the figures' properties (the MTBF between its bounds, every record the contract takes)."""

import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockwire.assets.domain.reliability import (
    HOURS_PER_DEVICE_YEAR,
    MAX_HOURS,
    MAX_RATE,
    Fleet,
    Reliability,
    SpikePolicy,
    Windows,
    changed,
    reliability,
    spike_alert,
    spike_key,
    spike_resolution,
    spike_test,
)
from stockwire.assets.reliability import computed
from stockwire.contracts import assets as contract

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


def figures(hours: str, failures: int, confidence: str, installed: int = 0) -> Reliability:
    fleet = Fleet("ONT-G240", None, installed, Decimal(hours), failures)
    return reliability(fleet, Decimal(confidence))


def test_the_issue_test_vector_gives_its_interval():
    found = figures("19520", 7, "0.8")

    assert round(found.mtbf_lower_hours, 2) == Decimal("1658.32")
    assert round(found.mtbf_upper_hours or 0, 2) == Decimal("5011.85")
    assert found.mtbf_hours == Decimal("2788.571")
    assert found.failures_per_device_year == Decimal("3.143545")
    assert found.device_years == Decimal("2.227")


def test_one_failure_in_a_thousand_hours_at_90_percent():
    found = figures("1000", 1, "0.9")

    assert found.mtbf_hours == Decimal("1000.000")
    assert found.failures_per_device_year == Decimal("8.766000")
    # Two degrees of freedom: chi2(p, 2) = -2 ln(1 - p), so the upper bound is
    # 2T / chi2(0.05, 2) = T / ln(1 / 0.95).
    assert found.mtbf_upper_hours == Decimal("19495.726")
    assert found.mtbf_upper_hours == round(Decimal(1000 / math.log(1 / 0.95)), 3)
    # Four: P(chi2 > x) = exp(-x/2) (1 + x/2), so x = 2T / lower leaves 0.05 above it.
    assert found.mtbf_lower_hours == Decimal("210.799")
    x = 2000 / 210.79860019679992
    assert math.exp(-x / 2) * (1 + x / 2) == pytest.approx(0.05, abs=1e-12)


def test_no_failure_gives_only_a_lower_bound():
    found = figures("43830", 0, "0.8", installed=5)

    assert found.mtbf_hours is None
    assert found.mtbf_upper_hours is None
    assert found.mtbf_lower_hours == Decimal("27233.110")  # 43830 / ln(1 / 0.2)
    assert found.failures_per_device_year == Decimal("0.000000")
    assert found.device_years == Decimal("5.000")


def test_failures_without_operating_time_have_no_rate_and_an_mtbf_of_zero():
    found = figures("0", 2, "0.9")

    assert found.failures_per_device_year is None
    assert (found.mtbf_lower_hours, found.mtbf_hours, found.mtbf_upper_hours) == (0, 0, 0)
    computed(found, AS_OF)


def test_a_model_with_neither_time_nor_failures_is_a_record_of_zeros():
    found = figures("0", 0, "0.9")

    assert found.failures_per_device_year is None
    assert found.mtbf_lower_hours == 0
    computed(found, AS_OF)


def test_figures_are_computed_from_the_operating_time_as_published():
    found = figures("1000.0004", 1, "0.9")

    assert found.operating_hours == Decimal("1000.000")
    assert found.mtbf_hours == Decimal("1000.000")


@pytest.mark.parametrize("confidence", ["0", "1", "1.5", "-0.2"])
def test_a_confidence_outside_zero_to_one_is_refused(confidence: str):
    with pytest.raises(ValueError, match="confidence"):
        figures("1000", 1, confidence)


def test_a_figure_beyond_the_contract_is_capped_at_its_maximum():
    found = figures(str(MAX_HOURS), 1, "0.9999")
    tiny = figures("0.001", 500, "0.9")

    assert found.mtbf_upper_hours == MAX_HOURS
    assert tiny.failures_per_device_year == MAX_RATE
    computed(found, AS_OF)
    computed(tiny, AS_OF)


def test_the_domain_bounds_are_the_contracts():
    def maximum(annotated: object) -> object:
        [field] = annotated.__metadata__
        return next(m.le for m in field.metadata if hasattr(m, "le"))

    assert HOURS_PER_DEVICE_YEAR == contract.HOURS_PER_DEVICE_YEAR
    assert maximum(contract.Hours) == MAX_HOURS
    assert maximum(contract.Rate) == MAX_RATE


@given(
    hours=st.decimals(min_value=0, max_value=10**12, places=3, allow_nan=False),
    failures=st.integers(min_value=0, max_value=100_000),
    confidence=st.decimals(min_value="0.0001", max_value="0.9999", places=4),
)
def test_every_figure_is_a_record_the_contract_takes(
    hours: Decimal, failures: int, confidence: Decimal
):
    found = reliability(Fleet("ONT", "TX", 3, hours, failures), confidence)

    record = computed(found, AS_OF)

    if failures:
        assert record.mtbf_hours is not None and record.mtbf_upper_hours is not None
        assert record.mtbf_lower_hours <= record.mtbf_hours <= record.mtbf_upper_hours
    assert record.operating_hours == hours


@given(
    hours=st.decimals(min_value=1, max_value=10**9, places=3, allow_nan=False),
    failures=st.integers(min_value=1, max_value=10_000),
)
def test_a_higher_confidence_widens_the_interval(hours: Decimal, failures: int):
    narrow = reliability(Fleet("ONT", None, 0, hours, failures), Decimal("0.8"))
    wide = reliability(Fleet("ONT", None, 0, hours, failures), Decimal("0.95"))

    assert wide.mtbf_lower_hours <= narrow.mtbf_lower_hours
    assert (narrow.mtbf_upper_hours or 0) <= (wide.mtbf_upper_hours or 0)


def test_time_passing_is_published_only_once_it_adds_up():
    before = figures("10000", 3, "0.9", installed=4)
    ratio = Decimal("0.01")

    assert not changed(before, figures("10000", 3, "0.9", installed=4), ratio)
    assert not changed(before, figures("10099", 3, "0.9", installed=4), ratio)
    assert changed(before, figures("10101", 3, "0.9", installed=4), ratio)
    assert changed(before, figures("10000", 4, "0.9", installed=4), ratio)
    assert changed(before, figures("10000", 3, "0.9", installed=5), ratio)
    assert changed(before, figures("10000", 3, "0.8", installed=4), ratio)
    assert changed(None, before, ratio)
    assert changed(figures("0", 0, "0.9"), figures("0.001", 0, "0.9"), ratio)


POLICY = SpikePolicy()


def windows(recent: int, recent_hours: str, baseline: int, baseline_hours: str) -> Windows:
    return Windows(
        "ONT-G240", "TX-NORTH", recent, Decimal(recent_hours), baseline, Decimal(baseline_hours)
    )


def test_four_failures_in_a_week_of_a_model_failing_once_a_quarter_is_a_spike():
    test = spike_test(windows(4, "1488", 1, "22728"), POLICY)

    assert test is not None and test.spike
    assert test.expected == Decimal("0.065470")  # 1 / 22728 h * 1488 h
    assert test.p_value == Decimal("0.000001")  # P(X >= 4 | 0.06547) = 7.26e-7
    assert test.observed == 4


def test_failures_at_the_usual_rate_are_no_spike():
    test = spike_test(windows(8, "1680", 90, "21600"), POLICY)

    assert test is not None and not test.spike
    assert test.expected == Decimal("7.000000")
    assert test.p_value == Decimal("0.401286")  # P(X >= 8 | 7)


def test_the_p_value_is_the_chance_of_at_least_the_observed_count():
    test = spike_test(windows(3, "100", 10, "1000"), POLICY)

    assert test is not None
    assert test.p_value == round(Decimal(1 - 2.5 / math.e), 6)  # P(X >= 3 | 1)
    assert not test.spike


def test_fewer_failures_than_the_minimum_are_no_spike_however_unexpected():
    test = spike_test(windows(2, "1680", 0, "21600"), POLICY)

    assert test is not None
    assert test.p_value == 0
    assert not test.spike
    assert spike_test(windows(3, "1680", 0, "21600"), POLICY).spike


def test_no_failure_is_never_a_spike():
    test = spike_test(windows(0, "1680", 0, "21600"), POLICY)

    assert test is not None and test.p_value == 1 and not test.spike


def test_a_model_without_baseline_time_is_not_tested():
    assert spike_test(windows(9, "1680", 0, "0"), POLICY) is None


def test_a_spike_alert_names_the_model_the_region_and_the_numbers():
    found = windows(4, "1488", 1, "22728")
    test = spike_test(found, POLICY)
    assert test is not None

    alert = spike_alert(found, test, POLICY, installed_base=10)

    assert alert.dedup_key == "failure_spike:ONT-G240:TX-NORTH"
    assert (alert.sku, alert.region, alert.serial) == ("ONT-G240", "TX-NORTH", None)
    assert dict(alert.figures) == {
        "observed": 4,
        "expected": Decimal("0.065470"),
        "p_value": Decimal("0.000001"),
        "window_days": 7,
        "baseline_days": 90,
        "installed_base": 10,
    }
    assert "4 failures in the last 7 days, 0.06547 expected" in alert.summary


def test_a_model_wide_spike_and_its_resolution_share_a_key():
    resolution = spike_resolution(spike_key("ONT-G240", None), "ONT-G240", None)

    assert resolution.dedup_key == "failure_spike:ONT-G240"
    assert resolution.kind == "failure_spike"
    assert "back within" in resolution.summary


def test_the_windows_end_where_the_next_begins():
    policy = SpikePolicy(recent_days=7, baseline_days=90)

    assert (AS_OF - policy.recent_start(AS_OF)).days == 7
    assert (policy.recent_start(AS_OF) - policy.baseline_start(AS_OF)).days == 90
