"""The generated AsyncAPI document describes every topic and event type, and is checked in."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft7Validator

from stockwire.contracts.asyncapi import (
    ASYNCAPI_FILE,
    build_document,
    main,
    message_id,
    topic_configuration,
)
from stockwire.contracts.schemas import render
from stockwire.contracts.topics import ALL_TOPICS, CleanupPolicy, TopicSpec


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(render(build_document()))


def refs_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for child in value.values():
            yield from refs_in(child)
    elif isinstance(value, list):
        for child in value:
            yield from refs_in(child)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_generated_document_covers_every_topic_and_event_type(document):
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert set(document["channels"]) == {spec.name for spec in ALL_TOPICS}
    assert set(document["components"]["messages"]) == {
        message_id(model) for spec in ALL_TOPICS for model in spec.payloads
    }
    for spec in ALL_TOPICS:
        channel = document["channels"][spec.name]
        kafka = channel["bindings"]["kafka"]
        assert channel["address"] == spec.name
        assert spec.owner in channel["description"]
        assert spec.key in channel["description"]
        assert kafka["partitions"] == spec.partitions
        assert kafka["topicConfiguration"]["cleanup.policy"] == [spec.cleanup_policy.value]
        assert set(channel["messages"]) == {message_id(model) for model in spec.payloads}

        operation = document["operations"][f"write-{spec.name}"]
        assert operation["action"] == "send"
        assert resolve(document, operation["channel"]["$ref"]) is channel
        assert len(operation["messages"]) == len(spec.payloads)

        for model in spec.payloads:
            message = document["components"]["messages"][message_id(model)]
            envelope = message["payload"]["properties"]
            assert message["name"] == model.event_type
            assert envelope["event_type"]["const"] == model.event_type
            assert envelope["schema_version"]["const"] == model.schema_version
            assert resolve(document, envelope["payload"]["$ref"])["title"] == model.__name__
            assert message["bindings"]["kafka"]["key"]["type"] == "string"
            assert message["examples"], f"{message_id(model)} shows no example"


def test_every_reference_in_the_document_resolves(document):
    refs = set(refs_in(document))
    assert refs
    for ref in refs:
        resolve(document, ref)


def test_message_examples_validate_against_the_documented_payload(document):
    """Draft 7, as AsyncAPI schemas are; proves the embedded schemas and their refs hold."""
    for name, message in document["components"]["messages"].items():
        schema = {"$ref": f"#/components/messages/{name}/payload", **document}
        validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
        for example in message["examples"]:
            errors = [error.message for error in validator.iter_errors(example["payload"])]
            assert errors == [], f"{name} example {example['name']}"


def test_checked_in_asyncapi_document_is_current():
    assert ASYNCAPI_FILE.read_text(encoding="utf-8") == render(build_document()), (
        "run: uv run python -m stockwire.contracts.asyncapi"
    )


def test_cli_writes_the_document_and_check_spots_a_stale_one(tmp_path, capsys):
    output = tmp_path / "asyncapi.json"
    assert main(["-o", str(output)]) == 0
    assert f"{len(ALL_TOPICS)} channels" in capsys.readouterr().out
    assert json.loads(output.read_text(encoding="utf-8"))["asyncapi"] == "3.0.0"
    assert main(["--check", "-o", str(output)]) == 0
    output.write_text("{}\n", encoding="utf-8")
    assert main(["--check", "-o", str(output)]) == 1


def test_topic_configuration_uses_the_kafka_binding_types():
    spec = TopicSpec(
        name="stock.levels.v1",
        owner="stock",
        key="sku@location",
        key_of=str,
        payloads=(),
        partitions=12,
        cleanup_policy=CleanupPolicy.COMPACT,
        configs={"retention.ms": "604800000", "min.insync.replicas": "2"},
    )
    assert topic_configuration(spec) == {
        "cleanup.policy": ["compact"],
        "retention.ms": 604800000,
        "min.insync.replicas": 2,
    }
