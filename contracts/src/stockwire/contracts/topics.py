"""The topic registry: every topic's name, owner, key, partitions, cleanup policy and payloads.

Services name topics only through this module. Names follow ``<owner>.<aggregate>.v<N>``;
each topic has one writer. Inbound topics are owned by contracts on behalf of the outside
systems that write them. A topic's dead-letter topic is ``<name>.dlq``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from stockwire.contracts import (
    assets,
    catalog,
    fsm,
    network,
    notifier,
    receipts,
    replenishment,
    scans,
    stock,
)
from stockwire.contracts.base import Event


class CleanupPolicy(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"


@dataclass(frozen=True)
class TopicSpec:
    """One topic: who writes it, what is in it and how it is keyed."""

    name: str
    owner: str
    key: str
    """Which aggregate id the Kafka key holds (documentation and AsyncAPI)."""
    key_of: Callable[[Any], str]
    """Computes the Kafka key from a payload of this topic."""
    payloads: tuple[type[Event], ...]
    partitions: int
    cleanup_policy: CleanupPolicy = CleanupPolicy.DELETE
    description: str = ""
    configs: dict[str, str] = field(default_factory=dict)
    carries_alerts: bool = False
    """Every payload is an :class:`~stockwire.contracts.alerts.AlertRaised` or
    :class:`~stockwire.contracts.alerts.AlertResolved`; the notifier reads every such topic."""

    @property
    def dlq(self) -> str:
        """The dead-letter topic for messages on this topic that cannot be processed."""
        return f"{self.name}.dlq"

    def payload_model(self, event_type: str) -> type[Event] | None:
        """The payload model for ``event_type`` on this topic, or None if unknown."""
        return self._by_event_type.get(event_type)

    @cached_property
    def _by_event_type(self) -> dict[str, type[Event]]:
        return {model.event_type: model for model in self.payloads}

    def key_for(self, payload: Event) -> str:
        if not isinstance(payload, self.payloads):
            raise TypeError(f"{type(payload).__name__} is not a payload of topic {self.name}")
        return self.key_of(payload)

    def topic_configs(self) -> dict[str, str]:
        return {"cleanup.policy": self.cleanup_policy.value, **self.configs}


CATALOG_ITEMS = TopicSpec(
    name="catalog.items.v1",
    owner="catalog",
    key="sku",
    key_of=lambda p: p.sku,
    payloads=(catalog.CatalogItemUpserted,),
    partitions=3,
    cleanup_policy=CleanupPolicy.COMPACT,
    description="Equipment models; the latest record per SKU is the current state.",
)

CATALOG_LOCATIONS = TopicSpec(
    name="catalog.locations.v1",
    owner="catalog",
    key="location code",
    key_of=lambda p: p.code,
    payloads=(catalog.LocationUpserted,),
    partitions=3,
    cleanup_policy=CleanupPolicy.COMPACT,
    description="Locations; the latest record per code is the current state.",
)

FSM_JOB_EVENTS = TopicSpec(
    name="fsm.job-events.v1",
    owner="contracts (for field-service-management systems)",
    key="job id",
    key_of=lambda p: p.job_id,
    payloads=(
        fsm.PartsIssued,
        fsm.PartInstalled,
        fsm.PartReturned,
        fsm.DeviceSwapped,
        fsm.JobCompleted,
    ),
    partitions=6,
    description="Job events from FSM systems: parts issued, installed, returned, swapped.",
)

NETWORK_DEVICE_EVENTS = TopicSpec(
    name="monitoring.device-events.v1",
    owner="contracts (for network-monitoring systems)",
    key="serial",
    key_of=lambda p: p.serial,
    payloads=(
        network.DeviceFailed,
        network.DeviceDegraded,
        network.DeviceRecovered,
        network.DeviceSeen,
    ),
    partitions=6,
    description="Device health from network monitoring: failed, degraded, recovered, seen.",
)

SCANS = TopicSpec(
    name="scanning.scans.v1",
    owner="contracts (for barcode/RFID scanners and mobile apps)",
    key="location code",
    key_of=lambda p: p.location,
    payloads=(scans.ScanRecorded,),
    partitions=6,
    description="Barcode and RFID scans for receipts, picks and counts.",
)

GOODS_RECEIPTS = TopicSpec(
    name="procurement.goods-receipts.v1",
    owner="contracts (for purchasing / ERP systems)",
    key="PO number",
    key_of=lambda p: p.po_number,
    payloads=(receipts.GoodsReceived,),
    partitions=3,
    description="Deliveries booked in against purchase orders, with short and over lines.",
)


def stock_key(sku: str, location: str) -> str:
    """The key of one balance's events: ``sku@location``."""
    return f"{sku}@{location}"


STOCK_MOVEMENTS = TopicSpec(
    name="stock.movements.v1",
    owner="stock",
    key="sku@location",
    key_of=lambda p: stock_key(p.sku, p.location),
    payloads=(stock.StockMovementRecorded, stock.StockMovementRejected),
    partitions=6,
    description="The movement ledger, and movements the rules rejected.",
)

STOCK_LEVELS = TopicSpec(
    name="stock.levels.v1",
    owner="stock",
    key="sku@location",
    key_of=lambda p: stock_key(p.sku, p.location),
    payloads=(stock.StockLevelChanged,),
    partitions=6,
    cleanup_policy=CleanupPolicy.COMPACT,
    description="Current balance per SKU x location; the latest record per key is the state.",
)

STOCK_ALERTS = TopicSpec(
    name="stock.alerts.v1",
    owner="stock",
    key="sku@location",
    key_of=lambda p: stock_key(p.sku, p.location),
    payloads=(stock.StockAlertRaised, stock.StockAlertResolved),
    partitions=3,
    description="Stockouts, rejected movements, transfer discrepancies, count variances, "
    "and their resolutions.",
    carries_alerts=True,
)

ASSETS_LIFECYCLE = TopicSpec(
    name="assets.lifecycle.v1",
    owner="assets",
    key="serial",
    key_of=lambda p: p.serial,
    payloads=(
        assets.DeviceStateChanged,
        assets.TransitionRejected,
        assets.MaintenanceRecorded,
        assets.FailureRecorded,
        assets.RmaOpened,
        assets.RmaClosed,
        assets.DeviceDisposed,
    ),
    partitions=6,
    description="Each serialized device's life: state changes and refused transitions, "
    "maintenance, failures, RMAs and disposal.",
)


def reliability_key(sku: str, region: str | None) -> str:
    """The key of one reliability figure: ``sku`` for a model everywhere, ``sku@region``
    for a model in a region, so compaction keeps one record of each."""
    return sku if region is None else f"{sku}@{region}"


ASSETS_RELIABILITY = TopicSpec(
    name="assets.reliability.v1",
    owner="assets",
    key="model sku, or sku@region",
    key_of=lambda p: reliability_key(p.sku, p.region),
    payloads=(assets.ReliabilityComputed,),
    partitions=3,
    cleanup_policy=CleanupPolicy.COMPACT,
    description="Failures per device-year and MTBF with its confidence interval, per model "
    "and per model x region; the latest record per key is the current figure.",
)

ASSETS_ALERTS = TopicSpec(
    name="assets.alerts.v1",
    owner="assets",
    key="alert dedup_key",
    key_of=lambda p: p.dedup_key,
    payloads=(assets.AssetAlertRaised, assets.AssetAlertResolved),
    partitions=3,
    description="Warranty and end-of-life warnings, failure spikes, firmware below the "
    "minimum, reconciliation mismatches, refused transitions, and their resolutions.",
    carries_alerts=True,
)

REPLENISHMENT_SUGGESTIONS = TopicSpec(
    name="replenishment.suggestions.v1",
    owner="replenishment",
    key="sku@location (the location to replenish)",
    key_of=lambda p: stock_key(p.sku, p.location),
    payloads=(
        replenishment.SuggestionMade,
        replenishment.SuggestionAccepted,
        replenishment.SuggestionRejected,
        replenishment.SuggestionWithdrawn,
    ),
    partitions=6,
    description="Transfer, purchase and last-time-buy suggestions, with the numbers behind "
    "them, and whether each was accepted, rejected or withdrawn.",
)

REPLENISHMENT_TRANSFER_REQUESTS = TopicSpec(
    name="replenishment.transfer-requests.v1",
    owner="replenishment",
    key="sku@from_location (the shipping balance)",
    key_of=lambda p: stock_key(p.sku, p.from_location),
    payloads=(replenishment.TransferRequested,),
    partitions=6,
    description="Accepted transfer suggestions: commands to stock to ship between two "
    "locations, once per transfer_id.",
)

REPLENISHMENT_PURCHASE_ORDERS = TopicSpec(
    name="replenishment.purchase-orders.v1",
    owner="replenishment",
    key="sku@location (where the goods go)",
    key_of=lambda p: stock_key(p.sku, p.location),
    payloads=(replenishment.PurchaseOrderRequested,),
    partitions=3,
    description="Accepted purchase and last-time-buy suggestions: purchase-order requests "
    "for the ERP.",
)

REPLENISHMENT_ALERTS = TopicSpec(
    name="replenishment.alerts.v1",
    owner="replenishment",
    key="alert dedup_key",
    key_of=lambda p: p.dedup_key,
    payloads=(replenishment.ReplenishmentAlertRaised, replenishment.ReplenishmentAlertResolved),
    partitions=3,
    description="Projected stockouts with their date and remedy, regional imbalances, "
    "suggestions not acted on in time, last-time buys due, and their resolutions.",
    carries_alerts=True,
)

NOTIFIER_ACKNOWLEDGEMENTS = TopicSpec(
    name="notifier.acknowledgements.v1",
    owner="notifier",
    key="alert dedup_key",
    key_of=lambda p: p.dedup_key,
    payloads=(notifier.AlertAcknowledged,),
    partitions=3,
    description="Who acknowledged which alert, when, and how (API or signed link).",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CATALOG_ITEMS,
    CATALOG_LOCATIONS,
    FSM_JOB_EVENTS,
    NETWORK_DEVICE_EVENTS,
    SCANS,
    GOODS_RECEIPTS,
    STOCK_MOVEMENTS,
    STOCK_LEVELS,
    STOCK_ALERTS,
    ASSETS_LIFECYCLE,
    ASSETS_RELIABILITY,
    ASSETS_ALERTS,
    REPLENISHMENT_SUGGESTIONS,
    REPLENISHMENT_TRANSFER_REQUESTS,
    REPLENISHMENT_PURCHASE_ORDERS,
    REPLENISHMENT_ALERTS,
    NOTIFIER_ACKNOWLEDGEMENTS,
)

ALERT_TOPICS: tuple[TopicSpec, ...] = tuple(spec for spec in ALL_TOPICS if spec.carries_alerts)
"""Every topic whose payloads carry the common alert shape: the notifier reads them all."""

DLQ_PARTITIONS = 1


def by_name(name: str) -> TopicSpec:
    """The registered topic called ``name``; raises KeyError for an unknown topic."""
    for spec in ALL_TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(f"no topic named {name!r} in the registry")


def topic_for(payload_type: type[Event]) -> TopicSpec:
    """The one topic that carries ``payload_type``."""
    try:
        return _TOPIC_OF_PAYLOAD[payload_type]
    except KeyError:
        raise KeyError(f"{payload_type.__name__} is carried by no registered topic") from None


_TOPIC_OF_PAYLOAD: dict[type[Event], TopicSpec] = {
    payload: spec for spec in ALL_TOPICS for payload in spec.payloads
}
