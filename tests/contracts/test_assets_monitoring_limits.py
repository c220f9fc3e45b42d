"""Assets' monitoring intake keeps its own bounds (its domain imports no pydantic), and
they must be the contract's: a value at the bound must validate as a device event, one
beyond must not, or the intake would answer a monitoring system with a 500."""

import pytest
from pydantic import ValidationError

from stockwire.assets.domain.monitoring import MAX_DETAIL, MAX_FIRMWARE, MAX_SERIAL, MAX_SITE
from stockwire.contracts.network import DeviceFailed


@pytest.mark.parametrize(
    ("field", "bound"),
    [
        ("serial", MAX_SERIAL),
        ("site", MAX_SITE),
        ("firmware_version", MAX_FIRMWARE),
        ("detail", MAX_DETAIL),
    ],
)
def test_the_monitoring_intakes_bounds_are_the_device_events_bounds(field, bound):
    fields = {"serial": "ALCLF1234567", "severity": "critical"}

    assert getattr(DeviceFailed(**(fields | {field: "x" * bound})), field) == "x" * bound
    with pytest.raises(ValidationError):
        DeviceFailed(**(fields | {field: "x" * (bound + 1)}))
