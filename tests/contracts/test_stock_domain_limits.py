"""Stock's domain keeps its own bounds (it imports no pydantic), and they must be the
contracts' own: a value the domain allows at its bound must validate, and one step
beyond (or one decimal finer) must not, or stock would publish events that fail
validation (a 500 over HTTP, a poison batch for consumers)."""

from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from stockwire.contracts.base import Quantity
from stockwire.contracts.receipts import ReceivedQuantity
from stockwire.contracts.stock import SignedQuantity
from stockwire.stock.domain.limits import MAX_LEVEL, MAX_QUANTITY, PLACES

STEP = Decimal(1).scaleb(-PLACES)
FINER = Decimal(1).scaleb(-PLACES - 1)


@pytest.mark.parametrize(
    ("contract", "fits", "beyond"),
    [
        pytest.param(Quantity, [STEP, MAX_QUANTITY], [Decimal(0), MAX_QUANTITY + STEP, FINER]),
        pytest.param(
            ReceivedQuantity, [Decimal(0), MAX_QUANTITY], [-STEP, MAX_QUANTITY + STEP, FINER]
        ),
        pytest.param(
            SignedQuantity,
            [-MAX_LEVEL, MAX_LEVEL, STEP],
            [-MAX_LEVEL - STEP, MAX_LEVEL + STEP, FINER],
        ),
    ],
    ids=["Quantity", "ReceivedQuantity", "SignedQuantity"],
)
def test_the_stock_domains_bounds_are_the_contracts_bounds(
    contract: Any, fits: list[Decimal], beyond: list[Decimal]
):
    adapter: TypeAdapter[Decimal] = TypeAdapter(contract)

    for value in fits:
        assert adapter.validate_python(value) == value
    for value in beyond:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)
