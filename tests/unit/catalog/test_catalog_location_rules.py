"""Location rules, checked on the pure domain (no database, no broker)."""

import uuid
from datetime import UTC, datetime

import pytest

from stockwire.catalog.domain.commands import CreateLocation
from stockwire.catalog.domain.model import (
    Location,
    LocationCreated,
    LocationKind,
    LocationRetired,
    LocationUpdated,
    Parent,
)
from stockwire.runtime.domain_errors import Conflict, Invalid

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def random_code(prefix: str = "LOC") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_location(**overrides: object) -> CreateLocation:
    fields: dict[str, object] = {
        "code": random_code(),
        "name": "North warehouse",
        "kind": "warehouse",
        "region": "north",
    }
    return CreateLocation(**(fields | overrides))  # type: ignore[arg-type]


def test_a_new_location_is_active_at_version_one_and_records_its_creation():
    location = Location.create(new_location(), NOW, parent=None)

    assert location.record.active is True
    assert location.record.details.kind == LocationKind.WAREHOUSE
    assert location.version == 1
    assert location.events == [LocationCreated(location.record)]


def test_unknown_kind_is_rejected():
    with pytest.raises(Invalid) as error:
        Location.create(new_location(kind="moon_base"), NOW, parent=None)

    assert error.value.field == "kind"
    assert "technician_van" in error.value.reason


def test_latitude_without_longitude_is_rejected():
    with pytest.raises(Invalid) as error:
        Location.create(new_location(latitude=52.5), NOW, parent=None)

    assert error.value.field == "longitude"
    assert "both" in error.value.reason


@pytest.mark.parametrize(
    ("field", "coordinates"),
    [
        ("latitude", {"latitude": 91.0, "longitude": 0.0}),
        ("longitude", {"latitude": 0.0, "longitude": -180.5}),
        ("latitude", {"latitude": float("nan"), "longitude": 0.0}),
    ],
)
def test_coordinates_must_be_on_the_globe(field: str, coordinates: dict[str, float]):
    with pytest.raises(Invalid) as error:
        Location.create(new_location(**coordinates), NOW, parent=None)

    assert error.value.field == field


def test_parent_must_exist():
    with pytest.raises(Invalid) as error:
        Location.create(new_location(parent_code="NOWHERE"), NOW, parent=None)

    assert error.value.field == "parent_code"
    assert error.value.reason == "unknown location 'NOWHERE'"


def test_a_retired_parent_cannot_take_new_children():
    parent = Parent(code="OLD-HUB", active=False)

    with pytest.raises(Invalid) as error:
        Location.create(new_location(parent_code="OLD-HUB"), NOW, parent=parent)

    assert "retired" in error.value.reason


def test_a_location_cannot_be_its_own_parent():
    cmd = new_location()

    with pytest.raises(Invalid) as error:
        Location.create(new_location(code=cmd.code, parent_code=cmd.code), NOW, parent=None)

    assert "its own parent" in error.value.reason


def test_parent_that_would_form_a_cycle_is_rejected():
    region = Location.create(new_location(code="REGION"), NOW, parent=None)
    van = Parent(code="VAN-7", active=True, ancestors=("DEPOT", "REGION", "ROOT"))

    with pytest.raises(Invalid) as error:
        region.update({"parent_code": "VAN-7"}, NOW, parent=van)

    assert error.value.field == "parent_code"
    assert error.value.reason == "would form a cycle: REGION -> VAN-7 -> DEPOT -> REGION"
    assert region.version == 1


def test_moving_under_a_new_parent_records_the_change():
    location = Location.create(new_location(), NOW, parent=None)
    location.events.clear()

    location.update({"parent_code": "HUB"}, NOW, parent=Parent(code="HUB", active=True))

    assert location.record.details.parent_code == "HUB"
    assert location.events == [LocationUpdated(location.record, ("parent_code",))]


def test_editing_a_child_of_a_parent_retired_since_still_works():
    child = Location.create(
        new_location(parent_code="HUB"), NOW, parent=Parent(code="HUB", active=True)
    )

    child.update({"name": "Renamed"}, NOW, parent=Parent(code="HUB", active=False))

    assert child.record.details.name == "Renamed"


def test_retiring_a_location_with_active_children_is_a_conflict():
    location = Location.create(new_location(), NOW, parent=None)

    with pytest.raises(Conflict) as error:
        location.retire(NOW, active_children=["VAN-2", "VAN-1"])

    assert "VAN-1, VAN-2" in error.value.reason
    assert location.record.active is True


def test_retiring_records_one_event_and_retiring_again_changes_nothing():
    location = Location.create(new_location(), NOW, parent=None)
    location.events.clear()

    location.retire(NOW, active_children=[])
    location.retire(NOW, active_children=[])

    assert location.record.active is False
    assert location.version == 2
    assert location.events == [LocationRetired(location.record)]
