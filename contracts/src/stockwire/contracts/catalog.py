"""Catalog payloads: equipment models (items) and locations, published on compacted topics.

Each event carries the whole current record, so the latest record per key is the state.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field

from stockwire.contracts.base import CurrencyCode, Event, LocationCode, Sku
from stockwire.contracts.vocabulary import (
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    LocationKind,
    TrackingMode,
)

__all__ = [
    "CatalogItemUpserted",
    "Category",
    "Criticality",
    "HandlingClass",
    "ItemStatus",
    "LocationKind",
    "LocationUpserted",
    "TrackingMode",
]


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
    warranty_months: int | None = Field(
        default=None,
        ge=0,
        le=600,
        description="Vendor warranty from receipt, in months (0 to 600); null when unknown.",
    )
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
