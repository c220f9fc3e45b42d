"""Equipment models (items) and locations: the catalog's two aggregates and their rules.

Each aggregate holds an immutable record and replaces it on every change, appending an
event that carries the new record, so the unit of work can publish exactly what changed
without asking the aggregate again. Every rule that the published contract relies on
(lengths, ranges, vocabularies) is checked here, so a record that passes can always be
published.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from stockwire.catalog.domain.commands import CreateItem, CreateLocation
from stockwire.contracts.vocabulary import (
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    LocationKind,
    TrackingMode,
)
from stockwire.runtime.domain_errors import Conflict, Invalid, Problem, VersionMismatch
from stockwire.runtime.plain_text import text_problem

CODE_MAX = 64
NAME_MAX = 200
REGION_MAX = 64
UNIT_MAX = 16
LEAD_TIME_MAX_DAYS = 3650
WARRANTY_MAX_MONTHS = 600
"""Fifty years: longer than any vendor warranty, short enough to catch a typo in days."""
SUBSTITUTES_MAX = 50
LENGTH_UNIT = "m"
COST_PLACES = 4
COST_QUANTUM = Decimal(1).scaleb(-COST_PLACES)
COST_LIMIT = Decimal(10) ** 10
CODE_FORBIDDEN = "/|"
"""'/' would split the code in a URL path; '|' separates substitutes in import files."""

E = TypeVar("E", bound=StrEnum)


def default_unit(tracking_mode: str) -> str:
    """Length-tracked items are counted in metres; everything else piece by piece."""
    return LENGTH_UNIT if tracking_mode == TrackingMode.LENGTH else "each"


def is_code(value: object) -> bool:
    """True if ``value`` could be a SKU or location code (looking one up needs no more)."""
    return not _code_problem(value)


def _code_problem(value: object) -> str:
    if not isinstance(value, str):
        return "is required"
    return text_problem(value, CODE_MAX, CODE_FORBIDDEN) or ""


class _Checker:
    """Collects every problem with a record, so one answer lists them all."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, name: str, reason: str) -> None:
        self.problems.append(Problem(name, reason))

    def raise_if_any(self) -> None:
        if self.problems:
            raise Invalid.of(self.problems)

    def code(self, name: str, value: object) -> str:
        reason = _code_problem(value)
        if reason:
            self.fail(name, reason)
        return value if isinstance(value, str) else ""

    def text(self, name: str, value: object, limit: int) -> str:
        if not isinstance(value, str):
            self.fail(name, "is required")
            return ""
        reason = text_problem(value, limit)
        if reason:
            self.fail(name, reason)
        return value

    def choice(self, name: str, value: object, vocabulary: type[E]) -> E | None:
        if isinstance(value, str):
            with suppress(ValueError):
                return vocabulary(value)
        allowed = ", ".join(member.value for member in vocabulary)
        self.fail(name, f"unknown {name} {value!r}; expected one of: {allowed}")
        return None

    def whole(self, name: str, value: object, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "must be a whole number")
            return low
        if not low <= value <= high:
            self.fail(name, f"must be between {low} and {high}, not {value}")
        return value

    def optional_whole(self, name: str, value: object, low: int, high: int) -> int | None:
        return None if value is None else self.whole(name, value, low, high)

    def cost(self, name: str, value: object) -> Decimal:
        try:
            amount = Decimal(value) if isinstance(value, Decimal | int | str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            self.fail(name, "must be a decimal number")
            return Decimal(0)
        if amount < 0:
            self.fail(name, f"must not be negative, not {amount}")
        elif amount >= COST_LIMIT:
            self.fail(name, f"must be less than {COST_LIMIT:,}")
        elif amount != amount.quantize(COST_QUANTUM, rounding="ROUND_DOWN"):
            self.fail(name, f"must have at most {COST_PLACES} decimal places")
        else:
            return amount.quantize(COST_QUANTUM)
        return Decimal(0)

    def currency(self, name: str, value: object) -> str:
        code = value.strip().upper() if isinstance(value, str) else ""
        if len(code) != 3 or not all("A" <= char <= "Z" for char in code):
            self.fail(name, f"must be a three-letter ISO 4217 code such as EUR, not {value!r}")
        return code

    def day(self, name: str, value: object) -> date | None:
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        self.fail(name, "must be a date (YYYY-MM-DD)")
        return None

    def degrees(self, name: str, value: object, limit: float) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, "must be a number")
            return None
        number = float(value)
        if not math.isfinite(number) or not -limit <= number <= limit:
            self.fail(name, f"must be between -{limit:g} and {limit:g}, not {value}")
            return None
        return number


def _unknown_changes(changes: Mapping[str, Any], editable: Iterable[str]) -> list[Problem]:
    allowed = set(editable)
    return [Problem(name, "cannot be changed") for name in changes if name not in allowed]


def _check_version(kind: str, key: str, current: int, expected: int) -> None:
    if current != expected:
        raise VersionMismatch(kind, key, expected=expected, current=current)


# ---------------------------------------------------------------------------------- items


@dataclass(frozen=True)
class ItemDetails:
    """What an operator may edit about an equipment model."""

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
    substitutes: tuple[str, ...]
    end_of_sale: date | None
    end_of_life: date | None
    warranty_months: int | None
    """The vendor's warranty from receipt; None when the catalog does not know it."""


ITEM_FIELDS = tuple(f.name for f in fields(ItemDetails))


@dataclass(frozen=True)
class ItemRecord:
    """An equipment model as stored and published: the whole record at one version."""

    sku: str
    details: ItemDetails
    status: ItemStatus
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class ItemCreated:
    item: ItemRecord


@dataclass(frozen=True)
class ItemUpdated:
    item: ItemRecord
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ItemRetired:
    item: ItemRecord


ItemEvent = ItemCreated | ItemUpdated | ItemRetired


def _item_details(sku: str, raw: Mapping[str, Any]) -> ItemDetails:
    check = _Checker()
    tracking_mode = check.choice("tracking_mode", raw["tracking_mode"], TrackingMode)
    unit = raw["unit"]
    if unit is None and tracking_mode is not None:
        unit = default_unit(tracking_mode)
    unit = check.text("unit", unit, UNIT_MAX)
    if tracking_mode == TrackingMode.LENGTH and unit and unit != LENGTH_UNIT:
        check.fail(
            "unit",
            f"length-tracked items are counted in metres: unit must be '{LENGTH_UNIT}', "
            f"not {unit!r}",
        )
    end_of_sale = check.day("end_of_sale", raw["end_of_sale"])
    end_of_life = check.day("end_of_life", raw["end_of_life"])
    if end_of_sale and end_of_life and end_of_life < end_of_sale:
        check.fail(
            "end_of_life",
            f"end of life ({end_of_life}) is before end of sale ({end_of_sale})",
        )
    details = ItemDetails(
        name=check.text("name", raw["name"], NAME_MAX),
        manufacturer=check.text("manufacturer", raw["manufacturer"], NAME_MAX),
        category=check.choice("category", raw["category"], Category) or Category.OTHER,
        tracking_mode=tracking_mode or TrackingMode.BULK,
        unit=unit,
        handling_class=(
            check.choice("handling_class", raw["handling_class"], HandlingClass)
            or HandlingClass.NONE
        ),
        criticality=(
            check.choice("criticality", raw["criticality"], Criticality) or Criticality.MEDIUM
        ),
        unit_cost=check.cost("unit_cost", raw["unit_cost"]),
        currency=check.currency("currency", raw["currency"]),
        default_lead_time_days=check.whole(
            "default_lead_time_days", raw["default_lead_time_days"], 0, LEAD_TIME_MAX_DAYS
        ),
        substitutes=_substitutes(check, sku, raw["substitutes"]),
        end_of_sale=end_of_sale,
        end_of_life=end_of_life,
        warranty_months=check.optional_whole(
            "warranty_months", raw["warranty_months"], 0, WARRANTY_MAX_MONTHS
        ),
    )
    check.raise_if_any()
    return details


def _substitutes(check: _Checker, sku: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        check.fail("substitutes", "must be a list of SKUs")
        return ()
    if len(value) > SUBSTITUTES_MAX:
        check.fail("substitutes", f"must list at most {SUBSTITUTES_MAX} SKUs, not {len(value)}")
        return ()
    seen: set[str] = set()
    for substitute in value:
        reason = _code_problem(substitute)
        if reason:
            check.fail("substitutes", f"{substitute!r} {reason}")
        elif substitute == sku:
            check.fail("substitutes", f"an item cannot substitute itself ({sku!r})")
        elif substitute in seen:
            check.fail("substitutes", f"{substitute!r} is listed twice")
        seen.add(substitute)
    return tuple(value)


class Item:
    """An equipment model. Changes bump the version and record an event with the new record."""

    def __init__(self, record: ItemRecord) -> None:
        self.record = record
        self.events: list[ItemEvent] = []

    @property
    def sku(self) -> str:
        return self.record.sku

    @property
    def version(self) -> int:
        return self.record.version

    @classmethod
    def create(cls, cmd: CreateItem, now: datetime) -> "Item":
        check = _Checker()
        sku = check.code("sku", cmd.sku)
        raw = {name: getattr(cmd, name) for name in ITEM_FIELDS}
        try:
            details = _item_details(sku, raw)
        except Invalid as error:
            check.problems.extend(error.problems)
        check.raise_if_any()
        item = cls(ItemRecord(sku, details, ItemStatus.ACTIVE, version=1, updated_at=now))
        item.events.append(ItemCreated(item.record))
        return item

    def check_version(self, expected: int) -> None:
        _check_version("item", self.sku, self.version, expected)

    def update(self, changes: Mapping[str, Any], now: datetime) -> None:
        """Apply ``changes`` (field -> new value); a change to nothing records nothing."""
        unknown = _unknown_changes(changes, ITEM_FIELDS)
        if unknown:
            raise Invalid.of(unknown)
        details = _item_details(self.sku, asdict(self.record.details) | dict(changes))
        self._replace_details(details, now)

    def replace(self, cmd: CreateItem, now: datetime) -> None:
        """Overwrite every editable field, as an import row does for an existing SKU."""
        self.update({name: getattr(cmd, name) for name in ITEM_FIELDS}, now)

    def retire(self, now: datetime) -> None:
        """Stop offering the model; retiring a retired item changes nothing."""
        if self.record.status == ItemStatus.RETIRED:
            return
        self.record = replace(
            self.record, status=ItemStatus.RETIRED, version=self.version + 1, updated_at=now
        )
        self.events.append(ItemRetired(self.record))

    def _replace_details(self, details: ItemDetails, now: datetime) -> None:
        before = self.record.details
        changed = tuple(n for n in ITEM_FIELDS if getattr(before, n) != getattr(details, n))
        if not changed:
            return
        self.record = replace(
            self.record, details=details, version=self.version + 1, updated_at=now
        )
        self.events.append(ItemUpdated(self.record, changed))


def unknown_substitutes(substitutes: Iterable[str], known: Iterable[str]) -> Invalid | None:
    """The error for substitutes that name no item, or None when every one exists."""
    missing = sorted(set(substitutes) - set(known))
    if not missing:
        return None
    return Invalid("substitutes", f"unknown SKU(s): {', '.join(missing)}")


IMPORT_PROBLEMS_MAX = 100
"""An import answer lists at most this many problems: a file with more is usually wrong as
a whole (a wrong column, a wrong separator), and listing every one would cost memory and
an answer nobody reads. Reading the file stops once this many are found."""


def import_rejected(problems: Sequence[Problem]) -> Invalid:
    """The answer to an import file with ``problems``: nothing of it is applied."""
    shown = sorted(problems, key=lambda p: p.line or 0)[:IMPORT_PROBLEMS_MAX]
    lines = len({p.line for p in shown})
    detail = f"nothing was imported: {lines} line(s) have problems"
    if len(problems) >= IMPORT_PROBLEMS_MAX:
        detail += f"; only the first {IMPORT_PROBLEMS_MAX} problems are listed, fix them first"
    return Invalid.of(shown, detail=detail)


# ------------------------------------------------------------------------------ locations


@dataclass(frozen=True)
class LocationDetails:
    """What an operator may edit about a location."""

    name: str
    kind: LocationKind
    region: str
    parent_code: str | None
    latitude: float | None
    longitude: float | None


LOCATION_FIELDS = tuple(f.name for f in fields(LocationDetails))


@dataclass(frozen=True)
class LocationRecord:
    """A location as stored and published: the whole record at one version."""

    code: str
    details: LocationDetails
    active: bool
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class Parent:
    """What the rules need to know about a proposed parent: whether it is in use, and the
    chain of its own ancestors (nearest first) to rule out cycles."""

    code: str
    active: bool
    ancestors: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class LocationCreated:
    location: LocationRecord


@dataclass(frozen=True)
class LocationUpdated:
    location: LocationRecord
    changed: tuple[str, ...]


@dataclass(frozen=True)
class LocationRetired:
    location: LocationRecord


LocationEvent = LocationCreated | LocationUpdated | LocationRetired


def _location_details(
    code: str, raw: Mapping[str, Any], parent: Parent | None, *, new_parent: bool
) -> LocationDetails:
    """Check a location's fields; the parent rules apply only when the parent is new, so a
    location under a parent retired since keeps working."""
    check = _Checker()
    latitude = check.degrees("latitude", raw["latitude"], 90)
    longitude = check.degrees("longitude", raw["longitude"], 180)
    if (raw["latitude"] is None) != (raw["longitude"] is None):
        missing = "longitude" if raw["longitude"] is None else "latitude"
        check.fail(missing, "give both latitude and longitude, or neither")
    parent_code = raw["parent_code"]
    if parent_code is not None and new_parent:
        parent_code = check.code("parent_code", parent_code)
        _check_parent(check, code, parent_code, parent)
    details = LocationDetails(
        name=check.text("name", raw["name"], NAME_MAX),
        kind=check.choice("kind", raw["kind"], LocationKind) or LocationKind.WAREHOUSE,
        region=check.text("region", raw["region"], REGION_MAX),
        parent_code=parent_code,
        latitude=latitude,
        longitude=longitude,
    )
    check.raise_if_any()
    return details


def _check_parent(check: _Checker, code: str, parent_code: str, parent: Parent | None) -> None:
    if parent_code == code:
        check.fail("parent_code", f"a location cannot be its own parent ({code!r})")
    elif parent is None or parent.code != parent_code:
        check.fail("parent_code", f"unknown location {parent_code!r}")
    elif code in parent.ancestors:
        chain = [code, parent_code, *parent.ancestors[: parent.ancestors.index(code) + 1]]
        check.fail("parent_code", f"would form a cycle: {' -> '.join(chain)}")
    elif not parent.active:
        check.fail("parent_code", f"location {parent_code!r} is retired")


class Location:
    """A place stock can be. Changes bump the version and record an event with the new record."""

    def __init__(self, record: LocationRecord) -> None:
        self.record = record
        self.events: list[LocationEvent] = []

    @property
    def code(self) -> str:
        return self.record.code

    @property
    def version(self) -> int:
        return self.record.version

    @classmethod
    def create(cls, cmd: CreateLocation, now: datetime, parent: Parent | None) -> "Location":
        check = _Checker()
        code = check.code("code", cmd.code)
        raw = {name: getattr(cmd, name) for name in LOCATION_FIELDS}
        try:
            details = _location_details(code, raw, parent, new_parent=True)
        except Invalid as error:
            check.problems.extend(error.problems)
        check.raise_if_any()
        location = cls(LocationRecord(code, details, active=True, version=1, updated_at=now))
        location.events.append(LocationCreated(location.record))
        return location

    def check_version(self, expected: int) -> None:
        _check_version("location", self.code, self.version, expected)

    def update(self, changes: Mapping[str, Any], now: datetime, parent: Parent | None) -> None:
        """Apply ``changes``; ``parent`` describes the parent the location would then have."""
        unknown = _unknown_changes(changes, LOCATION_FIELDS)
        if unknown:
            raise Invalid.of(unknown)
        raw = asdict(self.record.details) | dict(changes)
        before = self.record.details
        new_parent = raw["parent_code"] != before.parent_code
        details = _location_details(self.code, raw, parent, new_parent=new_parent)
        changed = tuple(n for n in LOCATION_FIELDS if getattr(before, n) != getattr(details, n))
        if not changed:
            return
        self.record = replace(
            self.record, details=details, version=self.version + 1, updated_at=now
        )
        self.events.append(LocationUpdated(self.record, changed))

    def retire(self, now: datetime, active_children: Sequence[str]) -> None:
        """Take the location out of use; its active children must move or retire first."""
        if not self.record.active:
            return
        if active_children:
            shown = ", ".join(sorted(active_children)[:10])
            raise Conflict("code", f"location {self.code!r} still has active children: {shown}")
        self.record = replace(self.record, active=False, version=self.version + 1, updated_at=now)
        self.events.append(LocationRetired(self.record))
