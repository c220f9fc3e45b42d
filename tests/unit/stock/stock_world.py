"""A working set built by hand, so the book's rules run without a database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from stockwire.contracts.vocabulary import LocationKind, TrackingMode
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.commands import Command, Line, Origin
from stockwire.stock.domain.events import Alert, Movement, Outcome, Rejection, Resolution
from stockwire.stock.domain.model import (
    Amounts,
    BalanceKey,
    ItemInfo,
    LocationInfo,
    Pair,
    Policy,
    SerialRecord,
    SerialState,
    StockState,
)

ORIGIN = Origin("tests")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def q(value: object) -> Decimal:
    return Decimal(str(value))


def line(sku: str | None, quantity: object = 1, *serials: str, lot: str | None = None) -> Line:
    return Line(sku, q(quantity), tuple(serials), lot)


class World:
    def __init__(self, policy: Policy | None = None) -> None:
        self.state = StockState()
        self.policy = policy or Policy()
        self.now = T0
        self.book = StockBook(self.state, self.policy, self.now)

    def item(
        self, sku: str, tracking: str = "bulk", active: bool = True, category: str | None = None
    ) -> str:
        self.state.items[sku] = ItemInfo(sku, TrackingMode(tracking), active, category)
        return sku

    def location(
        self,
        code: str,
        kind: str = "warehouse",
        parent: str | None = None,
        active: bool = True,
        region: str | None = None,
    ) -> str:
        self.state.locations[code] = LocationInfo(code, LocationKind(kind), parent, active, region)
        self.state._children = None
        return code

    def stock(
        self,
        sku: str,
        location: str,
        quantity: object,
        lot: str = "",
        serial: str = "",
        arrived: datetime | None = None,
    ) -> None:
        """Put stock on the shelf as if loaded from the database (moved there before; a
        serial ``arrived`` then, by default now)."""
        self.state.add_balance(BalanceKey(sku, location, lot, serial), Amounts(on_hand=q(quantity)))
        self.state.moved.add(Pair(sku, location))
        if serial:
            self.state.serials[serial] = SerialRecord(
                serial, sku, location, SerialState.IN_STOCK, lot
            )
            shelf = self.state.shelves.setdefault(Pair(sku, location), {})
            shelf[serial] = arrived or self.now

    def run(self, *cmds: Command) -> list[Outcome]:
        return [self.book.execute(cmd) for cmd in cmds]

    def one(self, cmd: Command) -> Outcome:
        [outcome] = self.run(cmd)
        return outcome

    def later(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)
        self.book.now = self.now

    def on_hand(self, sku: str, location: str, lot: str = "", serial: str = "") -> Decimal:
        return self.state.balance(BalanceKey(sku, location, lot, serial)).on_hand

    def level(self, sku: str, location: str) -> Amounts:
        return self.state.level(Pair(sku, location))

    def alerts(self) -> list[Alert]:
        return [e for e in self.book.events if isinstance(e, Alert)]

    def resolutions(self) -> list[Resolution]:
        return [e for e in self.book.events if isinstance(e, Resolution)]

    def alert_kinds(self) -> list[str]:
        return [alert.kind.value for alert in self.alerts()]

    def rejections(self) -> list[Rejection]:
        return [e for e in self.book.events if isinstance(e, Rejection)]

    def movements(self) -> list[Movement]:
        return [e for e in self.book.events if isinstance(e, Movement)]
