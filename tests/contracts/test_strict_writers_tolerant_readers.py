"""Writers refuse fields they do not know; readers ignore them, so producers can add fields."""

import copy
import json
from collections.abc import Iterator
from typing import Any, get_origin

import pytest
from pydantic import ValidationError

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope, read_envelope, read_payload
from stockwire.contracts.schemas import EXAMPLES_DIR, Example, load_examples
from stockwire.contracts.topics import by_name

EXAMPLES = load_examples()
UNKNOWN = "added_by_a_newer_producer"


def example_id(example: Example) -> str:
    return example.path.relative_to(EXAMPLES_DIR).as_posix()


def model_of(example: Example) -> type[Event]:
    model = by_name(example.topic).payload_model(example.envelope["event_type"])
    assert model is not None
    return model


def nested_objects(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Paths to every JSON object inside ``value``, not counting ``value`` itself."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        if isinstance(child, dict):
            yield (*path, key)
        if isinstance(child, dict | list):
            yield from nested_objects(child, (*path, key))


def records(model: type[Event], payload: Any) -> Iterator[tuple[str | int, ...]]:
    """Paths to the nested objects that are records (with fields of their own), leaving out
    the free-form maps a payload carries (an alert's ``labels`` and ``figures``), whose keys
    are data, not fields."""
    for path in nested_objects(payload):
        field = model.model_fields.get(str(path[0]))
        if len(path) == 1 and field is not None and get_origin(field.annotation) is dict:
            continue
        yield path


def at(value: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_writers_reject_unknown_fields(example):
    model = model_of(example)
    with pytest.raises(ValidationError, match="extra_forbidden"):
        Envelope.model_validate({**example.envelope, UNKNOWN: 1})
    with pytest.raises(ValidationError, match="extra_forbidden"):
        model.model_validate({**example.envelope["payload"], UNKNOWN: 1})
    for path in records(model, example.envelope["payload"]):
        payload = copy.deepcopy(example.envelope["payload"])
        at(payload, path)[UNKNOWN] = 1
        with pytest.raises(ValidationError, match="extra_forbidden"):
            model.model_validate(payload)


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_readers_ignore_unknown_fields(example):
    model = model_of(example)
    raw = copy.deepcopy(example.envelope)
    raw[UNKNOWN] = {"any": "thing"}
    raw["payload"][UNKNOWN] = [1, 2, 3]
    for path in records(model, raw["payload"]):
        at(raw["payload"], path)[UNKNOWN] = "ignored"

    envelope = read_envelope(json.dumps(raw).encode())
    payload = read_payload(envelope, model)

    assert envelope.event_id == Envelope.model_validate(example.envelope).event_id
    assert payload == model.model_validate(example.envelope["payload"])


def test_readers_ignore_unknown_fields_yet_still_need_the_known_ones():
    example = next(e for e in EXAMPLES if e.envelope["event_type"] == "fsm.parts.issued")
    raw = copy.deepcopy(example.envelope)
    del raw["payload"]["lines"][0]["quantity"]
    envelope = read_envelope(json.dumps(raw))
    with pytest.raises(ValidationError, match="quantity"):
        read_payload(envelope, model_of(example))
