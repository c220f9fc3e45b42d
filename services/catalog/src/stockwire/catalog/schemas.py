"""The HTTP API's request and response bodies.

Every rule that can be stated in JSON Schema is stated here, from the domain's own
figures and patterns, so the OpenAPI document says exactly what is accepted. The domain
checks the same rules again (an import file reaches it too), plus the ones no schema can
state: end of life after end of sale, a length-tracked item counted in metres, a parent
that exists and forms no cycle, substitutes that exist.
"""

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from stockwire.catalog.domain.commands import CreateItem, CreateLocation
from stockwire.catalog.domain.model import (
    CODE_FORBIDDEN,
    CODE_MAX,
    COST_LIMIT,
    COST_PLACES,
    LEAD_TIME_MAX_DAYS,
    NAME_MAX,
    REGION_MAX,
    SUBSTITUTES_MAX,
    UNIT_MAX,
    WARRANTY_MAX_MONTHS,
    ItemRecord,
    LocationRecord,
)
from stockwire.contracts.vocabulary import (
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    LocationKind,
    TrackingMode,
)
from stockwire.runtime.http.bodies import Body, Changes, Decimals, Omittable
from stockwire.runtime.http.text import NO_NUL, text_field

Code = Annotated[str, text_field(CODE_MAX, CODE_FORBIDDEN)]
"""A SKU or location code: 1-64 characters, no '/' or '|', no control characters, no
spaces at either end."""
Name = Annotated[str, text_field(NAME_MAX)]
Region = Annotated[str, text_field(REGION_MAX)]
Unit = Annotated[str, text_field(UNIT_MAX)]
Currency = Annotated[str, Field(pattern="^[A-Za-z]{3}$", description="ISO 4217, e.g. EUR.")]
UnitCost = Annotated[Decimal, Decimals(COST_PLACES, int(COST_LIMIT), below_maximum=True)]
LeadTime = Annotated[int, Field(ge=0, le=LEAD_TIME_MAX_DAYS)]
WarrantyMonths = Annotated[
    int,
    Field(
        ge=0,
        le=WARRANTY_MAX_MONTHS,
        description="The vendor's warranty from receipt, in months; null when unknown.",
    ),
]
Substitutes = Annotated[
    list[Code],
    Field(
        max_length=SUBSTITUTES_MAX,
        json_schema_extra={"uniqueItems": True},
        description="Existing SKUs that can replace this one, each once, not the item itself.",
    ),
]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]

SearchText = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
"""A filter value from a query string."""


def _paired_coordinates(schema: dict[str, Any]) -> None:
    """Coordinates come as a pair, or not at all; neither may be null."""
    schema["dependentRequired"] = {"latitude": ["longitude"], "longitude": ["latitude"]}
    for name in ("latitude", "longitude"):
        schema["properties"][name].pop("default", None)


class ItemIn(Body):
    """A new equipment model. Omitted optional fields take the defaults shown."""

    sku: Code
    name: Name
    manufacturer: Name
    category: Category
    tracking_mode: TrackingMode
    unit: Unit | None = Field(
        default=None, description="Unit of measure; 'm' for length tracking. Default: each / m."
    )
    handling_class: HandlingClass = HandlingClass.NONE
    criticality: Criticality = Criticality.MEDIUM
    unit_cost: UnitCost
    currency: Currency
    default_lead_time_days: LeadTime = 0
    substitutes: Substitutes = Field(default_factory=list)
    end_of_sale: date | None = None
    end_of_life: date | None = Field(default=None, description="Not before end_of_sale.")
    warranty_months: WarrantyMonths | None = None

    def command(self) -> CreateItem:
        return CreateItem(**{**self.model_dump(), "substitutes": tuple(self.substitutes)})


class ItemChanges(Changes):
    """The fields to change; omitted fields keep their value. Only ``unit`` (back to the
    default), ``end_of_sale``, ``end_of_life`` and ``warranty_months`` can be cleared, with
    null."""

    name: Omittable[Name] = None
    manufacturer: Omittable[Name] = None
    category: Omittable[Category] = None
    tracking_mode: Omittable[TrackingMode] = None
    unit: Unit | None = None
    handling_class: Omittable[HandlingClass] = None
    criticality: Omittable[Criticality] = None
    unit_cost: Omittable[UnitCost] = None
    currency: Omittable[Currency] = None
    default_lead_time_days: Omittable[LeadTime] = None
    substitutes: Omittable[Substitutes] = None
    end_of_sale: date | None = None
    end_of_life: date | None = None
    warranty_months: WarrantyMonths | None = None

    def changes(self) -> dict[str, object]:
        changes = super().changes()
        if changes.get("substitutes") is not None:
            changes["substitutes"] = tuple(changes["substitutes"])
        return changes


class ItemOut(BaseModel):
    sku: str
    name: str
    manufacturer: str
    category: Category
    tracking_mode: TrackingMode
    unit: str
    handling_class: HandlingClass
    criticality: Criticality
    unit_cost: Decimal
    currency: str
    default_lead_time_days: int
    substitutes: list[str]
    end_of_sale: date | None
    end_of_life: date | None
    warranty_months: int | None
    status: ItemStatus
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, record: ItemRecord) -> "ItemOut":
        return cls(
            sku=record.sku,
            **asdict(record.details),
            status=record.status,
            version=record.version,
            updated_at=record.updated_at,
        )


class ItemPage(BaseModel):
    items: list[ItemOut]
    total: int = Field(description="How many items match the filters, over all pages.")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at end.")


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class LocationIn(Body):
    code: Code
    name: Name
    kind: LocationKind
    region: Region
    parent_code: Code | None = Field(default=None, description="An existing, active location.")
    latitude: Omittable[Latitude] = Field(
        default=None, description="Give with longitude, or neither."
    )
    longitude: Omittable[Longitude] = Field(
        default=None, description="Give with latitude, or neither."
    )

    model_config = ConfigDict(json_schema_extra=_paired_coordinates)

    def command(self) -> CreateLocation:
        return CreateLocation(**self.model_dump())


class LocationChanges(Changes):
    """The fields to change; omitted fields keep their value, null clears an optional one
    (latitude and longitude go together)."""

    name: Omittable[Name] = None
    kind: Omittable[LocationKind] = None
    region: Omittable[Region] = None
    parent_code: Code | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class LocationOut(BaseModel):
    code: str
    name: str
    kind: LocationKind
    region: str
    parent_code: str | None
    latitude: float | None
    longitude: float | None
    active: bool
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, record: LocationRecord) -> "LocationOut":
        return cls(
            code=record.code,
            **asdict(record.details),
            active=record.active,
            version=record.version,
            updated_at=record.updated_at,
        )


class LocationPage(BaseModel):
    locations: list[LocationOut]
    total: int = Field(description="How many locations match the filters, over all pages.")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at end.")
