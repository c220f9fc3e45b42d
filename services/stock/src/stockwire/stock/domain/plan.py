"""What a batch of commands may read or change, so the repository can load (and lock)
exactly that, in a few set-based queries.

Planning runs in two steps because some of what a command touches is only known from
rows: :func:`named` lists what the commands name outright (SKUs, locations, serials,
documents); once those rows are loaded, :func:`scope` works out the balances: exact keys
where the command says which lot or serial, whole SKU x location pairs where the book
will choose (lots drawn in order, a count that covers everything at a location). A
transfer whose serials stock picks needs a third step: once its origin's level is locked,
the serials on that shelf are read, and :func:`shelf_keys` names their balances.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.stock.domain.commands import (
    Adjust,
    CancelCount,
    CancelTransfer,
    CloseCount,
    Command,
    CompleteJob,
    InstallPart,
    IssueParts,
    Line,
    OpenCount,
    ReceiveGoods,
    ReceiveTransfer,
    RecordCount,
    ReleaseReservation,
    Reserve,
    ReturnPart,
    ShipTransfer,
    SwapDevice,
)
from stockwire.stock.domain.model import (
    NOT_TRACKED,
    BalanceKey,
    CountLineKey,
    CountStatus,
    Pair,
    StockState,
    quarantine_for,
)


@dataclass
class Named:
    """What the commands name outright."""

    skus: set[str] = field(default_factory=set)
    locations: set[str] = field(default_factory=set)
    serials: set[str] = field(default_factory=set)
    transfers: set[str] = field(default_factory=set)
    counts: set[str] = field(default_factory=set)
    reservations: set[str] = field(default_factory=set)
    reservation_jobs: set[str] = field(default_factory=set)
    """Jobs whose open reservations an issue may fulfil or a completion release."""
    custody_jobs: set[str] = field(default_factory=set)
    unnamed_skus: set[str] = field(default_factory=set)
    """Serials of lines that name no SKU (scans): their records say which SKU to plan."""

    def line(self, line: Line) -> None:
        if line.sku is not None:
            self.skus.add(line.sku)
        else:
            self.unnamed_skus.update(line.serials)
        self.serials.update(line.serials)


def named(cmds: Iterable[Command]) -> Named:
    found = Named()
    for cmd in cmds:
        match cmd:
            case ReceiveGoods():
                found.locations.add(cmd.location)
                for receipt in cmd.lines:
                    found.line(Line(receipt.sku, receipt.received, receipt.serials))
            case IssueParts():
                found.locations.add(cmd.from_location)
                for line in cmd.lines:
                    found.line(line)
                if cmd.job_id is not None:
                    found.reservation_jobs.add(cmd.job_id)
                    found.custody_jobs.add(cmd.job_id)
            case InstallPart():
                found.locations.add(cmd.from_location)
                found.line(cmd.line)
                if cmd.job_id is not None:
                    found.custody_jobs.add(cmd.job_id)
            case ReturnPart():
                found.locations.add(cmd.to_location)
                found.line(cmd.line)
                if cmd.job_id is not None:
                    found.custody_jobs.add(cmd.job_id)
            case SwapDevice():
                found.locations.add(cmd.from_location)
                found.line(cmd.installed)
                found.line(cmd.removed)
                if cmd.job_id is not None:
                    found.custody_jobs.add(cmd.job_id)
            case ShipTransfer():
                found.transfers.add(cmd.transfer_id)
                found.skus.add(cmd.sku)
                found.locations.update((cmd.from_location, cmd.to_location))
                found.serials.update(cmd.serials)
            case ReceiveTransfer() | CancelTransfer():
                found.transfers.add(cmd.transfer_id)
            case Adjust():
                found.skus.add(cmd.sku)
                found.locations.add(cmd.location)
                if cmd.serial is not None:
                    found.serials.add(cmd.serial)
            case OpenCount():
                found.counts.add(cmd.count_id)
                found.locations.add(cmd.location)
                found.skus.update(cmd.skus or ())
            case RecordCount():
                found.counts.add(cmd.count_id)
                found.line(Line(cmd.sku, cmd.quantity, (cmd.serial,) if cmd.serial else ()))
            case CloseCount() | CancelCount():
                found.counts.add(cmd.count_id)
            case Reserve():
                found.reservations.add(cmd.reservation_id)
                found.skus.add(cmd.sku)
                found.locations.add(cmd.location)
            case ReleaseReservation():
                found.reservations.add(cmd.reservation_id)
            case CompleteJob():
                found.reservation_jobs.add(cmd.job_id)
    return found


def documents_named(state: StockState, found: Named) -> Named:
    """What the loaded transfers, counts and reservations name in turn."""
    more = Named()
    for transfer_id in found.transfers:
        transfer = state.transfers.get(transfer_id)
        if transfer is not None:
            more.skus.add(transfer.sku)
            more.locations.update((transfer.from_location, transfer.to_location))
            more.serials.update(transfer.serials)
    for count_id in found.counts:
        count = state.counts.get(count_id)
        if count is not None:
            more.locations.add(count.location)
            more.skus.update(count.skus or ())
    for reservation in state.reservations.values():
        more.skus.add(reservation.sku)
        more.locations.add(reservation.location)
    return more


@dataclass
class Scope:
    """The balances a batch may read or change."""

    keys: set[BalanceKey] = field(default_factory=set)
    whole: set[Pair] = field(default_factory=set)
    """Pairs whose every balance row is needed."""
    count_locations: set[str] = field(default_factory=set)
    """Locations a closing count covers: every pair there is needed whole."""
    count_lines: set[CountLineKey] = field(default_factory=set)
    whole_counts: set[str] = field(default_factory=set)
    shelves: set[Pair] = field(default_factory=set)
    """Pairs a transfer picks serials from: every serial in stock there is needed, with
    its balances there and at the transfer's destination (:func:`shelf_keys`)."""

    @property
    def pairs(self) -> set[Pair]:
        return {key.pair for key in self.keys} | self.whole


class _Planner:
    def __init__(self, state: StockState, scope: Scope) -> None:
        self.state = state
        self.scope = scope

    def sku(self, line: Line) -> str | None:
        if line.sku is not None:
            return line.sku
        record = self.state.serials.get(line.serials[0]) if line.serials else None
        return record.sku if record is not None else None

    def keys(
        self, sku: str | None, location: str, line: Line, *, choose_lot: bool, known: bool = True
    ) -> None:
        """The balances ``line`` changes at ``location``; ``choose_lot`` when the book
        picks lots itself if the line names none. A SKU or location the catalog does not
        know plans nothing: the book refuses such a line before it reads any balance (a
        transfer's receipt or cancellation, whose locations were checked when it shipped,
        passes ``known=False``)."""
        item = self.state.items.get(sku) if sku is not None else None
        if item is None or sku is None or (known and location not in self.state.locations):
            return
        reserved_key = BalanceKey(sku, location, NOT_TRACKED, NOT_TRACKED)
        if item.serialized:
            for serial in line.serials:
                self.scope.keys.add(BalanceKey(sku, location, NOT_TRACKED, serial))
            self.scope.keys.add(reserved_key)
        elif item.by_lot and line.lot is None and choose_lot:
            self.scope.whole.add(Pair(sku, location))
        else:
            lot = (line.lot or NOT_TRACKED) if item.by_lot else NOT_TRACKED
            self.scope.keys.add(BalanceKey(sku, location, lot, NOT_TRACKED))
            self.scope.keys.add(reserved_key)

    def returned(
        self, line: Line, to_location: str, condition: ReturnCondition, job_id: str | None
    ) -> None:
        destination = (
            to_location
            if condition == ReturnCondition.GOOD
            else quarantine_for(self.state, to_location)
        )
        if destination is not None:
            self.keys(self.sku(line), destination, line, choose_lot=job_id is not None)

    def plan(self, cmd: Command) -> None:
        match cmd:
            case ReceiveGoods():
                for receipt in cmd.lines:
                    line = Line(receipt.sku, receipt.received, receipt.serials, receipt.lot)
                    self.keys(self.sku(line), cmd.location, line, choose_lot=False)
            case IssueParts():
                for line in cmd.lines:
                    self.keys(self.sku(line), cmd.from_location, line, choose_lot=True)
            case InstallPart():
                self.keys(self.sku(cmd.line), cmd.from_location, cmd.line, choose_lot=True)
            case ReturnPart():
                self.returned(cmd.line, cmd.to_location, cmd.condition, cmd.job_id)
            case SwapDevice():
                self.keys(
                    self.sku(cmd.installed), cmd.from_location, cmd.installed, choose_lot=True
                )
                self.returned(cmd.removed, cmd.from_location, cmd.removed_condition, cmd.job_id)
            case ShipTransfer():
                line = Line(cmd.sku, cmd.quantity, cmd.serials, cmd.lot)
                self.keys(cmd.sku, cmd.from_location, line, choose_lot=True)
                self.keys(cmd.sku, cmd.to_location, line, choose_lot=True)
                if _picks_serials(cmd, self.state):
                    self.scope.shelves.add(Pair(cmd.sku, cmd.from_location))
            case ReceiveTransfer() | CancelTransfer():
                transfer = self.state.transfers.get(cmd.transfer_id)
                if transfer is not None:
                    line = Line(
                        transfer.sku,
                        transfer.quantity_shipped,
                        transfer.serials,
                        transfer.lot or None,
                    )
                    for where in (transfer.from_location, transfer.to_location):
                        self.keys(transfer.sku, where, line, choose_lot=False, known=False)
            case Adjust():
                line = Line(cmd.sku, abs(cmd.delta), (cmd.serial,) if cmd.serial else (), cmd.lot)
                self.keys(cmd.sku, cmd.location, line, choose_lot=cmd.delta < 0)
            case RecordCount():
                self.count_line(cmd)
            case CloseCount():
                count = self.state.counts.get(cmd.count_id)
                if count is not None and count.status == CountStatus.OPEN:
                    self.scope.count_locations.add(count.location)
                    self.scope.whole_counts.add(cmd.count_id)
            case Reserve():
                self.scope.keys.add(BalanceKey(cmd.sku, cmd.location, NOT_TRACKED, NOT_TRACKED))
            case ReleaseReservation():
                reservation = self.state.reservations.get(cmd.reservation_id)
                if reservation is not None:
                    self.scope.keys.add(
                        BalanceKey(reservation.sku, reservation.location, NOT_TRACKED, NOT_TRACKED)
                    )
            case CompleteJob() | OpenCount() | CancelCount():
                pass
        if isinstance(cmd, IssueParts | CompleteJob):
            for reservation in self.state.reservations.values():
                self.scope.keys.add(
                    BalanceKey(reservation.sku, reservation.location, NOT_TRACKED, NOT_TRACKED)
                )

    def count_line(self, cmd: RecordCount) -> None:
        serials = (cmd.serial,) if cmd.serial else ()
        sku = self.sku(Line(cmd.sku, cmd.quantity, serials))
        item = self.state.items.get(sku) if sku is not None else None
        if item is None or sku is None:
            return
        if item.serialized:
            key = CountLineKey(cmd.count_id, sku, NOT_TRACKED, cmd.serial or NOT_TRACKED)
        else:
            lot = (cmd.lot or NOT_TRACKED) if item.by_lot else NOT_TRACKED
            key = CountLineKey(cmd.count_id, sku, lot, NOT_TRACKED)
        self.scope.count_lines.add(key)


def _picks_serials(cmd: ShipTransfer, state: StockState) -> bool:
    """Whether the book will pick ``cmd``'s serials: stock picks, the SKU is tracked by
    serial and both locations are known (else the book refuses it before it picks)."""
    item = state.items.get(cmd.sku)
    return (
        cmd.stock_picks
        and item is not None
        and item.serialized
        and cmd.from_location in state.locations
        and cmd.to_location in state.locations
    )


def shelf_keys(cmds: Iterable[Command], state: StockState) -> set[BalanceKey]:
    """The balances the serials a transfer may pick move: at its origin and at its
    destination, for every serial ``state`` holds on the origin's shelf."""
    keys: set[BalanceKey] = set()
    for cmd in cmds:
        if isinstance(cmd, ShipTransfer) and _picks_serials(cmd, state):
            for serial in state.shelves.get(Pair(cmd.sku, cmd.from_location), {}):
                for where in (cmd.from_location, cmd.to_location):
                    keys.add(BalanceKey(cmd.sku, where, NOT_TRACKED, serial))
    return keys


def scope(cmds: Sequence[Command], state: StockState) -> Scope:
    """The balances and count lines ``cmds`` may touch, given the catalog, serials and
    documents already loaded into ``state``."""
    planned = Scope()
    planner = _Planner(state, planned)
    for cmd in cmds:
        planner.plan(cmd)
    return planned
