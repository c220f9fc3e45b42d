"""Catalog payloads: equipment models (items) and locations, published on compacted topics.

Each event carries the whole current record, so the latest record per key is the state.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field

from stockwire.contracts.base import CurrencyCode, Event, LocationCode, Sku


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


class CatalogItemUpserted(Event):
    """An equipment model was created, changed or retired; the whole record follows."""

    event_type = "catalog.item.upserted"

    sku: Sku
    name: str = Field(min_length=1, max_length=200)
    manufacturer: str = Field(min_length=1, max_length=200)
    category: Category
    tracking_mode: TrackingMode
    unit: str = Field(min_length=1, max_length=16, description="Unit of measure, e.g. each, m.")
    handling_class: HandlingClass
    criticality: Criticality
    unit_cost: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
    currency: CurrencyCode
    default_lead_time_days: int = Field(ge=0, le=3650)
    substitutes: tuple[Sku, ...] = ()
    end_of_sale: date | None = None
    end_of_life: date | None = None
    status: ItemStatus
    version: int = Field(ge=1, description="Increases by one with every change.")
    updated_at: AwareDatetime


class LocationUpserted(Event):
    """A location was created, changed or retired; the whole record follows."""

    event_type = "catalog.location.upserted"

    code: LocationCode
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    region: str = Field(min_length=1, max_length=64)
    parent_code: LocationCode | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    active: bool
    version: int = Field(ge=1, description="Increases by one with every change.")
    updated_at: AwareDatetime
