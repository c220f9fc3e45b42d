"""Policies per SKU x location, their defaults and overrides, and where each value of an
effective policy came from.

A policy is one of two kinds: **min/max** (reorder when available + inbound falls to the
min, order up to the max) or **reorder point** (reorder at a reorder point, order up to an
order-up-to level, both computed from forecasts and failure rates unless fixed). Its
service level is a cycle service level (:mod:`.service_levels`).

An effective policy is resolved from layers, each setting some values and leaving the
rest to the layers below it:

1. the base defaults;
2. the catalog's supplier lead time (the lead time, unless a layer above sets one);
3. the defaults for the location's kind;
4. the defaults for the item's category;
5. the defaults for that kind and category together;
6. the operator's override for that SKU x location.

Then criticality may raise the service level. Each value records the layer it came from,
so the "why" of a suggestion can say "0.97, the default for warehouse locations".

Vans default to min/max: a van holds a few units of what a technician installs, its
demand per SKU is too sparse to forecast usefully on its own, and what bounds it is the
van's room; warehouses and sites default to computed reorder points.

Values that do not belong to the effective kind (a min on a reorder-point policy) are
dropped when a default set them and refused when the override did, so an override that
switches a van to a reorder point leaves the van's default min and max behind, while one
that fixes a reorder point on a min/max policy is told why it cannot.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from stockwire.contracts.vocabulary import Category, Criticality, LocationKind, TrackingMode
from stockwire.replenishment.domain.quantities import format_quantity, is_discrete, is_whole
from stockwire.replenishment.domain.service_levels import raised_service_level
from stockwire.runtime.domain_errors import Invalid, Problem


class PolicyKind(StrEnum):
    MIN_MAX = "min_max"
    REORDER_POINT = "reorder_point"


class Origin(StrEnum):
    """Where a value of an effective policy came from."""

    BASE = "base_default"
    CATALOG = "catalog"
    LOCATION_KIND = "location_kind_default"
    CATEGORY = "category_default"
    LOCATION_KIND_AND_CATEGORY = "location_kind_and_category_default"
    OVERRIDE = "override"
    CRITICALITY = "criticality"


QUANTITY_FIELDS = ("min_quantity", "max_quantity", "reorder_point", "order_up_to")
MIN_MAX_FIELDS = ("min_quantity", "max_quantity")
REORDER_POINT_FIELDS = ("reorder_point", "order_up_to")


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """One layer of a policy: a default or an operator's override. None leaves a value to
    the layers below. Raises :class:`Invalid` with every problem found, so an override
    refused over HTTP says why field by field."""

    kind: PolicyKind | None = None
    service_level: float | None = None
    min_quantity: float | None = None
    max_quantity: float | None = None
    reorder_point: float | None = None
    """Fixed; None leaves it to a layer below or, if none sets it, to be computed."""
    order_up_to: float | None = None
    """Fixed; None leaves it to a layer below or, if none sets it, to be computed."""
    review_period_days: int | None = None
    lead_time_days: int | None = None
    """The lead time the reorder point covers; the catalog's supplier lead time unless
    set (a van is restocked from a warehouse in days, not from the supplier)."""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise Invalid.of(problems)


SETTINGS_FIELDS = tuple(f.name for f in fields(PolicySettings))


def _problems(layer: PolicySettings) -> list[Problem]:
    problems: list[Problem] = []
    level = layer.service_level
    if level is not None and not 0 < level < 1:
        problems.append(
            Problem(
                "service_level",
                f"a cycle service level lies strictly between 0 and 1 (0.95 for 95 %), "
                f"not {level:g}",
            )
        )
    for name in QUANTITY_FIELDS:
        value = getattr(layer, name)
        if value is not None and not math.isfinite(value):
            problems.append(Problem(name, f"a quantity is a finite number, not {value}"))
        elif value is not None and value < 0:
            problems.append(
                Problem(name, f"a quantity is never negative, not {format_quantity(value)}")
            )
    for name, what in (("review_period_days", "review period"), ("lead_time_days", "lead time")):
        days = getattr(layer, name)
        if days is not None and days <= 0:
            problems.append(Problem(name, f"the {what} is at least 1 day, not {days}"))
    low, high = layer.min_quantity, layer.max_quantity
    if low is not None and high is not None and 0 <= high < low:
        problems.append(
            Problem(
                "max_quantity",
                f"the max ({format_quantity(high)}) is below the min ({format_quantity(low)})",
            )
        )
    point, up_to = layer.reorder_point, layer.order_up_to
    if point is not None and up_to is not None and 0 <= up_to < point:
        problems.append(
            Problem(
                "order_up_to",
                f"the order-up-to level ({format_quantity(up_to)}) is below the reorder point "
                f"({format_quantity(point)})",
            )
        )
    if layer.kind is not None:
        problems.extend(
            Problem(name, _foreign(name, layer.kind))
            for name in _foreign_fields(layer.kind)
            if getattr(layer, name) is not None
        )
    return problems


def _foreign_fields(kind: PolicyKind) -> tuple[str, ...]:
    return REORDER_POINT_FIELDS if kind is PolicyKind.MIN_MAX else MIN_MAX_FIELDS


def _foreign(name: str, kind: PolicyKind) -> str:
    if kind is PolicyKind.MIN_MAX:
        return (
            f"a min_max policy reorders at its min and orders up to its max, so it has no "
            f"{name}; set min_quantity and max_quantity, or make it a reorder_point policy"
        )
    return (
        f"a reorder_point policy has no {name}; set reorder_point and order_up_to (or leave "
        f"them to be computed), or make it a min_max policy"
    )


STOCKED_KINDS = frozenset(
    {
        LocationKind.WAREHOUSE,
        LocationKind.POINT_OF_PRESENCE,
        LocationKind.FIBER_HUT,
        LocationKind.TECHNICIAN_VAN,
    }
)
"""Locations that hold planned spare stock, and so have policies and may give a transfer.
Rooftops, customer sites and jobsites hold installed equipment; quarantine and repair
vendors hold stock nobody may use."""

BASE_DEFAULTS = PolicySettings(
    kind=PolicyKind.REORDER_POINT, service_level=0.95, review_period_days=7
)
LOCATION_KIND_DEFAULTS: Mapping[LocationKind, PolicySettings] = {
    LocationKind.WAREHOUSE: PolicySettings(service_level=0.97),
    LocationKind.POINT_OF_PRESENCE: PolicySettings(review_period_days=14),
    LocationKind.FIBER_HUT: PolicySettings(review_period_days=14),
    LocationKind.TECHNICIAN_VAN: PolicySettings(
        kind=PolicyKind.MIN_MAX,
        service_level=0.90,
        min_quantity=1,
        max_quantity=3,
        review_period_days=1,
        lead_time_days=2,
    ),
}
"""Warehouses feed everything else, so they aim higher; PoPs and huts are visited less
often; vans are small, checked daily and restocked from a warehouse within days."""
CATEGORY_DEFAULTS: Mapping[Category, PolicySettings] = {
    Category.CABLE: PolicySettings(service_level=0.98),
    Category.MOUNTING: PolicySettings(service_level=0.98),
}
"""Cheap consumables whose lack stops an install: holding more costs little."""
LOCATION_KIND_AND_CATEGORY_DEFAULTS: Mapping[tuple[LocationKind, Category], PolicySettings] = {
    (LocationKind.TECHNICIAN_VAN, Category.ONT): PolicySettings(min_quantity=2, max_quantity=5),
    (LocationKind.TECHNICIAN_VAN, Category.CPE): PolicySettings(min_quantity=2, max_quantity=5),
    (LocationKind.TECHNICIAN_VAN, Category.ROUTER): PolicySettings(min_quantity=2, max_quantity=5),
    (LocationKind.TECHNICIAN_VAN, Category.CABLE): PolicySettings(
        min_quantity=50, max_quantity=150
    ),
}
"""What a technician installs on most jobs rides in the van in larger numbers; cable is
in meters."""


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the catalog says of an item that planning uses."""

    sku: str
    category: Category
    criticality: Criticality
    tracking_mode: TrackingMode
    lead_time_days: int
    """The supplier's lead time (the catalog's default lead time)."""


@dataclass(frozen=True, slots=True)
class LocationFacts:
    """What the catalog says of a location that planning uses."""

    code: str
    kind: LocationKind
    region: str


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """The policy a SKU x location is planned by, every value resolved, with where each
    came from (``sources``, by field name)."""

    sku: str
    location: str
    region: str
    location_kind: LocationKind
    category: Category
    criticality: Criticality
    discrete: bool
    """Counted in whole units: levels and quantities are ints."""
    kind: PolicyKind
    service_level: float
    """The cycle service level planned at, after criticality."""
    requested_service_level: float
    """The service level the layers asked for, before criticality."""
    service_level_reason: str
    min_quantity: float | None
    max_quantity: float | None
    reorder_point: float | None
    """Fixed by a layer; None when computed."""
    order_up_to: float | None
    """Fixed by a layer; None when computed."""
    review_period_days: int
    lead_time_days: int
    """The lead time the reorder point covers."""
    supplier_lead_time_days: int
    """The catalog's: how long a purchase takes to arrive."""
    sources: Mapping[str, Origin]


def is_stocked(kind: LocationKind) -> bool:
    """Whether locations of ``kind`` hold planned stock (have policies)."""
    return kind in STOCKED_KINDS


def resolve_policy(
    item: ItemFacts, location: LocationFacts, override: PolicySettings | None = None
) -> EffectivePolicy:
    """The effective policy of ``item`` at ``location``: the defaults for the location's
    kind and the item's category under ``override``, then criticality's floor.

    Raises :class:`Invalid` when the location holds no planned stock, or when the
    override does not fit the layers below it (a min above the default max, a reorder
    point on a min/max policy, a fraction of a whole-unit item)."""
    if not is_stocked(location.kind):
        raise Invalid(
            "location",
            f"{location.code} is a {location.kind} location, which holds no planned stock; "
            f"policies apply to {', '.join(sorted(STOCKED_KINDS))} locations",
        )
    layers = _layers(item, location, override)
    values: dict[str, Any] = {}
    sources: dict[str, Origin] = {}
    for origin, layer in layers:
        for name in SETTINGS_FIELDS:
            value = getattr(layer, name)
            if value is not None:
                values[name] = value
                sources[name] = origin
    kind: PolicyKind = values["kind"]
    described = {name: _describe(origin, item, location) for name, origin in sources.items()}
    problems: list[Problem] = []
    for name in _foreign_fields(kind):
        if name not in values:
            continue
        if sources[name] is Origin.OVERRIDE:
            problems.append(
                Problem(name, f"{_foreign(name, kind)} ({kind} is {described['kind']})")
            )
        del values[name], sources[name]
    problems.extend(_completeness(kind, values, described))
    discrete = is_discrete(item.tracking_mode)
    if discrete:
        problems.extend(
            Problem(
                name, f"{item.sku} is counted in whole units, not {format_quantity(values[name])}"
            )
            for name in QUANTITY_FIELDS
            if name in values and not is_whole(values[name])
        )
    if problems:
        raise Invalid.of(problems)
    if "lead_time_days" not in values:
        values["lead_time_days"] = item.lead_time_days
        sources["lead_time_days"] = Origin.CATALOG
    requested: float = values["service_level"]
    service_level = raised_service_level(requested, item.criticality)
    if service_level > requested:
        reason = (
            f"{service_level:g}: {item.sku} is of {item.criticality} criticality (at least "
            f"{service_level:g}), above the {requested:g} of {described['service_level']}"
        )
        sources["service_level"] = Origin.CRITICALITY
    else:
        reason = f"{requested:g}: {described['service_level']}"
    return EffectivePolicy(
        sku=item.sku,
        location=location.code,
        region=location.region,
        location_kind=location.kind,
        category=item.category,
        criticality=item.criticality,
        discrete=discrete,
        kind=kind,
        service_level=service_level,
        requested_service_level=requested,
        service_level_reason=reason,
        min_quantity=values.get("min_quantity"),
        max_quantity=values.get("max_quantity"),
        reorder_point=values.get("reorder_point"),
        order_up_to=values.get("order_up_to"),
        review_period_days=values["review_period_days"],
        lead_time_days=values["lead_time_days"],
        supplier_lead_time_days=item.lead_time_days,
        sources=sources,
    )


def _layers(
    item: ItemFacts, location: LocationFacts, override: PolicySettings | None
) -> Sequence[tuple[Origin, PolicySettings]]:
    candidates = (
        (Origin.BASE, BASE_DEFAULTS),
        (Origin.LOCATION_KIND, LOCATION_KIND_DEFAULTS.get(location.kind)),
        (Origin.CATEGORY, CATEGORY_DEFAULTS.get(item.category)),
        (
            Origin.LOCATION_KIND_AND_CATEGORY,
            LOCATION_KIND_AND_CATEGORY_DEFAULTS.get((location.kind, item.category)),
        ),
        (Origin.OVERRIDE, override),
    )
    return [(origin, layer) for origin, layer in candidates if layer is not None]


def _completeness(
    kind: PolicyKind, values: Mapping[str, Any], described: Mapping[str, str]
) -> list[Problem]:
    if kind is not PolicyKind.MIN_MAX:
        return []
    missing = [
        Problem(
            name,
            f"a min_max policy needs a {name}; neither the defaults for this location and "
            f"item nor the override set one",
        )
        for name in MIN_MAX_FIELDS
        if name not in values
    ]
    if missing:
        return missing
    low, high = values["min_quantity"], values["max_quantity"]
    if high < low:
        return [
            Problem(
                "max_quantity",
                f"the max ({format_quantity(high)}, {described['max_quantity']}) is below the "
                f"min ({format_quantity(low)}, {described['min_quantity']})",
            )
        ]
    return []


def _describe(origin: Origin, item: ItemFacts, location: LocationFacts) -> str:
    match origin:
        case Origin.BASE:
            return "the base default"
        case Origin.CATALOG:
            return "the catalog's supplier lead time"
        case Origin.LOCATION_KIND:
            return f"the default for {location.kind} locations"
        case Origin.CATEGORY:
            return f"the default for {item.category} items"
        case Origin.LOCATION_KIND_AND_CATEGORY:
            return f"the default for {item.category} items at {location.kind} locations"
        case Origin.OVERRIDE:
            return f"the override for {item.sku} at {location.code}"
        case Origin.CRITICALITY:
            return f"the floor for {item.criticality} criticality"
