"""Where a SKU stands at a location: its stock position, and how it compares with the
location's levels (short of its reorder point, or holding more than its max).

The position that triggers a reorder is available + inbound: what can be used now plus
what is on its way (transfers in transit to the location and accepted purchases not yet
received). Reserved stock is promised to jobs and counts for nothing.

Excess is what a location could give away and still hold its max: available + inbound
above the max, but never more than is available now (only stock on the shelf can ship)."""

from dataclasses import dataclass

from stockwire.contracts.vocabulary import LocationKind
from stockwire.replenishment.domain.quantities import round_down


@dataclass(frozen=True, slots=True)
class Position:
    """One SKU at one location (stock's level, plus the purchases replenishment knows
    are on order)."""

    on_hand: float
    reserved: float
    available: float
    in_transit_in: float
    on_order: float = 0.0

    @property
    def inbound(self) -> float:
        """Transfers on their way in and purchases on order."""
        return self.in_transit_in + self.on_order

    @property
    def inventory_position(self) -> float:
        """Available + inbound: what the reorder point is compared with."""
        return self.available + self.inbound


@dataclass(frozen=True, slots=True)
class LocationStock:
    """A location's position in a SKU beside its levels: a candidate source of a
    transfer, and one side of a regional imbalance."""

    location: str
    kind: LocationKind
    position: Position
    reorder_point: float
    max_level: float
    """Its max, or its order-up-to level for a reorder-point policy."""

    @property
    def short(self) -> bool:
        """At or below its reorder point and below its max, so it needs stock (a location
        planned at 0 that holds 0 needs nothing)."""
        stock = self.position.inventory_position
        return stock <= self.reorder_point and stock < self.max_level

    def excess(self, discrete: bool) -> float:
        """What it holds above its max and could ship now (whole units rounded down);
        0 when nothing."""
        above = self.position.inventory_position - self.max_level
        return max(0.0, round_down(min(self.position.available, above), discrete))
