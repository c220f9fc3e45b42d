"""The common alert shape: any alert topic's events read through it, and its bounds hold."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from stockwire.contracts.alerts import MAX_LABELS, AlertRaised, AlertResolved
from stockwire.contracts.envelope import Envelope, read_payload
from stockwire.contracts.schemas import Example, load_examples
from stockwire.contracts.topics import ALERT_TOPICS, by_name

ALERT_EXAMPLES = [example for example in load_examples() if by_name(example.topic).carries_alerts]


def common_model(example: Example) -> type[AlertRaised] | type[AlertResolved]:
    model = by_name(example.topic).payload_model(example.envelope["event_type"])
    assert model is not None
    return AlertRaised if issubclass(model, AlertRaised) else AlertResolved


def raised(**changes: Any) -> dict[str, Any]:
    return {
        "alert_id": str(uuid.uuid4()),
        "kind": "device_failed",
        "severity": "critical",
        "dedup_key": "device_failed:ALCL0001",
        "summary": "ONT ALCL0001 stopped answering",
        "raised_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
        **changes,
    }


def test_every_alert_topic_has_examples_to_read() -> None:
    assert {example.topic for example in ALERT_EXAMPLES} == {spec.name for spec in ALERT_TOPICS}


@pytest.mark.parametrize("example", ALERT_EXAMPLES, ids=lambda example: example.path.name)
def test_any_producers_alert_reads_through_the_common_shape(example: Example) -> None:
    envelope = Envelope.model_validate(example.envelope)

    alert = read_payload(envelope, common_model(example))

    assert alert.dedup_key == example.envelope["payload"]["dedup_key"]
    assert alert.kind == example.envelope["payload"]["kind"]


def test_a_minimal_alert_needs_only_the_common_fields() -> None:
    alert = AlertRaised.model_validate(raised())

    assert alert.location is None and alert.labels == {} and alert.figures == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "Stock Out"},
        {"kind": ""},
        {"severity": "disaster"},
        {"dedup_key": ""},
        {"dedup_key": "k" * 257},
        {"summary": "s" * 501},
        {"raised_at": "2026-12-01T00:00:00"},
        {"link": "javascript:alert(1)"},
        {"link": "http://x/" + "a" * 2048},
        {"labels": {"Bad Name": "x"}},
        {"labels": {f"l{i}": "x" for i in range(MAX_LABELS + 1)}},
        {"labels": {"site": "x" * 257}},
        {"figures": {"available": "lots"}},
        {"figures": {"available": "1e13"}},
    ],
    ids=repr,
)
def test_an_alert_outside_the_common_shape_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AlertRaised.model_validate(raised(**changes))
