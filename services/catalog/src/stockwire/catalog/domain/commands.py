"""What callers ask the catalog to do. Vocabulary fields (category, kind, ...) arrive as
plain strings: the domain decides what they mean, whichever entry point sent them."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from stockwire.runtime.domain_errors import Problem


@dataclass(frozen=True)
class CreateItem:
    sku: str
    name: str
    manufacturer: str
    category: str
    tracking_mode: str
    unit_cost: Decimal
    currency: str
    unit: str | None = None
    handling_class: str = "none"
    criticality: str = "medium"
    default_lead_time_days: int = 0
    substitutes: tuple[str, ...] = ()
    end_of_sale: date | None = None
    end_of_life: date | None = None
    warranty_months: int | None = None


@dataclass(frozen=True)
class UpdateItem:
    """Change the named fields of an item last seen at ``expected_version``."""

    sku: str
    expected_version: int
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class RetireItem:
    sku: str
    expected_version: int


@dataclass(frozen=True)
class ImportRow:
    """One data row of an import file, with the line it started on."""

    line: int
    item: CreateItem


@dataclass(frozen=True)
class ImportItems:
    """Create or replace many items at once, all or none.

    ``unreadable`` holds problems the entry point already found while parsing the file,
    so the caller hears about every bad row in one answer.
    """

    rows: tuple[ImportRow, ...]
    unreadable: tuple[Problem, ...] = field(default=())


@dataclass(frozen=True)
class CreateLocation:
    code: str
    name: str
    kind: str
    region: str
    parent_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class UpdateLocation:
    """Change the named fields of a location last seen at ``expected_version``."""

    code: str
    expected_version: int
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class RetireLocation:
    code: str
    expected_version: int
