"""Why a suggestion was made (or not): every number that went into it, as plain data.

An explanation is a tree of frozen dataclasses whose leaves are str, int, float, bool,
date or None (enums are str); :meth:`as_dict` gives it as nested dicts and lists, ready to
be written as JSON."""

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from enum import Enum

from stockwire.contracts.vocabulary import LocationKind
from stockwire.replenishment.domain.levels import Levels
from stockwire.replenishment.domain.policies import EffectivePolicy
from stockwire.replenishment.domain.positions import Position
from stockwire.replenishment.domain.suggestions import Suggestion


@dataclass(frozen=True, slots=True)
class Excess:
    """Another location of the region holding more than its max."""

    location: str
    kind: LocationKind
    available: float
    inbound: float
    max_level: float
    excess: float


@dataclass(frozen=True, slots=True)
class ReorderExplanation:
    """One evaluation of a SKU x location against its reorder point."""

    evaluated_on: date
    policy: EffectivePolicy
    """Its kind, service level and why, lead time, review period, and each value's source."""
    levels: Levels
    """Reorder point, order-up-to level, and the safety stock behind them."""
    position: Position
    inbound: float
    inventory_position: float
    """Available + inbound."""
    triggered: bool
    """Whether the inventory position is at or below the reorder point."""
    need: float
    """Order-up-to level minus inventory position, when triggered; 0 otherwise."""
    excess_elsewhere: tuple[Excess, ...]
    """Locations of the region that could give a transfer, the one chosen first."""
    suggestion: Suggestion | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class LastTimeBuyExplanation:
    """One evaluation of a last-time buy before an item's end of life."""

    evaluated_on: date
    sku: str
    location: str
    end_of_life: date
    days_to_end_of_life: int
    horizon_days: int
    installed_base: int
    failures_per_device_year: float
    remaining_service_years: float
    expected_failures: float
    """Installed base * failures per device-year * remaining service years."""
    service_level: float
    failures_quantile: int
    """The Poisson quantile of the expected failures at the service level."""
    held: float
    shortfall: float
    """The quantile minus what is held (rounded up); a buy only when above 0."""
    suggestion: Suggestion | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value
