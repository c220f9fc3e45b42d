"""The records' domain keeps its own bounds (it imports no pydantic), and each must be
the contract's: a value at the domain's bound must validate in the event it goes into,
and one beyond the bound must not, or assets would accept over HTTP what it then cannot
publish (a 500 after the row was written, for nothing)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from stockwire.assets.domain import records
from stockwire.contracts.assets import (
    Actor,
    Cost,
    DeviceDisposed,
    FirmwareVersion,
    Name,
    RecordId,
    Text,
)
from stockwire.contracts.base import Serial
from stockwire.contracts.vocabulary import DisposalMethod


@pytest.mark.parametrize(
    ("contract", "bound"),
    [
        pytest.param(Actor, records.ACTOR_MAX, id="actor"),
        pytest.param(Name, records.NAME_MAX, id="vendor-or-recycler"),
        pytest.param(RecordId, records.RECORD_ID_MAX, id="rma-number"),
        pytest.param(FirmwareVersion, records.FIRMWARE_MAX, id="firmware"),
        pytest.param(Text, records.TEXT_MAX, id="free-text"),
        pytest.param(Serial, records.SERIAL_MAX, id="serial"),
    ],
)
def test_the_records_text_bounds_are_the_contracts(contract: Any, bound: int):
    adapter: TypeAdapter[str] = TypeAdapter(contract)

    assert adapter.validate_python("x" * bound) == "x" * bound
    with pytest.raises(ValidationError):
        adapter.validate_python("x" * (bound + 1))


def test_a_certificate_reference_at_the_bound_is_publishable_and_one_more_is_not():
    def disposed(reference: str) -> DeviceDisposed:
        return DeviceDisposed(
            serial="SN1",
            sku="ONT",
            method=DisposalMethod.RECYCLED,
            certificate_reference=reference,
            disposed_by="ops",
            disposed_at=datetime.now(UTC),
        )

    disposed("C" * records.CERTIFICATE_MAX)
    with pytest.raises(ValidationError):
        disposed("C" * (records.CERTIFICATE_MAX + 1))


def test_the_largest_and_finest_cost_the_domain_takes_fits_the_contract():
    adapter: TypeAdapter[Decimal] = TypeAdapter(Cost)
    finest = Decimal(1).scaleb(-records.COST_PLACES)

    assert adapter.validate_python(records.COST_MAX) == records.COST_MAX
    assert adapter.validate_python(records.COST_MAX - finest) == records.COST_MAX - finest
    with pytest.raises(ValidationError):
        adapter.validate_python(finest / 10)
