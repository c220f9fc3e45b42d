"""The checked-in JSON Schema is current, valid, and as strict as the writer models."""

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from stockwire.contracts.fsm import PartsIssued
from stockwire.contracts.schemas import (
    DIALECT,
    ENVELOPE_FILE,
    EXAMPLES_DIR,
    SCHEMAS_DIR,
    generate,
    main,
    stale_files,
)
from stockwire.contracts.topics import ALL_TOPICS, FSM_JOB_EVENTS

GENERATED = generate()


def objects_in(schema: Any) -> Iterator[dict[str, Any]]:
    """Every sub-schema that declares properties, however deeply nested."""
    if isinstance(schema, dict):
        if "properties" in schema:
            yield schema
        for value in schema.values():
            yield from objects_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from objects_in(value)


def test_checked_in_schemas_match_the_models():
    assert stale_files(SCHEMAS_DIR, GENERATED) == [], (
        "run: uv run python -m stockwire.contracts.schemas"
    )


def test_schema_files_are_named_by_topic_event_type_and_version():
    expected = {ENVELOPE_FILE} | {
        f"{spec.name}/{model.event_type}.v{model.schema_version}.json"
        for spec in ALL_TOPICS
        for model in spec.payloads
    }
    assert set(GENERATED) == expected


@pytest.mark.parametrize("relative", sorted(GENERATED))
def test_every_schema_is_draft_2020_12_and_refuses_unknown_fields(relative):
    schema = json.loads((SCHEMAS_DIR / relative).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    for sub_schema in objects_in(schema):
        assert sub_schema["additionalProperties"] is False, sub_schema.get("title")


def test_the_envelope_leaves_its_payload_to_the_payload_schema():
    envelope = json.loads((SCHEMAS_DIR / ENVELOPE_FILE).read_text(encoding="utf-8"))
    assert envelope["additionalProperties"] is False
    assert envelope["properties"]["payload"]["type"] == "object"


def _example_parts_issued() -> dict[str, Any]:
    path = EXAMPLES_DIR / FSM_JOB_EVENTS.name / "v1" / "fsm.parts.issued.json"
    return json.loads(path.read_text(encoding="utf-8"))["payload"]


def _set_quantity(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["lines"][0]["quantity"] = value

    return change


BROKEN_PAYLOADS: dict[str, Callable[[dict[str, Any]], None]] = {
    "quantity in words": _set_quantity("ten"),
    "zero quantity": _set_quantity(0),
    "quantity above the limit": _set_quantity(1_000_001),
    "empty sku": lambda p: p["lines"][0].update(sku=""),
    "no lines": lambda p: p.update(lines=[]),
    "job id missing": lambda p: p.pop("job_id"),
    "unknown field": lambda p: p.update(warehouse_bin="A-03"),
    "unknown field in a line": lambda p: p["lines"][0].update(bin="A-03"),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN_PAYLOADS))
def test_schema_and_model_both_refuse_a_broken_payload(breakage):
    payload = copy.deepcopy(_example_parts_issued())
    BROKEN_PAYLOADS[breakage](payload)
    schema = json.loads(
        (SCHEMAS_DIR / FSM_JOB_EVENTS.name / "fsm.parts.issued.v1.json").read_text(encoding="utf-8")
    )
    assert not Draft202012Validator(schema).is_valid(payload)
    with pytest.raises(ValidationError):
        PartsIssued.model_validate(payload)


def test_check_lists_stale_missing_and_orphan_files_and_regenerating_fixes_them(tmp_path, capsys):
    assert main(["--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0

    (tmp_path / ENVELOPE_FILE).write_text("{}\n", encoding="utf-8")
    (tmp_path / FSM_JOB_EVENTS.name / "fsm.parts.issued.v1.json").unlink()
    orphan = tmp_path / "stock.retired.v1" / "stock.thing.happened.v1.json"
    orphan.parent.mkdir()
    orphan.write_text("{}\n", encoding="utf-8")
    capsys.readouterr()

    assert main(["--check", "--dir", str(tmp_path)]) == 1
    report = capsys.readouterr().err
    assert "envelope.json: differs from the models" in report
    assert "fsm.job-events.v1/fsm.parts.issued.v1.json: missing" in report
    assert "stock.retired.v1/stock.thing.happened.v1.json: no registered payload" in report

    assert main(["--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    assert not orphan.parent.exists()
