"""warranty_months joined catalog.items.v1 as an optional field, so v1 stays compatible."""

import copy
import json

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from stockwire.contracts.catalog import CatalogItemUpserted
from stockwire.contracts.envelope import read_envelope, read_payload
from stockwire.contracts.schemas import EXAMPLES_DIR, SCHEMAS_DIR

EXAMPLE = EXAMPLES_DIR / "catalog.items.v1" / "v1" / "catalog.item.upserted.json"
SCHEMA = SCHEMAS_DIR / "catalog.items.v1" / "catalog.item.upserted.v1.json"


def example_payload() -> dict[str, object]:
    payload: dict[str, object] = json.loads(EXAMPLE.read_text())["payload"]
    return payload


def test_an_item_written_before_the_field_existed_reads_as_no_warranty():
    raw = json.loads(EXAMPLE.read_text())
    del raw["payload"]["warranty_months"]

    item = read_payload(read_envelope(json.dumps(raw)), CatalogItemUpserted)

    assert item.warranty_months is None
    Draft202012Validator(json.loads(SCHEMA.read_text())).validate(raw["payload"])


@pytest.mark.parametrize("months", [0, 600])
def test_a_warranty_at_either_end_of_the_range_is_accepted(months):
    payload = {**example_payload(), "warranty_months": months}

    assert CatalogItemUpserted.model_validate(payload).warranty_months == months
    Draft202012Validator(json.loads(SCHEMA.read_text())).validate(payload)


@pytest.mark.parametrize("months", [-1, 601, "36 months", 12.5])
def test_a_warranty_outside_the_range_or_not_a_whole_number_is_refused(months):
    payload = copy.deepcopy(example_payload())
    payload["warranty_months"] = months

    with pytest.raises(ValidationError, match="warranty_months"):
        CatalogItemUpserted.model_validate(payload)
    assert not Draft202012Validator(json.loads(SCHEMA.read_text())).is_valid(payload)
