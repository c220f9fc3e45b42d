"""The HTTP API's request and response bodies.

They check shapes and types only (so the OpenAPI document lists the vocabularies); every
catalog rule, lengths and ranges included, lives in the domain, which answers for JSON
bodies and import files alike.
"""

import unicodedata
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from stockwire.catalog.domain.commands import CreateItem, CreateLocation
from stockwire.catalog.domain.model import (
    Category,
    Criticality,
    HandlingClass,
    ItemRecord,
    ItemStatus,
    LocationKind,
    LocationRecord,
    TrackingMode,
)


def _printable(value: str) -> str:
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ValueError("must not contain control characters")
    return value


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Whole = Annotated[int, BeforeValidator(_not_bool)]
Number = Annotated[float, BeforeValidator(_not_bool)]
"""Numbers that refuse JSON booleans, which pydantic would otherwise read as 1 and 0."""

SearchText = Annotated[str, Field(max_length=200), AfterValidator(_printable)]
"""A filter value from a query string: bounded and free of characters the database refuses."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(Strict):
    """A new equipment model. Omitted optional fields take the defaults shown."""

    sku: str = Field(description="Opaque code, 1-64 characters, without '/' or '|'.")
    name: str = Field(description="1-200 characters.")
    manufacturer: str = Field(description="1-200 characters.")
    category: Category
    tracking_mode: TrackingMode
    unit: str | None = Field(
        default=None, description="Unit of measure; 'm' for length tracking. Default: each / m."
    )
    handling_class: HandlingClass = HandlingClass.NONE
    criticality: Criticality = Criticality.MEDIUM
    unit_cost: Decimal = Field(description="At least 0, at most 4 decimal places.")
    currency: str = Field(description="ISO 4217 code, e.g. EUR.")
    default_lead_time_days: Whole = Field(default=0, description="0-3650.")
    substitutes: list[str] = Field(
        default_factory=list, description="Existing SKUs that can replace this one."
    )
    end_of_sale: date | None = None
    end_of_life: date | None = Field(default=None, description="Not before end_of_sale.")

    def command(self) -> CreateItem:
        return CreateItem(**{**self.model_dump(), "substitutes": tuple(self.substitutes)})


class ItemChanges(Strict):
    """The fields to change; omitted fields keep their value, null clears an optional one."""

    name: str | None = None
    manufacturer: str | None = None
    category: Category | None = None
    tracking_mode: TrackingMode | None = None
    unit: str | None = None
    handling_class: HandlingClass | None = None
    criticality: Criticality | None = None
    unit_cost: Decimal | None = None
    currency: str | None = None
    default_lead_time_days: Whole | None = None
    substitutes: list[str] | None = None
    end_of_sale: date | None = None
    end_of_life: date | None = None

    def changes(self) -> dict[str, object]:
        changes = self.model_dump(exclude_unset=True)
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


class LocationIn(Strict):
    code: str = Field(description="Opaque code, 1-64 characters, without '/' or '|'.")
    name: str = Field(description="1-200 characters.")
    kind: LocationKind
    region: str = Field(description="1-64 characters.")
    parent_code: str | None = Field(default=None, description="An existing, active location.")
    latitude: Number | None = Field(default=None, description="-90..90; give with longitude.")
    longitude: Number | None = Field(default=None, description="-180..180; give with latitude.")

    def command(self) -> CreateLocation:
        return CreateLocation(**self.model_dump())


class LocationChanges(Strict):
    """The fields to change; omitted fields keep their value, null clears an optional one."""

    name: str | None = None
    kind: LocationKind | None = None
    region: str | None = None
    parent_code: str | None = None
    latitude: Number | None = None
    longitude: Number | None = None

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)


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


class ProblemOut(BaseModel):
    field: str
    reason: str
    line: int | None = Field(default=None, description="Line of an import file, if any.")


class ErrorOut(BaseModel):
    """Every error answer has this shape."""

    error: str = Field(description="A stable code: invalid, not_found, conflict, ...")
    detail: str
    problems: list[ProblemOut] = Field(default_factory=list)
    current_version: int | None = Field(default=None, description="On 412: the version now.")
