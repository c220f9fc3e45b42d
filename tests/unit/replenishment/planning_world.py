"""Catalog facts and positions for the replenishment domain's tests."""

from stockwire.contracts.vocabulary import Category, Criticality, LocationKind, TrackingMode
from stockwire.replenishment.domain.policies import (
    EffectivePolicy,
    ItemFacts,
    LocationFacts,
    PolicySettings,
    resolve_policy,
)
from stockwire.replenishment.domain.positions import LocationStock, Position


def item(
    sku: str = "ONT-G240",
    category: Category = Category.ONT,
    criticality: Criticality = Criticality.MEDIUM,
    tracking_mode: TrackingMode = TrackingMode.SERIAL,
    lead_time_days: int = 30,
) -> ItemFacts:
    return ItemFacts(sku, category, criticality, tracking_mode, lead_time_days)


def place(
    code: str = "WH-NORTH", kind: LocationKind = LocationKind.WAREHOUSE, region: str = "NORTH"
) -> LocationFacts:
    return LocationFacts(code, kind, region)


def van(code: str = "VAN-12", region: str = "NORTH") -> LocationFacts:
    return place(code, LocationKind.TECHNICIAN_VAN, region)


def policy(
    of: ItemFacts | None = None,
    at: LocationFacts | None = None,
    override: PolicySettings | None = None,
) -> EffectivePolicy:
    return resolve_policy(of or item(), at or place(), override)


def position(available: float, in_transit_in: float = 0, on_order: float = 0) -> Position:
    """A position with nothing reserved: on hand is what is available."""
    return Position(
        on_hand=available,
        reserved=0,
        available=available,
        in_transit_in=in_transit_in,
        on_order=on_order,
    )


def stock_at(
    code: str,
    available: float,
    max_level: float,
    reorder_point: float = 0,
    kind: LocationKind = LocationKind.WAREHOUSE,
    in_transit_in: float = 0,
) -> LocationStock:
    return LocationStock(
        location=code,
        kind=kind,
        position=position(available, in_transit_in),
        reorder_point=reorder_point,
        max_level=max_level,
    )
