"""Equipment model rules, checked on the pure domain (no database, no broker)."""

import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from stockwire.catalog.domain.commands import CreateItem
from stockwire.catalog.domain.model import (
    Criticality,
    HandlingClass,
    Item,
    ItemCreated,
    ItemRetired,
    ItemStatus,
    ItemUpdated,
    unknown_substitutes,
)
from stockwire.runtime.domain_errors import Invalid, VersionMismatch

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def random_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8]}"


def new_item(**overrides: object) -> CreateItem:
    fields: dict[str, object] = {
        "sku": random_sku(),
        "name": "GPON ONT 4-port",
        "manufacturer": "Nokia",
        "category": "ont",
        "tracking_mode": "serial",
        "unit_cost": Decimal("54.90"),
        "currency": "EUR",
    }
    return CreateItem(**(fields | overrides))  # type: ignore[arg-type]


def problems_of(error: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {p.field: p.reason for p in error.value.problems}


def test_a_new_item_is_active_at_version_one_and_records_its_creation():
    item = Item.create(new_item(), NOW)

    assert item.record.status == ItemStatus.ACTIVE
    assert item.version == 1
    assert item.record.updated_at == NOW
    assert item.events == [ItemCreated(item.record)]


def test_defaults_fill_in_handling_criticality_lead_time_and_unit():
    details = Item.create(new_item(), NOW).record.details

    assert details.unit == "each"
    assert details.handling_class == HandlingClass.NONE
    assert details.criticality == Criticality.MEDIUM
    assert details.default_lead_time_days == 0
    assert details.substitutes == ()


def test_length_tracked_items_default_to_metres():
    item = Item.create(new_item(category="fiber_spool", tracking_mode="length"), NOW)

    assert item.record.details.unit == "m"


def test_length_tracked_item_in_another_unit_is_rejected_with_the_reason():
    with pytest.raises(Invalid) as error:
        Item.create(new_item(category="cable", tracking_mode="length", unit="ft"), NOW)

    assert error.value.field == "unit"
    assert "metres" in error.value.reason and "'ft'" in error.value.reason


def test_rejects_end_of_life_before_end_of_sale():
    with pytest.raises(Invalid) as error:
        Item.create(new_item(end_of_sale=date(2027, 1, 1), end_of_life=date(2026, 1, 1)), NOW)

    assert error.value.field == "end_of_life"
    assert "before end of sale" in error.value.reason


def test_end_of_life_on_the_end_of_sale_date_is_accepted():
    day = date(2027, 1, 1)
    item = Item.create(new_item(end_of_sale=day, end_of_life=day), NOW)

    assert item.record.details.end_of_life == day


def test_unknown_category_is_rejected_naming_the_allowed_ones():
    with pytest.raises(Invalid) as error:
        Item.create(new_item(category="toaster"), NOW)

    assert error.value.field == "category"
    assert "'toaster'" in error.value.reason and "fiber_spool" in error.value.reason


def test_every_problem_of_a_record_is_reported_at_once():
    with pytest.raises(Invalid) as error:
        Item.create(
            new_item(sku="", name=" ", unit_cost=Decimal("-1"), currency="euro", category="x"),
            NOW,
        )

    assert set(problems_of(error)) == {"sku", "name", "unit_cost", "currency", "category"}


@pytest.mark.parametrize(
    ("cost", "reason"),
    [
        (Decimal("-0.01"), "negative"),
        (Decimal("1.23456"), "4 decimal places"),
        (Decimal("NaN"), "decimal number"),
        (Decimal("Infinity"), "decimal number"),
        (Decimal("1e12"), "less than"),
    ],
)
def test_unit_cost_must_be_a_sane_amount(cost: Decimal, reason: str):
    with pytest.raises(Invalid) as error:
        Item.create(new_item(unit_cost=cost), NOW)

    assert error.value.field == "unit_cost"
    assert reason in error.value.reason


def test_currency_is_normalised_to_upper_case():
    assert Item.create(new_item(currency="usd"), NOW).record.details.currency == "USD"


@pytest.mark.parametrize("days", [-1, 3651])
def test_lead_time_must_be_within_ten_years(days: int):
    with pytest.raises(Invalid) as error:
        Item.create(new_item(default_lead_time_days=days), NOW)

    assert error.value.field == "default_lead_time_days"


@pytest.mark.parametrize(
    ("sku", "reason"),
    [
        ("", "required"),
        ("A" * 65, "at most 64"),
        ("ONT/4", "'/'"),
        ("ONT|4", "'|'"),
        ("ONT\x00", "control"),
        (" ONT", "spaces"),
    ],
)
def test_sku_must_be_a_usable_code(sku: str, reason: str):
    with pytest.raises(Invalid) as error:
        Item.create(new_item(sku=sku), NOW)

    assert error.value.field == "sku"
    assert reason in error.value.reason


def test_unicode_names_are_kept_but_overlong_names_are_rejected():
    assert Item.create(new_item(name="Glasfaser-Spleißbox ✓"), NOW).record.details.name.endswith(
        "✓"
    )
    with pytest.raises(Invalid) as error:
        Item.create(new_item(name="x" * 201), NOW)
    assert error.value.field == "name"


def test_an_item_cannot_substitute_itself():
    cmd = new_item()
    with pytest.raises(Invalid) as error:
        Item.create(replace(cmd, substitutes=(cmd.sku,)), NOW)

    assert error.value.field == "substitutes"
    assert "itself" in error.value.reason


def test_a_substitute_listed_twice_is_rejected():
    with pytest.raises(Invalid) as error:
        Item.create(new_item(substitutes=("ONT-A", "ONT-A")), NOW)

    assert "twice" in error.value.reason


def test_unknown_substitutes_are_named():
    error = unknown_substitutes(["ONT-A", "ONT-B", "ONT-C"], known=["ONT-B"])

    assert error is not None
    assert error.field == "substitutes"
    assert error.reason == "unknown SKU(s): ONT-A, ONT-C"
    assert unknown_substitutes(["ONT-B"], known=["ONT-B"]) is None


def test_an_update_bumps_the_version_and_records_what_changed():
    item = Item.create(new_item(), NOW)
    item.events.clear()
    later = NOW + timedelta(hours=1)

    item.update({"name": "GPON ONT 4-port v2", "criticality": "high"}, later)

    assert item.version == 2
    assert item.record.updated_at == later
    assert item.events == [ItemUpdated(item.record, ("name", "criticality"))]


def test_an_update_that_changes_nothing_records_nothing():
    item = Item.create(new_item(), NOW)
    item.events.clear()

    item.update({"name": item.record.details.name}, NOW)

    assert item.version == 1
    assert item.events == []


def test_an_update_is_checked_against_the_whole_record():
    item = Item.create(new_item(end_of_sale=date(2028, 1, 1)), NOW)

    with pytest.raises(Invalid) as error:
        item.update({"end_of_life": date(2027, 1, 1)}, NOW)

    assert error.value.field == "end_of_life"
    assert item.version == 1


def test_a_required_field_cannot_be_cleared():
    item = Item.create(new_item(), NOW)

    with pytest.raises(Invalid) as error:
        item.update({"manufacturer": None}, NOW)

    assert error.value.field == "manufacturer"


def test_the_sku_and_version_cannot_be_changed_by_an_update():
    item = Item.create(new_item(), NOW)

    with pytest.raises(Invalid) as error:
        item.update({"sku": "OTHER", "version": 7}, NOW)

    assert problems_of(error) == {"sku": "cannot be changed", "version": "cannot be changed"}


def test_retiring_records_one_event_and_retiring_again_changes_nothing():
    item = Item.create(new_item(), NOW)
    item.events.clear()

    item.retire(NOW)
    item.retire(NOW)

    assert item.record.status == ItemStatus.RETIRED
    assert item.version == 2
    assert item.events == [ItemRetired(item.record)]


def test_a_stale_version_is_refused_naming_the_current_one():
    item = Item.create(new_item(), NOW)
    item.update({"name": "renamed"}, NOW)

    with pytest.raises(VersionMismatch) as error:
        item.check_version(1)

    assert (error.value.expected, error.value.current) == (1, 2)


def test_the_domain_imports_no_framework():
    """The rules stay plain Python: importing the domain loads no pydantic, SQLAlchemy or
    FastAPI (checked in a fresh interpreter, since this one has them loaded already)."""
    probe = (
        "import sys, stockwire.catalog.domain.model, stockwire.catalog.domain.commands;"
        "print(sorted(m for m in ('pydantic', 'sqlalchemy', 'fastapi', 'faststream')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_warranty_is_unknown_unless_given():
    assert Item.create(new_item(), NOW).record.details.warranty_months is None


@pytest.mark.parametrize("months", [0, 36, 600])
def test_a_warranty_of_zero_to_fifty_years_is_kept(months: int):
    item = Item.create(new_item(warranty_months=months), NOW)

    assert item.record.details.warranty_months == months


@pytest.mark.parametrize(
    ("months", "reason"),
    [
        (-1, "must be between 0 and 600, not -1"),
        (601, "must be between 0 and 600, not 601"),
        (True, "must be a whole number"),
        ("36", "must be a whole number"),
        (12.5, "must be a whole number"),
    ],
)
def test_a_warranty_outside_the_range_is_rejected_with_the_reason(months: object, reason: str):
    with pytest.raises(Invalid) as error:
        Item.create(new_item(warranty_months=months), NOW)

    assert problems_of(error) == {"warranty_months": reason}


def test_changing_and_clearing_the_warranty_each_record_a_new_version():
    item = Item.create(new_item(warranty_months=24), NOW)
    item.events.clear()

    item.update({"warranty_months": 60}, NOW)
    item.update({"warranty_months": None}, NOW)

    assert item.version == 3
    assert [event.changed for event in item.events if isinstance(event, ItemUpdated)] == [
        ("warranty_months",),
        ("warranty_months",),
    ]
    assert item.record.details.warranty_months is None


def test_an_out_of_range_warranty_change_leaves_the_item_as_it_was():
    item = Item.create(new_item(warranty_months=24), NOW)

    with pytest.raises(Invalid) as error:
        item.update({"warranty_months": 1200}, NOW)

    assert problems_of(error) == {"warranty_months": "must be between 0 and 600, not 1200"}
    assert item.version == 1
    assert item.record.details.warranty_months == 24
