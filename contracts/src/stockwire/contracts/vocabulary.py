"""The catalog's vocabularies, shared by the contracts and the catalog's domain.

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
