"""A realistic stock workload for an ISP, as ready-to-publish Kafka records.

The world: 2,000 SKUs (serialized CPE, ONTs, routers, switches, optics and antennas; bulk
mounting kit and consumables; cable and fiber by the meter; lot-tracked batteries) and
300 stock locations in 8 regions: 2 central distribution centres (the hot warehouses),
8 regional warehouses each with a quarantine location under it (where faulty returns go),
82 network sites (points of presence, fiber huts, rooftops) and 200 technician vans, plus
1,000 customer sites that installations go to. Demand is Zipf over SKUs (a few SKUs are
most of the traffic) and skewed over vans and warehouses.

The load is what the stock service consumes from Kafka: FSM job events (parts issued
from a van, a warehouse or a network site's spares; each issued line later installed at
a customer site or returned, in part or whole), van restocks as pick scans at a warehouse
followed by receipt scans at the van (the transfer-like movements), and goods receipts
at warehouses. Every record is an envelope built from the contract models.

Consumers apply different topics, and different partitions of one topic, in no fixed
order relative to each other, so a removal must never depend on an addition made by the
load itself. Every removal therefore draws on *seed* stock, and the seed (goods receipts
that are published and applied before the load) is grown to cover every draw. Within one
job, install and return follow the issue on the same key (the job id), so they stay in
order.

Also runnable on its own to describe a load without any server:
``uv run python bench/stock_load.py [EVENTS]``.
"""

import asyncio
import bisect
import heapq
import itertools
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from stockwire.contracts.base import Event
from stockwire.contracts.catalog import (
    CatalogItemUpserted,
    Category,
    Criticality,
    HandlingClass,
    ItemStatus,
    LocationKind,
    LocationUpserted,
    TrackingMode,
)
from stockwire.contracts.envelope import wrap
from stockwire.contracts.fsm import (
    PartInstalled,
    PartLine,
    PartReturned,
    PartsIssued,
    ReturnCondition,
)
from stockwire.contracts.receipts import GoodsReceived, ReceiptLine
from stockwire.contracts.scans import ScanMethod, ScanPurpose, ScanRecorded
from stockwire.contracts.topics import topic_for

SKUS = 2000
REGIONS = 8
CENTRAL_WAREHOUSES = 2
VANS_PER_REGION = 25
NETWORK_SITES_PER_REGION = 10
CUSTOMER_SITES = 1000
ZIPF_S = 1.1
"""Zipf exponent over SKU rank: the top SKU is ~17% of demand, the top 100 ~60%."""

PLACEHOLDER_TIME = datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
PLACEHOLDER = b"2000-01-01T00:00:00.000001Z"
"""``occurred_at`` as serialized; the publisher replaces it with the send time."""

BY_LOT = (TrackingMode.LOT, TrackingMode.LENGTH)
"""Kept per lot by stock (a fiber spool is a lot)."""

SEED_RECEIPT_MAX_LEGS = 60
"""A seed receipt stops growing at this many balance legs (serials count one each)."""

SEED_RECEIPT_MAX_LINES = 25

MAX_LINE_QUANTITY = 500_000
"""Contracts allow at most 1,000,000 on one line; bigger seeds are split."""


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Item:
    sku: str
    rank: int
    tracking: TrackingMode
    category: Category
    unit: str
    manufacturer: str


@dataclass(frozen=True)
class Place:
    code: str
    kind: LocationKind
    region: str
    parent: str | None


# What each kind of equipment is, how it is tracked and who makes it. The shares are of
# SKUs; which ones are in demand is decided by rank, shuffled across kinds.
KINDS: tuple[tuple[Category, TrackingMode, str, str, float], ...] = (
    (Category.ONT, TrackingMode.SERIAL, "each", "Nokia", 0.10),
    (Category.CPE, TrackingMode.SERIAL, "each", "AVM", 0.12),
    (Category.ROUTER, TrackingMode.SERIAL, "each", "MikroTik", 0.06),
    (Category.SWITCH, TrackingMode.SERIAL, "each", "Juniper", 0.04),
    (Category.OPTIC, TrackingMode.SERIAL, "each", "FS", 0.08),
    (Category.ANTENNA, TrackingMode.SERIAL, "each", "Ubiquiti", 0.04),
    (Category.CABLE, TrackingMode.LENGTH, "m", "Prysmian", 0.06),
    (Category.FIBER_SPOOL, TrackingMode.LENGTH, "m", "Corning", 0.04),
    (Category.POWER, TrackingMode.LOT, "each", "Yuasa", 0.08),
    (Category.MOUNTING, TrackingMode.BULK, "each", "Hilti", 0.18),
    (Category.OTHER, TrackingMode.BULK, "each", "3M", 0.20),
)


@dataclass
class World:
    items: list[Item]
    central: list[Place]
    """The hot warehouses: most restocks and most receipts go through them."""
    regional: dict[str, Place]
    quarantine: dict[str, Place]
    """Under each regional warehouse: where faulty returns in the region end up."""
    vans: dict[str, list[Place]]
    sites: dict[str, list[Place]]
    customers: list[Place]
    regions: list[str]
    sku_weights: list[float] = field(repr=False)

    @property
    def stock_locations(self) -> list[Place]:
        return [
            *self.central,
            *self.regional.values(),
            *self.quarantine.values(),
            *itertools.chain.from_iterable(self.sites.values()),
            *itertools.chain.from_iterable(self.vans.values()),
        ]

    def catalog_payloads(self, now: datetime) -> tuple[list[Event], list[Event]]:
        """Upserts for the catalog read copy: (items, locations)."""
        items: list[Event] = []
        for item in self.items:
            criticality = (
                Criticality.HIGH if item.tracking == TrackingMode.SERIAL else Criticality.LOW
            )
            items.append(
                CatalogItemUpserted(
                    sku=item.sku,
                    name=f"{item.manufacturer} {item.category.value} {item.sku[-5:]}",
                    manufacturer=item.manufacturer,
                    category=item.category,
                    tracking_mode=item.tracking,
                    unit=item.unit,
                    handling_class=HandlingClass.ESD_SENSITIVE
                    if item.tracking == TrackingMode.SERIAL
                    else HandlingClass.NONE,
                    criticality=criticality,
                    unit_cost=Decimal("12.50") + item.rank % 300,
                    currency="EUR",
                    default_lead_time_days=7 + item.rank % 50,
                    status=ItemStatus.ACTIVE,
                    version=1,
                    updated_at=now,
                )
            )
        locations: list[Event] = [
            LocationUpserted(
                code=place.code,
                name=f"{place.kind.value.replace('_', ' ')} {place.code}",
                kind=place.kind,
                region=place.region,
                parent_code=place.parent,
                active=True,
                version=1,
                updated_at=now,
            )
            for place in [*self.stock_locations, *self.customers]
        ]
        return items, locations


def build_world(seed: int) -> World:
    rng = random.Random(seed)
    shares = [kind[4] for kind in KINDS]
    kinds = rng.choices(KINDS, weights=shares, k=SKUS)
    items = [
        Item(
            sku=f"SKU-{rank:05d}",
            rank=rank,
            tracking=tracking,
            category=category,
            unit=unit,
            manufacturer=maker,
        )
        for rank, (category, tracking, unit, maker, _) in enumerate(kinds, start=1)
    ]
    regions = [f"R{n}" for n in range(1, REGIONS + 1)]
    central = [
        Place(f"DC-{n}", LocationKind.WAREHOUSE, regions[(n - 1) * REGIONS // 2], None)
        for n in range(1, CENTRAL_WAREHOUSES + 1)
    ]
    regional = {r: Place(f"WH-{r}", LocationKind.WAREHOUSE, r, None) for r in regions}
    quarantine = {r: Place(f"QUA-{r}", LocationKind.QUARANTINE, r, f"WH-{r}") for r in regions}
    site_kinds = (LocationKind.POINT_OF_PRESENCE, LocationKind.FIBER_HUT, LocationKind.ROOFTOP)
    sites = {
        r: [
            Place(f"{site_kinds[n % 3].value[:3].upper()}-{r}-{n:02d}", site_kinds[n % 3], r, None)
            for n in range(NETWORK_SITES_PER_REGION + (1 if i < 2 else 0))
        ]
        for i, r in enumerate(regions)
    }
    vans = {
        r: [
            Place(f"VAN-{r}-{n:02d}", LocationKind.TECHNICIAN_VAN, r, f"WH-{r}")
            for n in range(1, VANS_PER_REGION + 1)
        ]
        for r in regions
    }
    customers = [
        Place(f"CUST-{n:06d}", LocationKind.CUSTOMER_SITE, regions[n % REGIONS], None)
        for n in range(CUSTOMER_SITES)
    ]
    weights = list(itertools.accumulate(1 / rank**ZIPF_S for rank in range(1, SKUS + 1)))
    world = World(items, central, regional, quarantine, vans, sites, customers, regions, weights)
    count = len(world.stock_locations)
    if count != 300:
        raise AssertionError(f"the world has {count} stock locations, expected 300")
    return world


# --------------------------------------------------------------------------- records


class Leg(NamedTuple):
    """One balance change an event should cause, for the raw ceiling (no Kafka, no rules)."""

    movement: int
    kind: str
    sku: str
    location: str
    lot: str
    serial: str
    on_hand_delta: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class Record:
    """One Kafka record, serialized, with the legs it should produce."""

    topic: str
    key: bytes
    value: bytes
    event_id: uuid.UUID
    event_type: str
    legs: tuple[Leg, ...]


# --------------------------------------------------------------------------- generator


@dataclass
class Seed:
    """Stock one location must hold before the load starts."""

    quantity: Decimal = Decimal(0)
    serials: list[str] = field(default_factory=list)
    lot: str = ""


@dataclass(order=True)
class FollowUp:
    due: int
    seq: int
    job_id: str = field(compare=False)
    technician: str = field(compare=False)
    place: Place = field(compare=False)
    item: Item = field(compare=False)
    quantity: Decimal = field(compare=False)
    serials: tuple[str, ...] = field(compare=False)
    lot: str = field(compare=False)


class LoadGenerator:
    """Generates the load in order; call :meth:`generate` for each phase, then :meth:`seed`."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.seeds: dict[tuple[str, str], Seed] = defaultdict(Seed)
        self.serial_counter = itertools.count(1)
        self.movement_counter = itertools.count(1)
        self.sequence = itertools.count(1)
        self.pending: list[FollowUp] = []
        self.step = 0
        self.stats: Counter[str] = Counter()
        self._buffer: list[Record] = []
        self.by_sku = {item.sku: item for item in world.items}
        self.run_tag = f"{seed:04d}{self.rng.randrange(16**4):04x}"
        """Makes job, PO and serial ids of one run distinct from another's."""

    # ----- public

    def generate(self, count: int) -> list[Record]:
        """The next ``count`` records of the load."""
        out, self._buffer = self._buffer, []
        while len(out) < count:
            self.step += 1
            out.extend(self._due_follow_ups())
            roll = self.rng.random()
            if roll < 0.78:
                out.extend(self._job())
            elif roll < 0.97:
                out.extend(self._restock())
            else:
                out.extend(self._replenishment_receipt())
        self._buffer = out[count:]
        return out[:count]

    def seed(self) -> list[Record]:
        """Goods receipts that put every drawn unit in place (with some slack)."""
        by_place: dict[str, list[tuple[Item, Seed]]] = defaultdict(list)
        for (code, sku), seed in sorted(self.seeds.items()):
            by_place[code].append((self.by_sku[sku], seed))
        records: list[Record] = []
        for code, seeds in by_place.items():
            lines: list[ReceiptLine] = []
            legs: list[Leg] = []
            for item, seed in seeds:
                for line, line_legs in self._seed_lines(code, item, seed):
                    full = len(legs) + len(line_legs) > SEED_RECEIPT_MAX_LEGS
                    full = full or len(lines) >= SEED_RECEIPT_MAX_LINES
                    if lines and (full or any(other.sku == line.sku for other in lines)):
                        records.append(self._seed_receipt(code, lines, legs))
                        lines, legs = [], []
                    lines.append(line)
                    legs.extend(line_legs)
            if lines:
                records.append(self._seed_receipt(code, lines, legs))
        self.rng.shuffle(records)
        return records

    # ----- actions

    def _zipf_item(self) -> Item:
        index = bisect.bisect_left(
            self.world.sku_weights, self.rng.random() * self.world.sku_weights[-1]
        )
        return self.world.items[min(index, SKUS - 1)]

    def _van(self) -> tuple[str, Place]:
        region = self.rng.choices(self.world.regions, weights=range(REGIONS + 4, 4, -1))[0]
        vans = self.world.vans[region]
        # A few busy vans per region, a long tail of quiet ones.
        index = min(int(self.rng.expovariate(1 / 6)), len(vans) - 1)
        return region, vans[index]

    def _source_warehouse(self, region: str) -> Place:
        if self.rng.random() < 0.6:
            return self.world.central[0 if self.rng.random() < 0.7 else 1]
        return self.world.regional[region]

    def _job(self) -> list[Record]:
        region, van = self._van()
        technician = f"TECH-{van.code[4:]}"
        where = self.rng.random()
        if where < 0.85:
            source = van
        elif where < 0.95:
            source = self.world.regional[region]
        else:
            source = self.rng.choice(self.world.sites[region])
        job_id = f"JOB-{self.run_tag}-{next(self.sequence):08d}"
        line_count = self.rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
        chosen: dict[str, Item] = {}
        while len(chosen) < line_count:
            item = self._zipf_item()
            chosen[item.sku] = item
        lines = []
        legs = []
        for item in chosen.values():
            quantity = self._job_quantity(item)
            serials, lot = self._draw(source, item, quantity)
            line = PartLine(
                sku=item.sku, quantity=quantity, serials=tuple(serials), lot=lot or None
            )
            lines.append(line)
            legs.extend(self._legs("issue", item, source.code, -1, quantity, serials, lot))
            heapq.heappush(
                self.pending,
                FollowUp(
                    due=self.step + self.rng.randint(20, 2000),
                    seq=next(self.sequence),
                    job_id=job_id,
                    technician=technician,
                    place=source,
                    item=item,
                    quantity=quantity,
                    serials=tuple(serials),
                    lot=lot,
                ),
            )
        payload = PartsIssued(
            job_id=job_id, technician_id=technician, from_location=source.code, lines=tuple(lines)
        )
        self.stats["parts_issued"] += 1
        return [self._record(payload, legs)]

    def _job_quantity(self, item: Item) -> Decimal:
        if item.tracking == TrackingMode.SERIAL:
            return Decimal(self.rng.choices((1, 2), weights=(85, 15))[0])
        if item.tracking == TrackingMode.LENGTH:
            return Decimal(self.rng.randint(100, 3000)) / 10
        return Decimal(self.rng.choices((1, 2, 4, 6, 10, 20), weights=(30, 25, 20, 10, 10, 5))[0])

    def _due_follow_ups(self) -> list[Record]:
        records = []
        while self.pending and self.pending[0].due <= self.step:
            records.extend(self._follow_up(heapq.heappop(self.pending)))
        return records

    def _follow_up(self, part: FollowUp) -> list[Record]:
        """Install what was issued, return what was not used (to the van, or faulty stock
        to the regional warehouse)."""
        roll = self.rng.random()
        installed: tuple[str, ...]
        returned: tuple[str, ...]
        if part.item.tracking == TrackingMode.SERIAL:
            if roll < 0.82:
                installed, returned = part.serials, ()
            elif roll < 0.92 and len(part.serials) > 1:
                installed, returned = part.serials[:1], part.serials[1:]
            else:
                installed, returned = (), part.serials
            installed_qty, returned_qty = Decimal(len(installed)), Decimal(len(returned))
        else:
            installed, returned = (), ()
            if roll < 0.70:
                installed_qty = part.quantity
            elif roll < 0.90:
                installed_qty = (part.quantity * Decimal(self.rng.randint(3, 9)) / 10).quantize(
                    Decimal("0.1") if part.item.tracking == TrackingMode.LENGTH else Decimal(1)
                )
            else:
                installed_qty = Decimal(0)
            returned_qty = part.quantity - installed_qty
        records = []
        if installed_qty > 0:
            customer = self.rng.choice(self.world.customers)
            line = PartLine(
                sku=part.item.sku,
                quantity=installed_qty,
                serials=tuple(installed),
                lot=part.lot or None,
            )
            payload: Event = PartInstalled(
                job_id=part.job_id,
                technician_id=part.technician,
                from_location=part.place.code,
                customer_site=customer.code,
                line=line,
            )
            legs = self._legs(
                "install", part.item, part.place.code, 0, installed_qty, installed, part.lot
            )
            self.stats["part_installed"] += 1
            records.append(self._record(payload, legs))
        if returned_qty > 0:
            faulty = self.rng.random() < 0.25
            to = self.world.regional[part.place.region] if faulty else part.place
            line = PartLine(
                sku=part.item.sku,
                quantity=returned_qty,
                serials=tuple(returned),
                lot=part.lot or None,
            )
            payload = PartReturned(
                job_id=part.job_id,
                technician_id=part.technician,
                to_location=to.code,
                line=line,
                condition=ReturnCondition.FAULTY if faulty else ReturnCondition.GOOD,
            )
            # Faulty stock ends up in the quarantine under the warehouse it was returned to.
            lands = self.world.quarantine[to.region] if faulty else to
            legs = self._legs("return", part.item, lands.code, 1, returned_qty, returned, part.lot)
            self.stats["part_returned"] += 1
            records.append(self._record(payload, legs))
        return records

    def _restock(self) -> list[Record]:
        """A van is topped up from a warehouse: a pick scan there, a receipt scan in the van.

        Only non-serialized items move this way: a serial's pick and receipt are keyed by
        different locations, so a consumer could see the van's receipt before the
        warehouse's pick and find the serial in two places.
        """
        region, van = self._van()
        warehouse = self._source_warehouse(region)
        records = []
        scanner = f"SCN-{warehouse.code}-{self.rng.randint(1, 6)}"
        for _ in range(self.rng.choices((1, 2, 3), weights=(50, 30, 20))[0]):
            item = self._zipf_item()
            while item.tracking == TrackingMode.SERIAL:
                item = self._zipf_item()
            quantity = self._job_quantity(item) * self.rng.choice((2, 5, 10))
            _, lot = self._draw(warehouse, item, quantity)
            for purpose, place, sign in (
                (ScanPurpose.PICK, warehouse, -1),
                (ScanPurpose.RECEIPT, van, 1),
            ):
                payload = ScanRecorded(
                    scanner_id=scanner if purpose == ScanPurpose.PICK else f"APP-{van.code}",
                    method=ScanMethod.BARCODE,
                    purpose=purpose,
                    location=place.code,
                    sku=item.sku,
                    lot=lot or None,
                    quantity=quantity,
                )
                kind = "pick" if purpose == ScanPurpose.PICK else "receipt"
                legs = self._legs(kind, item, place.code, sign, quantity, (), lot)
                self.stats[f"scan_{purpose.value}"] += 1
                records.append(self._record(payload, legs))
        return records

    def _replenishment_receipt(self) -> list[Record]:
        """A purchase order delivered to a warehouse: new stock, never drawn by the load."""
        warehouse = (
            self.world.central[0 if self.rng.random() < 0.65 else 1]
            if self.rng.random() < 0.8
            else self.world.regional[self.rng.choice(self.world.regions)]
        )
        po = f"PO-{self.run_tag}-{next(self.sequence):07d}"
        lines = []
        legs: list[Leg] = []
        chosen = {self._zipf_item().sku for _ in range(self.rng.randint(1, 5))}
        for sku in sorted(chosen):
            item = self.by_sku[sku]
            ordered = self._job_quantity(item) * self.rng.choice((4, 6, 10))
            received = ordered if self.rng.random() < 0.9 else max(Decimal(1), ordered - 1)
            if item.tracking == TrackingMode.SERIAL:
                serials = tuple(self._new_serial(item) for _ in range(int(received)))
                lot = ""
            else:
                serials = ()
                lot = (
                    f"LOT-{self.run_tag}-{next(self.sequence):07d}"
                    if item.tracking in BY_LOT
                    else ""
                )
            lines.append(
                ReceiptLine(
                    sku=sku,
                    ordered_quantity=ordered,
                    received_quantity=received,
                    serials=serials,
                    lot=lot or None,
                )
            )
            legs.extend(self._legs("receipt", item, warehouse.code, 1, received, serials, lot))
        payload = GoodsReceived(
            receipt_id=f"GR-{po[3:]}",
            po_number=po,
            supplier=self.rng.choice(("Nokia Networks", "AVM GmbH", "Prysmian", "FS.com", "Hilti")),
            location=warehouse.code,
            lines=tuple(lines),
        )
        self.stats["goods_received"] += 1
        return [self._record(payload, legs)]

    # ----- seed stock

    def _draw(self, place: Place, item: Item, quantity: Decimal) -> tuple[list[str], str]:
        """Take ``quantity`` of ``item`` at ``place`` from seed stock: (serials, lot)."""
        seed = self.seeds[(place.code, item.sku)]
        if item.tracking == TrackingMode.SERIAL:
            serials = [self._new_serial(item) for _ in range(int(quantity))]
            seed.serials.extend(serials)
            return serials, ""
        seed.quantity += quantity
        if item.tracking in BY_LOT and not seed.lot:
            seed.lot = f"LOT-{self.run_tag}-S{next(self.sequence):06d}"
        return [], seed.lot

    def _new_serial(self, item: Item) -> str:
        return f"{item.manufacturer[:3].upper()}{self.run_tag}{next(self.serial_counter):09d}"

    def _seed_lines(self, code: str, item: Item, seed: Seed) -> list[tuple[ReceiptLine, list[Leg]]]:
        """Receipt lines for one seed, split where one line would be too big."""
        if item.tracking == TrackingMode.SERIAL:
            spare = [self._new_serial(item) for _ in range(len(seed.serials) // 10)]
            every = [*seed.serials, *spare]
            chunks = [
                (Decimal(len(part)), tuple(part))
                for part in (
                    every[first : first + SEED_RECEIPT_MAX_LEGS]
                    for first in range(0, len(every), SEED_RECEIPT_MAX_LEGS)
                )
            ]
        else:
            slack = seed.quantity / 5 + (10 if item.tracking != TrackingMode.LENGTH else 100)
            total = int(seed.quantity + slack)
            chunks = [
                (Decimal(min(MAX_LINE_QUANTITY, total - first)), ())
                for first in range(0, total, MAX_LINE_QUANTITY)
            ]
        return [
            (
                ReceiptLine(
                    sku=item.sku,
                    ordered_quantity=quantity,
                    received_quantity=quantity,
                    serials=serials,
                    lot=seed.lot or None,
                ),
                self._legs("receipt", item, code, 1, quantity, serials, seed.lot),
            )
            for quantity, serials in chunks
        ]

    def _seed_receipt(self, code: str, lines: list[ReceiptLine], legs: list[Leg]) -> Record:
        po = f"PO-{self.run_tag}-SEED{next(self.sequence):06d}"
        payload = GoodsReceived(
            receipt_id=f"GR-{po[3:]}",
            po_number=po,
            supplier="Initial stock",
            location=code,
            lines=tuple(lines),
        )
        return self._record(payload, legs)

    # ----- plumbing

    def _legs(
        self,
        kind: str,
        item: Item,
        location: str,
        sign: int,
        quantity: Decimal,
        serials: Sequence[str],
        lot: str,
    ) -> list[Leg]:
        """One movement per serial, or one for the line; each changes one balance by
        ``sign`` times its quantity (an install changes none: the job already holds it)."""
        if serials:
            one = Decimal(1)
            return [
                Leg(
                    next(self.movement_counter),
                    kind,
                    item.sku,
                    location,
                    lot,
                    serial,
                    sign * one,
                    one,
                )
                for serial in serials
            ]
        movement = next(self.movement_counter)
        return [Leg(movement, kind, item.sku, location, lot, "", sign * quantity, quantity)]

    def _record(self, payload: Event, legs: list[Leg]) -> Record:
        spec = topic_for(type(payload))
        envelope = wrap(payload, producer="bench-load", occurred_at=PLACEHOLDER_TIME)
        return Record(
            topic=spec.name,
            key=spec.key_for(payload).encode(),
            value=envelope.model_dump_json().encode(),
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            legs=tuple(legs),
        )


# --------------------------------------------------------------------------- publishing


class Publisher:
    """Publishes records with acks=all, one record batch per partition at a time.

    Building batches ourselves costs a fraction of one ``send()`` per record; partitions
    are the ones Kafka's default partitioner picks for the key, as any client would, so
    a key's records share a partition and keep their order.
    """

    def __init__(self, bootstrap_servers: list[str], *, idempotence: bool) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id="stockwire-bench-load",
            acks="all",
            enable_idempotence=idempotence,
            linger_ms=10,
            max_batch_size=MAX_BATCH_BYTES,
            request_timeout_ms=60_000,
        )
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, records: Sequence[Record], when: datetime | None = None) -> list[Any]:
        """Hand ``records`` to the producer, stamped with ``when`` (default: now);
        returns the futures that resolve once the broker acknowledged them."""
        when = when or datetime.now(UTC)
        stamped = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()
        by_partition: dict[tuple[str, int], list[Record]] = {}
        for record in records:
            partitions = self._partitions.get(record.topic)
            if partitions is None:
                partitions = sorted(await self._producer.partitions_for(record.topic))
                self._partitions[record.topic] = partitions
            partition = self._partitioner(record.key, partitions, partitions)
            by_partition.setdefault((record.topic, partition), []).append(record)
        futures = []
        for (topic, partition), rows in by_partition.items():
            batch = self._producer.create_batch()
            for record in rows:
                value = record.value.replace(PLACEHOLDER, stamped, 1)
                if (
                    batch.append(key=record.key, value=value, timestamp=None, headers=HEADERS)
                    is None
                ):
                    futures.append(
                        await self._producer.send_batch(batch, topic, partition=partition)
                    )
                    batch = self._producer.create_batch()
                    batch.append(key=record.key, value=value, timestamp=None, headers=HEADERS)
            futures.append(await self._producer.send_batch(batch, topic, partition=partition))
        return futures

    async def publish(self, records: Sequence[Record], chunk: int = 5000) -> float:
        """Publish everything as fast as the broker takes it; seconds until all acked."""
        started = time.perf_counter()
        pending: list[Any] = []
        for first in range(0, len(records), chunk):
            pending.extend(await self.send(records[first : first + chunk]))
            if len(pending) > 64:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
        return time.perf_counter() - started

    async def publish_paced(
        self, records: Sequence[Record], rate: float, seconds: float, tick_s: float = 0.005
    ) -> dict[uuid.UUID, float]:
        """Publish at ``rate`` records per second for at most ``seconds`` (or until the
        records run out); returns each sent record's send time (``time.time()``)."""
        sent: dict[uuid.UUID, float] = {}
        pending: list[Any] = []
        started = time.perf_counter()
        done = 0
        while done < len(records):
            elapsed = time.perf_counter() - started
            if elapsed >= seconds:
                break
            due = min(len(records), int(rate * elapsed) + 1)
            if due > done:
                now = datetime.now(UTC)
                batch = records[done:due]
                pending.extend(await self.send(batch, now))
                wall = now.timestamp()
                for record in batch:
                    sent[record.event_id] = wall
                done = due
            pending = [f for f in pending if not f.done()]
            await asyncio.sleep(tick_s)
        await asyncio.gather(*pending)
        return sent


MAX_BATCH_BYTES = 512 * 1024
"""Record batch size; below Kafka's default message.max.bytes (1 MiB)."""

HEADERS = [("content-type", b"application/json")]


def describe(records: Sequence[Record]) -> str:
    """Event types and movement count, for progress lines."""
    types = Counter(record.event_type for record in records)
    legs = sum(len(record.legs) for record in records)
    movements = len({leg.movement for record in records for leg in record.legs})
    size = sum(len(record.value) for record in records) / max(1, len(records))
    mix = ", ".join(f"{name} {count / len(records):.0%}" for name, count in types.most_common())
    return f"{len(records)} events ({mix}); {movements} movements, {legs} legs, avg {size:.0f} B"


def main() -> None:
    """Generate a load and say what it is: a check of the generator without any servers."""
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    started = time.perf_counter()
    world = build_world(7)
    generator = LoadGenerator(world, 7)
    load = generator.generate(events)
    seed = generator.seed()
    elapsed = time.perf_counter() - started
    print(f"load: {describe(load)}")
    print(f"seed: {describe(seed)}")
    print(f"generated in {elapsed:.1f}s ({(len(load) + len(seed)) / elapsed:.0f} records/s)")
    hot = Counter(leg.location for record in load for leg in record.legs)
    print("busiest locations:", ", ".join(f"{code} {n}" for code, n in hot.most_common(6)))
    skus = Counter(leg.sku for record in load for leg in record.legs)
    top = sum(n for _, n in skus.most_common(100)) / max(1, sum(skus.values()))
    print(f"SKUs touched: {len(skus)}; top 100 carry {top:.0%} of legs")


if __name__ == "__main__":
    main()
