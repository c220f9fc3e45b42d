"""The topic registry: names, owners, dead-letter topics, payload lookup and keys."""

import re

import pytest

from stockwire.contracts.alerts import AlertRaised, AlertResolved
from stockwire.contracts.schemas import EXAMPLES_DIR, Example, load_examples
from stockwire.contracts.topics import (
    ALERT_TOPICS,
    ALL_TOPICS,
    FSM_JOB_EVENTS,
    SCANS,
    TopicSpec,
    by_name,
    topic_for,
)

SERVICES = {"catalog", "stock", "assets", "replenishment", "notifier"}
"""Stockwire's own services, from the design brief; only they write service-named topics."""

INBOUND_OWNER = "contracts (for "
"""How the registry names the owner of a topic that outside systems write (ADR 0001)."""

NAME = re.compile(
    r"(?P<owner>[a-z][a-z0-9-]*)\.(?P<aggregate>[a-z][a-z0-9-]*)\.v(?P<version>[1-9][0-9]*)"
)

KEY_FIELD = {
    "catalog.items.v1": ("sku",),
    "catalog.locations.v1": ("code",),
    "fsm.job-events.v1": ("job_id",),
    "monitoring.device-events.v1": ("serial",),
    "scanning.scans.v1": ("location",),
    "procurement.goods-receipts.v1": ("po_number",),
    "stock.movements.v1": ("sku", "location"),
    "stock.levels.v1": ("sku", "location"),
    "stock.alerts.v1": ("sku", "location"),
    "assets.lifecycle.v1": ("serial",),
    "assets.reliability.v1": ("sku", "region"),
    "assets.alerts.v1": ("dedup_key",),
    "replenishment.suggestions.v1": ("sku", "location"),
    "replenishment.transfer-requests.v1": ("sku", "from_location"),
    "replenishment.purchase-orders.v1": ("sku", "location"),
    "replenishment.alerts.v1": ("dedup_key",),
    "notifier.acknowledgements.v1": ("dedup_key",),
}
"""The payload fields making each topic's aggregate id (the ones present, joined with @),
written out independently of key_of."""

EXAMPLES = load_examples()


def topic_id(spec: TopicSpec) -> str:
    return spec.name


def example_id(example: Example) -> str:
    return example.path.relative_to(EXAMPLES_DIR).as_posix()


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=topic_id)
def test_registry_names_follow_owner_aggregate_version(spec):
    match = NAME.fullmatch(spec.name)
    assert match, f"{spec.name} is not <owner>.<aggregate>.v<N>"
    if spec.owner.startswith(INBOUND_OWNER):
        assert match["owner"] not in SERVICES, "a service-named topic must be that service's"
    else:
        assert spec.owner in SERVICES
        assert match["owner"] == spec.owner


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=topic_id)
def test_payload_schema_versions_match_their_topic_version(spec):
    """A breaking payload change is a new topic version, so the two versions move together."""
    match = NAME.fullmatch(spec.name)
    assert match
    for model in spec.payloads:
        assert model.schema_version == int(match["version"]), model.event_type


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=topic_id)
def test_every_topic_is_described_and_has_partitions_and_payloads(spec):
    assert spec.description
    assert spec.key
    assert spec.partitions >= 1
    assert spec.payloads
    assert spec.topic_configs()["cleanup.policy"] == spec.cleanup_policy.value


def test_topic_names_are_unique_and_dlq_is_derived():
    names = [spec.name for spec in ALL_TOPICS]
    assert len(set(names)) == len(names)
    for spec in ALL_TOPICS:
        assert spec.dlq == f"{spec.name}.dlq"
        assert by_name(spec.name) is spec
    assert not {spec.dlq for spec in ALL_TOPICS} & set(names)
    with pytest.raises(KeyError):
        by_name("stock.levels.v0")


def test_every_event_type_travels_on_exactly_one_topic():
    event_types = [model.event_type for spec in ALL_TOPICS for model in spec.payloads]
    assert len(set(event_types)) == len(event_types)
    for spec in ALL_TOPICS:
        for model in spec.payloads:
            assert topic_for(model) is spec
            assert spec.payload_model(model.event_type) is model
        assert spec.payload_model("no.such.event") is None


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_key_of_gives_the_aggregate_id(example):
    spec = by_name(example.topic)
    assert spec.name in KEY_FIELD, f"add {spec.name}'s key field to KEY_FIELD"
    model = spec.payload_model(example.envelope["event_type"])
    assert model is not None
    payload = model.model_validate(example.envelope["payload"])
    fields = example.envelope["payload"]
    present = [fields[name] for name in KEY_FIELD[spec.name] if fields[name] is not None]
    assert spec.key_for(payload) == "@".join(present)


def test_key_for_refuses_a_payload_of_another_topic():
    scan = next(example for example in EXAMPLES if example.topic == SCANS.name)
    payload = SCANS.payload_model(scan.envelope["event_type"]).model_validate(
        scan.envelope["payload"]
    )
    with pytest.raises(TypeError, match=FSM_JOB_EVENTS.name):
        FSM_JOB_EVENTS.key_for(payload)


@pytest.mark.parametrize("spec", ALERT_TOPICS, ids=topic_id)
def test_every_payload_of_an_alert_topic_carries_the_common_alert_shape(spec: TopicSpec) -> None:
    assert all(issubclass(model, AlertRaised | AlertResolved) for model in spec.payloads)
    assert any(issubclass(model, AlertRaised) for model in spec.payloads)
    assert any(issubclass(model, AlertResolved) for model in spec.payloads), (
        f"{spec.name} raises alerts that nothing can resolve"
    )


@pytest.mark.parametrize(
    "spec", [spec for spec in ALL_TOPICS if not spec.carries_alerts], ids=topic_id
)
def test_a_topic_not_marked_for_alerts_carries_no_alert_payloads(spec: TopicSpec) -> None:
    assert not any(issubclass(model, AlertRaised | AlertResolved) for model in spec.payloads), (
        f"mark {spec.name} carries_alerts=True so the notifier reads it"
    )


def test_stock_and_assets_alerts_are_read_by_the_notifier() -> None:
    assert {"stock.alerts.v1", "assets.alerts.v1"} <= {spec.name for spec in ALERT_TOPICS}
