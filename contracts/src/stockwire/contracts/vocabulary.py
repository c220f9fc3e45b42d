"""Vocabularies shared by the contracts and the services' pure domains.

Plain enums with no pydantic import, so a service's pure domain can use the very values
the contracts publish instead of keeping a copy that could drift.
"""

from enum import StrEnum


class Category(StrEnum):
    CPE = "cpe"
    ONT = "ont"
    ROUTER = "router"
    SWITCH = "switch"
    OPTIC = "optic"
    ANTENNA = "antenna"
    CABLE = "cable"
    FIBER_SPOOL = "fiber_spool"
    POWER = "power"
    MOUNTING = "mounting"
    OTHER = "other"


class TrackingMode(StrEnum):
    SERIAL = "serial"
    LOT = "lot"
    BULK = "bulk"
    LENGTH = "length"


class HandlingClass(StrEnum):
    ESD_SENSITIVE = "esd_sensitive"
    BATTERY_HAZMAT = "battery_hazmat"
    FRAGILE = "fragile"
    NONE = "none"


class Criticality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ItemStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    POINT_OF_PRESENCE = "point_of_presence"
    TECHNICIAN_VAN = "technician_van"
    ROOFTOP = "rooftop"
    FIBER_HUT = "fiber_hut"
    CUSTOMER_SITE = "customer_site"
    JOBSITE = "jobsite"
    REPAIR_VENDOR = "repair_vendor"
    QUARANTINE = "quarantine"


class ReturnCondition(StrEnum):
    GOOD = "good"
    FAULTY = "faulty"
    UNKNOWN = "unknown"


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    INSTALL = "install"
    RETURN = "return"
    TRANSFER_SHIP = "transfer_ship"
    TRANSFER_RECEIVE = "transfer_receive"
    TRANSFER_CANCEL = "transfer_cancel"
    ADJUSTMENT = "adjustment"
    COUNT_ADJUSTMENT = "count_adjustment"
    RESERVE = "reserve"
    RELEASE = "release"


class RejectionReason(StrEnum):
    UNKNOWN_SKU = "unknown_sku"
    RETIRED_SKU = "retired_sku"
    UNKNOWN_LOCATION = "unknown_location"
    INACTIVE_LOCATION = "inactive_location"
    NEGATIVE_STOCK = "negative_stock"
    SERIAL_NOT_AT_LOCATION = "serial_not_at_location"
    SERIAL_ALREADY_IN_STOCK = "serial_already_in_stock"
    SERIAL_REQUIRED = "serial_required"
    NOT_RESERVED = "not_reserved"
    UNKNOWN_TRANSFER = "unknown_transfer"
    INVALID_QUANTITY = "invalid_quantity"
    NO_QUARANTINE = "no_quarantine"
    COUNT_NOT_OPEN = "count_not_open"


class AlertKind(StrEnum):
    STOCKOUT = "stockout"
    REJECTED_MOVEMENT = "rejected_movement"
    TRANSFER_DISCREPANCY = "transfer_discrepancy"
    COUNT_VARIANCE = "count_variance"
    SERIAL_CONFLICT = "serial_conflict"
    NEGATIVE_STOCK_ALLOWED = "negative_stock_allowed"


class Severity(StrEnum):
    """How bad a network device event is (``monitoring.device-events.v1``)."""

    INFO = "info"
    WARNING = "warning"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class MonitoringSource(StrEnum):
    """The network-monitoring system a device event came from."""

    ALERTMANAGER = "alertmanager"
    ZABBIX = "zabbix"
    LIBRENMS = "librenms"
    OTHER = "other"


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class DeviceState(StrEnum):
    """Where a serialized device is in its life (assets' lifecycle state machine)."""

    RECEIVED = "received"
    IN_STOCK = "in_stock"
    ALLOCATED = "allocated"
    """Reserved or issued for a job, not yet installed."""
    IN_TRANSIT = "in_transit"
    INSTALLED = "installed"
    """At a customer site or in the network (PoP, hut, rooftop); the location says which."""
    FAULTY = "faulty"
    RMA_OPEN = "rma_open"
    IN_REPAIR = "in_repair"
    REFURBISHED = "refurbished"
    RETIRED = "retired"
    DISPOSED = "disposed"
    """Final: a disposed serial never comes back."""


class TransitionRejectionReason(StrEnum):
    ILLEGAL_TRANSITION = "illegal_transition"
    """The state machine has no edge from the current state to the attempted one."""
    DISPOSED = "disposed"
    """The serial was disposed of and can never come back."""
    UNKNOWN_SERIAL = "unknown_serial"
    """Nothing is known of the serial, and the attempted state is not where a life starts."""
    SKU_MISMATCH = "sku_mismatch"
    """The serial is recorded under another SKU."""


class MaintenanceKind(StrEnum):
    INSPECTION = "inspection"
    SERVICE_CALL = "service_call"
    FIRMWARE_UPGRADE = "firmware_upgrade"
    CONFIGURATION_CHANGE = "configuration_change"
    REPAIR = "repair"


class FailureSource(StrEnum):
    """Who or what reported a device failure."""

    MONITORING = "monitoring"
    FAULTY_RETURN = "faulty_return"
    """A technician brought the device back as faulty (a job return or a swap)."""
    MAINTENANCE = "maintenance"
    OPERATOR = "operator"


class RmaOutcome(StrEnum):
    REPAIRED = "repaired"
    REPLACED = "replaced"
    """The vendor sent another unit; its serial is linked to this RMA."""
    SCRAPPED = "scrapped"


class DisposalMethod(StrEnum):
    RECYCLED = "recycled"
    DESTROYED = "destroyed"
    """Physically destroyed, e.g. shredded for data security."""
    RESOLD = "resold"
    RETURNED_TO_VENDOR = "returned_to_vendor"
    DONATED = "donated"


class AssetAlertKind(StrEnum):
    """The kinds of alert assets raises today.

    Assets alerts carry ``kind`` as the common lower-snake-case string, not as this enum:
    a reader validating against an enum would refuse a kind added later, so a new kind
    would be a breaking change. This list is the documentation and the producer's own
    vocabulary; readers must accept kinds they do not know."""

    DEVICE_FAILED = "device_failed"
    """Monitoring reported an installed device failed: a truck roll or a swap is due."""
    WARRANTY_EXPIRING = "warranty_expiring"
    END_OF_SALE_APPROACHING = "end_of_sale_approaching"
    END_OF_LIFE_APPROACHING = "end_of_life_approaching"
    FAILURE_SPIKE = "failure_spike"
    INSTALLED_PAST_END_OF_LIFE = "installed_past_end_of_life"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    FIRMWARE_BELOW_MINIMUM = "firmware_below_minimum"
    REJECTED_TRANSITION = "rejected_transition"


class SuggestionKind(StrEnum):
    """What replenishment suggests doing about a SKU at a location."""

    TRANSFER = "transfer"
    """Move stock from a location of the same region that holds more than its maximum."""
    PURCHASE = "purchase"
    """Buy up to the order-up-to level; arrives after the supplier lead time."""
    LAST_TIME_BUY = "last_time_buy"
    """A final purchase before end of life, sized for failures over the remaining service."""


class SafetyStockTerm(StrEnum):
    """Which term of the safety stock set a reorder point."""

    DEMAND_VARIABILITY = "demand_variability"
    """The spread of forecast demand over the lead time."""
    FAILURE_RATE = "failure_rate"
    """Poisson failures of the installed base over the lead time (assets' reliability)."""


class ReplenishmentAlertKind(StrEnum):
    """The kinds of alert replenishment raises today; readers accept kinds they do not
    know (``kind`` travels as the common string)."""

    PROJECTED_STOCKOUT = "projected_stockout"
    REGIONAL_IMBALANCE = "regional_imbalance"
    SUGGESTION_OVERDUE = "suggestion_overdue"
    LAST_TIME_BUY_DUE = "last_time_buy_due"
