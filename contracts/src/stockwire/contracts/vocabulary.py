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


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
