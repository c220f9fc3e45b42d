"""The AsyncAPI 3.0 document for every topic in the registry.

A service's FastStream app describes only the topics it subscribes to, while the registry
knows every topic with its one writer, key and payloads; so the platform-wide document is
generated from the registry. Payload schemas come from the same generator as the
checked-in JSON Schema, and every message carries the checked-in examples.

Run ``python -m stockwire.contracts.asyncapi [-o FILE]`` to regenerate and ``--check``
(CI) to fail when the file is stale. Each operation is a topic's one writer sending;
which services read a topic is their own business and lives in their FastStream apps.
"""

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaValue, models_json_schema

from stockwire.contracts.base import Event
from stockwire.contracts.envelope import Envelope
from stockwire.contracts.schemas import (
    CONTRACTS_ROOT,
    ContractSchemaGenerator,
    Example,
    load_examples,
    render,
)
from stockwire.contracts.topics import ALL_TOPICS, TopicSpec

ASYNCAPI_FILE = CONTRACTS_ROOT.parent / "docs" / "asyncapi.json"
KAFKA_BINDING_VERSION = "0.5.0"

DESCRIPTION = """\
Every Stockwire topic, its one writer, its key and the events it carries.

Each message is a JSON envelope (event_id, event_type, schema_version, occurred_at,
producer, correlation_id, causation_id) around the event's payload. The Kafka key is the
aggregate id, so one aggregate's events stay in order; trace context travels in headers.
Writers are strict (unknown fields are refused) and readers tolerant (unknown fields are
ignored); within a topic version only optional fields are added. A message that cannot be
read goes to the topic's dead-letter topic, `<topic>.dlq`, with the reason in headers.
"""

HEADERS_SCHEMA: JsonSchemaValue = {
    "type": "object",
    "description": "W3C trace context, so one trace follows an event across services.",
    "properties": {
        "traceparent": {"type": "string", "description": "W3C traceparent of the writer."},
        "tracestate": {"type": "string", "description": "W3C tracestate, if any."},
    },
}


def message_id(model: type[Event]) -> str:
    return f"{model.event_type}.v{model.schema_version}"


def build_document() -> dict[str, Any]:
    """The whole AsyncAPI document, as JSON-ready dicts."""
    models: list[type[BaseModel]] = [Envelope]
    models += [model for spec in ALL_TOPICS for model in spec.payloads]
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
        schema_generator=ContractSchemaGenerator,
    )
    schemas = definitions["$defs"]
    examples = load_examples()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in ALL_TOPICS:
        channels[spec.name] = _channel(spec)
        operations[f"write-{spec.name}"] = _operation(spec)
        for model in spec.payloads:
            payload_ref = refs[(model, "validation")]
            messages[message_id(model)] = _message(
                spec, model, _envelope_with(schemas["Envelope"], model, payload_ref), examples
            )
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Stockwire message contracts",
            "version": version("stockwire-contracts"),
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def _channel(spec: TopicSpec) -> dict[str, Any]:
    return {
        "address": spec.name,
        "title": spec.name,
        "description": (
            f"{spec.description}\n\nWritten only by {spec.owner}; keyed by {spec.key}; "
            f"dead letters go to `{spec.dlq}`."
        ),
        "messages": {
            message_id(model): {"$ref": f"#/components/messages/{message_id(model)}"}
            for model in spec.payloads
        },
        "bindings": {
            "kafka": {
                "partitions": spec.partitions,
                "topicConfiguration": topic_configuration(spec),
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-owner": spec.owner,
        "x-key": spec.key,
        "x-dead-letter-topic": spec.dlq,
    }


def topic_configuration(spec: TopicSpec) -> dict[str, Any]:
    """Kafka topic configs in the binding's types: a list of policies, numbers as integers."""
    configuration: dict[str, Any] = {}
    for name, value in spec.topic_configs().items():
        if name == "cleanup.policy":
            configuration[name] = value.split(",")
        else:
            configuration[name] = int(value) if value.lstrip("-").isdigit() else value
    return configuration


def _operation(spec: TopicSpec) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{spec.name}"},
        "title": f"Write {spec.name}",
        "summary": f"{spec.owner} writes {spec.name}, keyed by {spec.key}.",
        "messages": [
            {"$ref": f"#/channels/{spec.name}/messages/{message_id(model)}"}
            for model in spec.payloads
        ],
    }


def _envelope_with(
    envelope: JsonSchemaValue, model: type[Event], payload_ref: JsonSchemaValue
) -> JsonSchemaValue:
    """The envelope schema narrowed to one event type, with that event's payload inside."""
    properties = envelope["properties"]
    return {
        **envelope,
        "title": f"{model.__name__} envelope",
        "properties": {
            **properties,
            "event_type": {**properties["event_type"], "const": model.event_type},
            "schema_version": {**properties["schema_version"], "const": model.schema_version},
            "payload": payload_ref,
        },
    }


def _message(
    spec: TopicSpec, model: type[Event], payload: JsonSchemaValue, examples: list[Example]
) -> dict[str, Any]:
    summary = model.__doc__ or f"{model.event_type} on {spec.name}."
    return {
        "name": model.event_type,
        "title": model.__name__,
        "summary": summary.strip().splitlines()[0],
        "contentType": "application/json",
        "headers": HEADERS_SCHEMA,
        "payload": payload,
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"The {spec.key}."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [
            {"name": example.path.stem, "payload": example.envelope}
            for example in examples
            if example.topic == spec.name
            and example.envelope["event_type"] == model.event_type
            and example.envelope["schema_version"] == model.schema_version
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stockwire.contracts.asyncapi",
        description="Generate the AsyncAPI 3.0 document for every topic in the registry.",
    )
    parser.add_argument("-o", "--output", type=Path, default=ASYNCAPI_FILE, help="JSON file")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    document = build_document()
    text = render(document)
    if args.check:
        current = args.output.is_file() and args.output.read_text(encoding="utf-8") == text
        if not current:
            print(f"stale: {args.output}", file=sys.stderr)
            print("run: python -m stockwire.contracts.asyncapi", file=sys.stderr)
            return 1
        print(f"{args.output} is current")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    for spec in ALL_TOPICS:
        events = ", ".join(message_id(model) for model in spec.payloads)
        print(
            f"{spec.name}: {spec.partitions} partitions, {spec.cleanup_policy}, "
            f"key {spec.key}, {events}"
        )
    print(
        f"wrote {args.output}: {len(document['channels'])} channels, "
        f"{len(document['components']['messages'])} messages"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
