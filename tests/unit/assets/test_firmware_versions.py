"""Firmware versions compare naturally, part by part; versions nobody can order count as
below the minimum; compliance per model and region counts what meets the minimum."""

from decimal import Decimal

import pytest

from stockwire.assets.domain.firmware import (
    Compliance,
    FirmwareCount,
    SetMinimum,
    compare,
    compliance,
    meets_minimum,
    parts,
)
from stockwire.runtime.domain_errors import Invalid

ASCENDING = [
    ("3.2.9", "3.2.10"),
    ("R21.4b", "R21.10a"),
    ("R21.4", "R21.4b"),
    ("17.9.4a", "17.9.4b"),
    ("15.2(7)E8", "15.2(7)E10"),
    ("V5R19C10SPC200", "V5R20C00SPC100"),
    ("3.2.0-rc1", "3.2.0"),
    ("3.2.0-alpha", "3.2.0-beta"),
    ("3.2.0-beta2", "3.2.0-rc1"),
    ("3.2.0-rc1", "3.2.0.1"),
    ("1.0", "1.0.1"),
    ("2.9.99", "10.0"),
    ("v3.1", "V3.2"),
]


@pytest.mark.parametrize(("lower", "higher"), ASCENDING)
def test_a_later_version_compares_above_an_earlier_one(lower, higher):
    assert compare(lower, higher) == -1
    assert compare(higher, lower) == 1
    assert meets_minimum(higher, lower)
    assert not meets_minimum(lower, higher)


@pytest.mark.parametrize(
    ("a", "b"),
    [("1.0", "1.0.0"), ("3.02", "3.2"), ("R21.4B", "r21.4b"), ("3_2_1", "3.2.1"), ("7", "7.0")],
)
def test_spellings_of_one_version_are_the_same_version(a, b):
    assert compare(a, b) == 0
    assert meets_minimum(a, b) and meets_minimum(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("R21.4", "V5R19"),
        ("FW3.1", "3.2"),
        ("3.2a", "3.2.1"),
        ("...", "1.0"),
        ("1.0", ""),
    ],
)
def test_versions_nobody_can_order_are_incomparable_and_never_meet_a_minimum(a, b):
    assert compare(a, b) is None
    assert compare(b, a) is None
    assert not meets_minimum(a, b)
    assert not meets_minimum(b, a)


def test_parts_are_numbers_and_lower_case_words_and_nothing_else():
    assert parts("R21.10a-RC 2") == ("r", 21, 10, "a", "rc", 2)
    assert parts("0042") == (42,)
    assert parts("x²") == ("x²",)


def test_a_minimum_must_start_with_a_letter_or_digit_and_have_no_spaces():
    SetMinimum("ONT-1", "R21.10a", None, "api:ops")
    for bad in ("", " 3.2", "3 2", ".3", "3" * 65, "3.2\n"):
        with pytest.raises(Invalid) as refused:
            SetMinimum("ONT-1", bad, None, "api:ops")
        assert refused.value.field == "minimum_version"


def test_compliance_counts_each_model_and_region_against_its_minimum():
    counts = [
        FirmwareCount("ONT", "NORTH", "3.2.10", 5),
        FirmwareCount("ONT", "NORTH", "3.2.9", 2),
        FirmwareCount("ONT", "NORTH", None, 1),
        FirmwareCount("ONT", "NORTH", "weird", 1),
        FirmwareCount("ONT", "SOUTH", "3.3", 4),
        FirmwareCount("RTR", "NORTH", "1.0", 3),
    ]

    found = compliance(counts, {"ONT": "3.2.10"})

    assert found == [
        Compliance("ONT", "NORTH", "3.2.10", 9, 5, 3, 1),
        Compliance("ONT", "SOUTH", "3.2.10", 4, 4, 0, 0),
    ]
    assert found[0].share_compliant == Decimal("0.5556")
    assert found[1].share_compliant == Decimal("1.0000")
