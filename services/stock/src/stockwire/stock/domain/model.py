"""The state stock's rules work on: balances and levels, serials, job custody, transfers,
reservations and counts, plus what stock knows of the catalog.

A :class:`StockState` is the working set of one transaction: the repository loads (and
locks) exactly the rows a batch of commands can touch, the book applies the commands to
it in memory, and the repository writes back what changed.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from stockwire.contracts.vocabulary import LocationKind, TrackingMode

ZERO = Decimal(0)
ONE = Decimal(1)
NOT_TRACKED = ""
"""``lot`` and ``serial`` of a balance that does not track them, so they can be part of keys."""


class BalanceKey(NamedTuple):
    sku: str
    location: str
    lot: str
    serial: str

    @property
    def pair(self) -> "Pair":
        return Pair(self.sku, self.location)


class Pair(NamedTuple):
    """One SKU at one location: what a stock level (and its lock) is about."""

    sku: str
    location: str


@dataclass(frozen=True, slots=True)
class Amounts:
    """The four figures of a balance, or the change a leg makes to them."""

    on_hand: Decimal = ZERO
    reserved: Decimal = ZERO
    in_transit_in: Decimal = ZERO
    in_transit_out: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        """What can be promised: on hand less reserved (stock in transit is not here yet)."""
        return self.on_hand - self.reserved

    def plus(self, other: "Amounts") -> "Amounts":
        return Amounts(
            self.on_hand + other.on_hand,
            self.reserved + other.reserved,
            self.in_transit_in + other.in_transit_in,
            self.in_transit_out + other.in_transit_out,
        )

    def is_zero(self) -> bool:
        return not (self.on_hand or self.reserved or self.in_transit_in or self.in_transit_out)


NOTHING = Amounts()


@dataclass(frozen=True, slots=True)
class ItemInfo:
    """What stock's rules need to know about an equipment model."""

    sku: str
    tracking_mode: TrackingMode
    active: bool
    category: str | None = None
    """For alerts only; null in copy rows kept before the catalog published it."""

    @property
    def serialized(self) -> bool:
        return self.tracking_mode == TrackingMode.SERIAL

    @property
    def by_lot(self) -> bool:
        """Lot- and length-tracked items (a fibre spool is a lot) are kept per lot."""
        return self.tracking_mode in (TrackingMode.LOT, TrackingMode.LENGTH)


@dataclass(frozen=True, slots=True)
class LocationInfo:
    code: str
    kind: str
    parent_code: str | None
    active: bool
    region: str | None = None
    """For alerts only."""


class SerialState(StrEnum):
    IN_STOCK = "in_stock"
    IN_TRANSIT = "in_transit"
    ISSUED = "issued"
    """In a job's custody (or picked without a job): left the shelf, not installed yet."""
    INSTALLED = "installed"
    WRITTEN_OFF = "written_off"
    """Lost to a count, an adjustment or a transfer shortage."""


SERIAL_HELD = frozenset({SerialState.IN_STOCK, SerialState.IN_TRANSIT, SerialState.ISSUED})
"""States in which a serial is somewhere in our hands: it cannot also arrive elsewhere."""


@dataclass(frozen=True, slots=True)
class SerialRecord:
    serial: str
    sku: str
    location: str
    state: SerialState
    lot: str = NOT_TRACKED
    job_id: str | None = None
    last_movement_id: object = None
    conflict: Pair | None = None
    """Where the latest ``serial_conflict`` alert about this serial was raised (its SKU and
    location, the alert's key), until a movement of the serial is applied: then the
    conflict is resolved there, so the resolution follows the alert on its partition."""

    def describe(self) -> str:
        if self.state == SerialState.ISSUED:
            holder = f"job {self.job_id!r}" if self.job_id else "a pick without a job"
            return f"issued to {holder} from {self.location!r}"
        return f"{self.state.value.replace('_', ' ')} at {self.location!r}"


class JobPartKey(NamedTuple):
    job_id: str
    sku: str
    lot: str
    serial: str


@dataclass(frozen=True, slots=True)
class JobPart:
    """Parts in a job's custody: issued to it, not yet installed or returned."""

    quantity: Decimal
    from_location: str


class ReservationStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Reservation:
    reservation_id: str
    job_id: str
    sku: str
    location: str
    quantity: Decimal
    fulfilled: Decimal
    status: ReservationStatus
    created_at: datetime

    @property
    def pair(self) -> Pair:
        return Pair(self.sku, self.location)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.fulfilled


class TransferStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"
    """Called off in transit: what was shipped went back on hand at the origin."""


@dataclass(frozen=True, slots=True)
class Transfer:
    transfer_id: str
    sku: str
    from_location: str
    to_location: str
    lot: str
    serials: tuple[str, ...]
    quantity_shipped: Decimal
    quantity_received: Decimal | None
    status: TransferStatus
    shipped_at: datetime
    received_at: datetime | None = None


class CountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    """Abandoned: nothing was compared or adjusted."""


@dataclass(frozen=True, slots=True)
class Count:
    count_id: str
    location: str
    blind: bool
    status: CountStatus
    opened_at: datetime
    skus: tuple[str, ...] | None = None
    """The SKUs the count covers; None for everything at the location."""
    closed_at: datetime | None = None
    """When it was closed, or cancelled."""
    items_counted: int | None = None
    items_matching: int | None = None
    accuracy: Decimal | None = None

    def covers(self, sku: str) -> bool:
        return self.skus is None or sku in self.skus


class CountLineKey(NamedTuple):
    count_id: str
    sku: str
    lot: str
    serial: str


@dataclass(frozen=True, slots=True)
class CountLine:
    counted: Decimal
    expected: Decimal | None = None


@dataclass(frozen=True)
class Policy:
    """The rules an operator configures."""

    allow_negative_kinds: frozenset[str] = frozenset()
    count_variance_threshold: Decimal = Decimal("0.05")


class NotLoaded(LookupError):
    """The book asked for a row the repository did not load: a planning bug, never data."""


@dataclass(frozen=True)
class Loaded:
    """What the repository loaded: reading outside it would take a missing row for zero."""

    keys: frozenset[BalanceKey]
    whole: frozenset[Pair]
    lines: frozenset[CountLineKey] = frozenset()
    whole_counts: frozenset[str] = frozenset()
    shelves: frozenset[Pair] = frozenset()

    def check_key(self, key: BalanceKey) -> None:
        if key not in self.keys and key.pair not in self.whole:
            raise NotLoaded(f"balance {key} was not loaded")

    def check_pair(self, pair: Pair, *, whole: bool) -> None:
        if pair in self.whole:
            return
        if whole or not any(key.pair == pair for key in self.keys):
            raise NotLoaded(f"{'every balance of ' if whole else 'level '}{pair} was not loaded")

    def check_line(self, key: CountLineKey) -> None:
        if key not in self.lines and key.count_id not in self.whole_counts:
            raise NotLoaded(f"count line {key} was not loaded")

    def check_shelf(self, pair: Pair) -> None:
        if pair not in self.shelves:
            raise NotLoaded(f"the serials on the shelf at {pair} were not loaded")


@dataclass
class StockState:
    """The rows one transaction works on. A balance missing from ``balances`` is zero: the
    repository loads every existing row of the keys (or whole SKU x location pairs) a batch
    may touch, under the pair's lock."""

    items: dict[str, ItemInfo] = field(default_factory=dict)
    locations: dict[str, LocationInfo] = field(default_factory=dict)
    balances: dict[BalanceKey, Amounts] = field(default_factory=dict)
    levels: dict[Pair, Amounts] = field(default_factory=dict)
    serials: dict[str, SerialRecord] = field(default_factory=dict)
    job_parts: dict[JobPartKey, JobPart] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    counts: dict[str, Count] = field(default_factory=dict)
    count_lines: dict[CountLineKey, CountLine] = field(default_factory=dict)
    shelves: dict[Pair, dict[str, datetime]] = field(default_factory=dict)
    """For each pair a transfer picks serials from: the serials in stock there when the
    transaction began, with when each arrived (the time of its last movement)."""
    moved: set[Pair] = field(default_factory=set)
    """Pairs a movement has changed before (or in) this transaction. Only these can have
    gone out of stock, so only these can come back into it (a first receipt resolves no
    stockout that was never raised)."""
    loaded: Loaded | None = None
    """Set by the repository, so a planning bug fails loudly; unset in hand-built states."""
    _by_pair: dict[Pair, set[BalanceKey]] | None = field(default=None, repr=False)
    _children: dict[str, list[str]] | None = field(default=None, repr=False)
    _lines_by_count: dict[str, set[CountLineKey]] | None = field(default=None, repr=False)
    _custody_by_job: dict[str, set[JobPartKey]] | None = field(default=None, repr=False)
    _reservations_by_job: dict[str, set[str]] | None = field(default=None, repr=False)

    def balance(self, key: BalanceKey) -> Amounts:
        if self.loaded is not None:
            self.loaded.check_key(key)
        return self.balances.get(key, NOTHING)

    def level(self, pair: Pair) -> Amounts:
        if self.loaded is not None and pair not in self.levels:
            self.loaded.check_pair(pair, whole=False)
        return self.levels.get(pair, NOTHING)

    def keys_at(self, pair: Pair) -> set[BalanceKey]:
        """Every balance key of ``pair`` that has a row (or got one in this transaction)."""
        if self.loaded is not None:
            self.loaded.check_pair(pair, whole=True)
        if self._by_pair is None:
            self._by_pair = defaultdict(set)
            for key in self.balances:
                self._by_pair[key.pair].add(key)
        return self._by_pair.get(pair, set())

    def add_balance(self, key: BalanceKey, delta: Amounts) -> None:
        if self.loaded is not None:
            self.loaded.check_key(key)
        before = self.balances.get(key)
        self.balances[key] = delta if before is None else before.plus(delta)
        if before is None and self._by_pair is not None:
            self._by_pair[key.pair].add(key)
        pair = key.pair
        self.levels[pair] = self.level(pair).plus(delta)

    def shelf(self, pair: Pair) -> dict[str, datetime]:
        """The serials in stock at ``pair`` when the transaction began, with when each
        arrived; for a pair a transfer picks from (see :attr:`shelves`)."""
        if self.loaded is not None:
            self.loaded.check_shelf(pair)
        return self.shelves.get(pair, {})

    def custody_of(self, job_id: str) -> set[JobPartKey]:
        """The keys of what ``job_id`` holds (or held earlier in this transaction)."""
        if self._custody_by_job is None:
            self._custody_by_job = defaultdict(set)
            for key in self.job_parts:
                self._custody_by_job[key.job_id].add(key)
        return self._custody_by_job.get(job_id, set())

    def put_job_part(self, key: JobPartKey, part: JobPart) -> None:
        if key not in self.job_parts and self._custody_by_job is not None:
            self._custody_by_job[key.job_id].add(key)
        self.job_parts[key] = part

    def reservations_of(self, job_id: str) -> set[str]:
        """The ids of ``job_id``'s reservations (loaded, or made in this transaction)."""
        if self._reservations_by_job is None:
            self._reservations_by_job = defaultdict(set)
            for reservation in self.reservations.values():
                self._reservations_by_job[reservation.job_id].add(reservation.reservation_id)
        return self._reservations_by_job.get(job_id, set())

    def put_reservation(self, reservation: Reservation) -> None:
        if self._reservations_by_job is not None:
            self._reservations_by_job[reservation.job_id].add(reservation.reservation_id)
        self.reservations[reservation.reservation_id] = reservation

    def children(self, code: str) -> list[str]:
        if self._children is None:
            self._children = defaultdict(list)
            for location in self.locations.values():
                if location.parent_code is not None:
                    self._children[location.parent_code].append(location.code)
        return self._children.get(code, [])

    def count_line(self, key: CountLineKey) -> CountLine | None:
        if self.loaded is not None:
            self.loaded.check_line(key)
        return self.count_lines.get(key)

    def lines_of(self, count_id: str) -> set[CountLineKey]:
        if self.loaded is not None and count_id not in self.loaded.whole_counts:
            raise NotLoaded(f"the lines of count {count_id!r} were not loaded")
        if self._lines_by_count is None:
            self._lines_by_count = defaultdict(set)
            for key in self.count_lines:
                self._lines_by_count[key.count_id].add(key)
        return self._lines_by_count.get(count_id, set())

    def put_line(self, key: CountLineKey, line: CountLine) -> None:
        if key not in self.count_lines and self._lines_by_count is not None:
            self._lines_by_count[key.count_id].add(key)
        self.count_lines[key] = line


def quarantine_for(state: StockState, code: str) -> str | None:
    """The nearest active quarantine location for stock returned to ``code``: ``code``
    itself if it is one, else one among its children, else among its parent's children,
    and so on up the tree. Of several at the same distance, the lowest code."""
    location = state.locations.get(code)
    if location is not None and location.kind == LocationKind.QUARANTINE and location.active:
        return code
    seen: set[str] = set()
    node: str | None = code
    while node is not None and node not in seen:
        seen.add(node)
        found = sorted(
            child
            for child in state.children(node)
            if state.locations[child].kind == LocationKind.QUARANTINE
            and state.locations[child].active
        )
        if found:
            return found[0]
        parent = state.locations.get(node)
        node = parent.parent_code if parent is not None else None
    return None
