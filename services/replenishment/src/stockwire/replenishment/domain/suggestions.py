"""Suggestions: a transfer from another location, a purchase from the supplier, or a
last-time buy before an item's end of life, for one SKU at one location.

A suggestion is named by its :attr:`Suggestion.key`, ``kind:sku@location``: the service
keeps at most one open suggestion per key and replaces it when a re-evaluation suggests
another quantity or source, rather than adding a second one."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stockwire.contracts.vocabulary import SuggestionKind


class SuggestionStatus(StrEnum):
    """Where a suggestion stands: open until a person decides it or it is withdrawn."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    """No longer needed (stock arrived, demand fell) or replaced by a newer one."""


def suggestion_key(kind: SuggestionKind, sku: str, location: str) -> str:
    """The name of the open suggestion of ``kind`` for ``sku`` at ``location``."""
    return f"{kind}:{sku}@{location}"


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: SuggestionKind
    sku: str
    location: str
    """Where the stock is to go."""
    quantity: float
    source_location: str | None = None
    """Where a transfer takes it from."""
    lead_time_days: int | None = None
    """The supplier's lead time, for a purchase or a last-time buy."""
    expected_arrival: date | None = None
    """When a purchase or last-time buy placed today would arrive."""
    order_by: date | None = None
    """The last day a last-time buy can be ordered (the item's end of life)."""

    @property
    def key(self) -> str:
        return suggestion_key(self.kind, self.sku, self.location)
