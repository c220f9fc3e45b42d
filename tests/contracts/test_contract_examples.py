"""Every event type has checked-in examples, and every example is a valid, canonical message."""

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from stockwire.contracts import fsm, receipts, scans
from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, envelope_json, wrap
from stockwire.contracts.schemas import (
    ENVELOPE_FILE,
    EXAMPLES_DIR,
    SCHEMAS_DIR,
    Example,
    load_examples,
    payload_path,
)
from stockwire.contracts.topics import ALL_TOPICS, by_name

EXAMPLES = load_examples()
VARIANT = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def example_id(example: Example) -> str:
    return example.path.relative_to(EXAMPLES_DIR).as_posix()


def validator(path: Path) -> Draft202012Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def parsed(example: Example) -> Event:
    model = by_name(example.topic).payload_model(example.envelope["event_type"])
    assert model is not None, f"{example.topic} carries no {example.envelope['event_type']}"
    return model.model_validate(example.envelope["payload"])


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_every_example_validates_against_its_schema_and_model(example):
    spec = by_name(example.topic)
    model = spec.payload_model(example.envelope["event_type"])
    assert model is not None, f"{spec.name} carries no {example.envelope['event_type']}"
    envelope_errors = validator(SCHEMAS_DIR / ENVELOPE_FILE).iter_errors(example.envelope)
    payload_errors = validator(SCHEMAS_DIR / payload_path(spec, model)).iter_errors(
        example.envelope["payload"]
    )
    assert [error.message for error in [*envelope_errors, *payload_errors]] == []

    envelope = Envelope.model_validate(example.envelope)
    model.model_validate(envelope.payload)
    assert envelope.schema_version == model.schema_version


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_examples_are_written_exactly_as_a_writer_writes_them(example):
    """Examples show every field, in the writer's form (decimals as strings), so they teach it."""
    envelope = Envelope.model_validate(example.envelope)
    written = wrap(
        parsed(example),
        producer=envelope.producer,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        occurred_at=envelope.occurred_at,
        event_id=envelope.event_id,
    )
    assert written.model_dump(mode="json") == example.envelope


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_the_outbox_writes_each_event_byte_for_byte_as_wrap_would(example):
    envelope = Envelope.model_validate(example.envelope)
    fields = {
        "producer": envelope.producer,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "occurred_at": envelope.occurred_at,
        "event_id": envelope.event_id,
    }
    expected = wrap(parsed(example), **fields).model_dump_json().encode()
    assert envelope_json(parsed(example), **fields) == expected


def test_the_outbox_writer_refuses_an_envelope_without_a_producer_or_time_zone():
    example = EXAMPLES[0]
    fields = {"event_id": uuid.uuid4(), "occurred_at": datetime.now(UTC), "producer": "tests"}
    with pytest.raises(ValueError, match="producer"):
        envelope_json(parsed(example), **{**fields, "producer": ""})
    with pytest.raises(ValueError, match="time zone"):
        envelope_json(parsed(example), **{**fields, "occurred_at": datetime.now()})


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_examples_are_filed_by_topic_version_and_event_type(example):
    parts = example.path.relative_to(EXAMPLES_DIR).parts
    event_type = example.envelope["event_type"]
    assert len(parts) == 3
    assert parts[1] == f"v{example.envelope['schema_version']}"
    stem = example.path.stem
    assert stem == event_type or (
        stem.startswith(f"{event_type}.") and VARIANT.fullmatch(stem.removeprefix(f"{event_type}."))
    ), f"name it {event_type}.json or {event_type}.<variant>.json"


def test_every_event_type_has_an_example():
    registered = {
        (spec.name, model.event_type, model.schema_version)
        for spec in ALL_TOPICS
        for model in spec.payloads
    }
    covered = {
        (example.topic, example.envelope["event_type"], example.envelope["schema_version"])
        for example in EXAMPLES
    }
    assert registered - covered == set(), "these event types have no example"
    assert covered - registered == set(), "these examples are of no registered event type"


def test_examples_cover_the_cases_where_behaviour_differs():
    payloads = [parsed(example) for example in EXAMPLES]
    installs = [p.line for p in payloads if isinstance(p, fsm.PartInstalled)]
    returns = [p for p in payloads if isinstance(p, fsm.PartReturned)]
    received = [line for p in payloads if isinstance(p, receipts.GoodsReceived) for line in p.lines]
    scanned = [p for p in payloads if isinstance(p, scans.ScanRecorded)]

    assert any(line.quantity % 1 and line.lot for line in installs), "a length-tracked partial"
    assert any(line.serials for line in installs), "a serialized install"
    assert any(p.condition is fsm.ReturnCondition.FAULTY for p in returns), "a faulty return"
    assert any(line.received_quantity < line.ordered_quantity for line in received), "short"
    assert any(line.received_quantity > line.ordered_quantity for line in received), "over"
    assert any(line.received_quantity == 0 for line in received), "a back-ordered line"
    assert any(p.serial is not None for p in scanned), "a serial scan"
    assert any(p.count_id is not None for p in scanned), "a cycle-count scan"
