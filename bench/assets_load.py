"""An assets workload for an ISP: the lives of serialized devices as stock records them,
and what network monitoring reports of them, as ready-to-publish Kafka records.

The world is stock_load's (2,000 SKUs, 300 stock locations in 8 regions, 1,000 customer
sites); assets follows its serialized SKUs (ONTs, CPE, routers, switches, optics,
antennas), chosen Zipf by rank. A device's life, each step a few hundred to a few
thousand events after the one before (``GAP_EVENTS``):

- received at a warehouse (70% one of the two central ones, 70/30), sent on by transfer
  (shipped, then received) to its region's warehouse (60% of those from a central one) and
  on to one of the region's vans (a few busy ones, a long tail), issued from the van to a
  job and installed at a customer site of the region;
- installed, monitoring sees it 1 to 3 times; 10% degrade and recover once;
- then 70% stay installed, 15% come back good to the van, 10% are reported failed by
  monitoring and then returned faulty to the region's quarantine, 5% are returned faulty
  without a report.

Every movement is a ``StockMovementRecorded`` as stock publishes it on
``stock.movements.v1`` (keyed sku@location, fields as stock's domain fills them); every
report a ``DeviceSeen``/``DeviceDegraded``/``DeviceRecovered``/``DeviceFailed`` on
``monitoring.device-events.v1`` (keyed by serial). Lives run side by side, so events of
many devices interleave. About 1% of sightings are of serials no record has (what
reconciliation calls unrecorded). One device (:data:`TIMELINE_SERIAL`, an optic kept as a
circulating spare) lives through the whole load: received, many transfers between two
warehouses and two vans, issued and installed, hundreds of sightings, some degradations,
returned good, and many transfers again: ``timeline_events`` events in all, spread evenly.

Order: consumers apply partitions (and the two topics) in no fixed order relative to each
other, and assets keeps a fact older than its device's last applied one in the timeline
only (see the assets domain). So lives are built so that any subsequence of a life is a
chain of legal transitions: a device never goes back to a job after an installation, and
faulty is its last state. Whatever order the consumers see, nothing is refused.

Time: every event happens ``STEP`` after the one before, the last one just before the
load is generated (``recorded_at`` of a movement, ``occurred_at`` of a report, which is
what assets reads as its time).

Each record carries a :class:`Write`: what applying it writes at least, in publication
order, for the raw ceiling (assets_ceiling.py).

Also runnable alone to describe a load without any server:
``uv run python bench/assets_load.py [EVENTS]``.
"""

import bisect
import heapq
import itertools
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from stock_load import Item, Place, Record, World, build_world

from stockwire.contracts.base import Event
from stockwire.contracts.catalog import TrackingMode
from stockwire.contracts.envelope import envelope_json
from stockwire.contracts.ids import new_id
from stockwire.contracts.network import (
    DeviceDegraded,
    DeviceEvent,
    DeviceFailed,
    DeviceRecovered,
    DeviceSeen,
    MonitoringSource,
    Severity,
)
from stockwire.contracts.stock import StockMovementRecorded
from stockwire.contracts.topics import topic_for
from stockwire.contracts.vocabulary import (
    DeviceState,
    MovementKind,
    ReturnCondition,
)

STEP = timedelta(seconds=30)
"""Time between two events of the load."""

GAP_EVENTS = (100, 2500)
"""A device's next step comes this many events (uniform) after its last."""

UNRECORDED_SHARE = 0.02
"""Events that are sightings of serials no record has."""

TIMELINE_SERIAL = "SPARE-TIMELINE-0001"
TIMELINE_SKU_RANK = 1
"""The long-lived device is of the most used serialized model."""

SOURCES = (MonitoringSource.ALERTMANAGER, MonitoringSource.ZABBIX, MonitoringSource.LIBRENMS)

REPORTS: dict[str, tuple[type[DeviceEvent], Severity]] = {
    "seen": (DeviceSeen, Severity.INFO),
    "degraded": (DeviceDegraded, Severity.WARNING),
    "recovered": (DeviceRecovered, Severity.INFO),
    "failed": (DeviceFailed, Severity.CRITICAL),
}

S = DeviceState


class Device(NamedTuple):
    """A device's row as assets keeps it after an event (the columns the ceiling writes)."""

    serial: str
    sku: str
    state: str
    location: str | None
    location_kind: str | None
    region: str | None
    job_id: str | None
    as_of: datetime
    received_at: datetime
    installed_since: datetime | None
    health: str
    mac: str | None


class Write(NamedTuple):
    """What applying one event writes at least: the device's row after it (None for a
    serial no record has), a timeline row, the state change it makes (from, to) if any,
    and the sighting (site, mac, source) of a monitoring report."""

    serial: str
    at: datetime
    kind: str
    """``movement`` or ``monitoring``, as the timeline row's kind."""
    summary: str
    device: Device | None
    change: tuple[str | None, str] | None
    sighting: tuple[str | None, str | None, str] | None


@dataclass(frozen=True)
class AssetRecord(Record):
    """A record of the assets load, with what it writes at least."""

    write: Write | None = None


@dataclass
class Life:
    """One device: where it is now, and the steps of its life still to come."""

    serial: str
    item: Item
    mac: str
    steps: list[tuple[str, tuple[str, ...]]]
    spacing: int = 0
    """Events between two steps; 0: a random gap (:data:`GAP_EVENTS`)."""
    device: Device | None = None


@dataclass(order=True)
class Due:
    at: int
    seq: int
    life: Life = field(compare=False)


class AssetsLoadGenerator:
    """Generates the load in order: :meth:`generate` once."""

    def __init__(self, world: World, seed: int, timeline_events: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.places: dict[str, Place] = {
            p.code: p for p in [*world.stock_locations, *world.customers]
        }
        self.serialized = [i for i in world.items if i.tracking == TrackingMode.SERIAL]
        self.weights = list(
            itertools.accumulate(1 / (n + 1) ** 1.1 for n in range(len(self.serialized)))
        )
        self.customers: dict[str, list[Place]] = {}
        for place in world.customers:
            self.customers.setdefault(place.region, []).append(place)
        self.timeline_events = timeline_events
        self.run_tag = f"{seed:04d}{self.rng.randrange(16**4):04x}"
        self.counter = itertools.count(1)
        self.stats: Counter[str] = Counter()
        self._due: list[Due] = []
        self._start = datetime.now(UTC)

    # ----- public

    def generate(self, count: int) -> list[AssetRecord]:
        """``count`` records: the lives of as many devices as fit, side by side."""
        self._start = datetime.now(UTC) - STEP * (count + 1)
        self._schedule(self._timeline_life(count), 0)
        out: list[AssetRecord] = []
        while len(out) < count:
            now = len(out)
            if self._due and self._due[0].at <= now:
                due = heapq.heappop(self._due)
                out.append(self._step(due.life, now))
                if due.life.spacing and due.life.steps:
                    self._schedule(due.life, due.at + due.life.spacing)
                elif due.life.steps:
                    self._schedule(due.life, now + self.rng.randint(*GAP_EVENTS))
            elif self.rng.random() < UNRECORDED_SHARE:
                out.append(self._unrecorded(now))
            else:
                life = self._life()
                out.append(self._step(life, now))
                self._schedule(life, now + self.rng.randint(*GAP_EVENTS))
        return out

    # ----- lives

    def _schedule(self, life: Life, at: int) -> None:
        heapq.heappush(self._due, Due(at, next(self.counter), life))

    def _item(self) -> Item:
        index = bisect.bisect_left(self.weights, self.rng.random() * self.weights[-1])
        return self.serialized[min(index, len(self.serialized) - 1)]

    def _new_life(self, item: Item, serial: str | None = None) -> Life:
        n = next(self.counter)
        serial = serial or f"{item.manufacturer[:3].upper()}{self.run_tag}{n:09d}"
        mac = "02:" + ":".join(f"{(n >> shift) & 0xFF:02x}" for shift in (32, 24, 16, 8, 0))
        return Life(serial, item, mac, [])

    def _life(self) -> Life:
        world, rng = self.world, self.rng
        life = self._new_life(self._item())
        region = rng.choices(world.regions, weights=range(len(world.regions) + 4, 4, -1))[0]
        central = rng.random() < 0.7
        warehouse = world.central[0 if rng.random() < 0.7 else 1] if central else None
        regional = world.regional[region]
        vans = world.vans[region]
        van = vans[min(int(rng.expovariate(1 / 6)), len(vans) - 1)]
        site = rng.choice(self.customers[region])
        path = [warehouse.code] if warehouse else []
        if not warehouse or rng.random() < 0.6:
            path.append(regional.code)
        path.append(van.code)
        steps = life.steps
        steps.append(("receipt", (path[0],)))
        for origin, to in itertools.pairwise(path):
            steps += [("ship", (origin, to)), ("receive", (origin, to))]
        job = f"JOB-{self.run_tag}-{next(self.counter):08d}"
        steps += [("issue", (van.code, job)), ("install", (van.code, site.code, job))]
        reports = ["seen"] * rng.choice((1, 1, 2, 2, 2, 3))
        if rng.random() < 0.1:
            reports.insert(rng.randint(0, len(reports)), "degraded")
            reports.insert(rng.randint(reports.index("degraded") + 1, len(reports)), "recovered")
        steps += [(report, (site.code,)) for report in reports]
        end = rng.random()
        quarantine = world.quarantine[region].code
        if end < 0.70:
            pass
        elif end < 0.85:
            steps.append(("return", (van.code, ReturnCondition.GOOD.value, job)))
        elif end < 0.95:
            steps.append(("failed", (site.code,)))
            steps.append(("return", (quarantine, ReturnCondition.FAULTY.value, job)))
        else:
            steps.append(("return", (quarantine, ReturnCondition.FAULTY.value, job)))
        steps.reverse()  # popped from the end
        return life

    def _timeline_life(self, count: int) -> Life:
        """The long-lived device: every step ``count / timeline_events`` events apart."""
        n = min(self.timeline_events, count)
        life = self._new_life(self.serialized[TIMELINE_SKU_RANK - 1], TIMELINE_SERIAL)
        life.spacing = max(1, count // (n + 1))
        world = self.world
        region = world.regions[0]
        rounds = itertools.cycle(
            [world.central[0], world.regional[region], *world.vans[region][:2]]
        )
        here = next(rounds).code
        steps: list[tuple[str, tuple[str, ...]]] = [("receipt", (here,))]

        def transfers(events: int) -> None:
            nonlocal here
            for _ in range(events // 2):
                to = next(rounds).code
                while to == here:
                    to = next(rounds).code
                steps.extend([("ship", (here, to)), ("receive", (here, to))])
                here = to

        transfers(int(n * 0.3))
        while not here.startswith("VAN-"):
            transfers(2)
        van, site = here, self.customers[region][0].code
        job = f"JOB-{self.run_tag}-TIMELINE"
        steps += [("issue", (van, job)), ("install", (van, site, job))]
        sightings = int(n * 0.5)
        for k in range(sightings):
            kind = "seen"
            if k % 25 == 10:
                kind = "degraded"
            elif k % 25 == 12:
                kind = "recovered"
            steps.append((kind, (site,)))
        steps.append(("return", (van, ReturnCondition.GOOD.value, job)))
        here = van
        transfers(n - len(steps))
        steps.extend(("seen", (site,)) for _ in range(n - len(steps)))
        del steps[n:]
        life.steps = steps[::-1]
        return life

    # ----- steps

    def _at(self, index: int) -> datetime:
        return self._start + STEP * index

    def _step(self, life: Life, index: int) -> AssetRecord:
        kind, args = life.steps.pop()
        at = self._at(index)
        self.stats[kind] += 1
        if kind in ("seen", "degraded", "recovered", "failed"):
            return self._report(life, kind, args[0], at)
        return self._movement(life, kind, args, at)

    def _movement(self, life: Life, kind: str, args: tuple[str, ...], at: datetime) -> AssetRecord:
        job: str | None = None
        match kind:
            case "receipt":
                (where,) = args
                payload = self._stock(
                    life,
                    at,
                    MovementKind.RECEIPT,
                    "receipt_exact",
                    where,
                    to_location=where,
                    po_number=f"PO-{self.run_tag}-{next(self.counter):07d}",
                )
                to_state = S.IN_STOCK
            case "ship" | "receive":
                origin, where = args
                shipped = kind == "ship"
                payload = self._stock(
                    life,
                    at,
                    MovementKind.TRANSFER_SHIP if shipped else MovementKind.TRANSFER_RECEIVE,
                    "transfer_shipped" if shipped else "transfer_received",
                    origin if shipped else where,
                    from_location=origin,
                    to_location=where,
                    transfer_id=f"TR-{self.run_tag}-{next(self.counter):08d}",
                )
                to_state = S.IN_TRANSIT if shipped else S.IN_STOCK
            case "issue":
                where, job = args
                payload = self._stock(
                    life,
                    at,
                    MovementKind.ISSUE,
                    "job_issue",
                    where,
                    from_location=where,
                    job_id=job,
                )
                to_state = S.ALLOCATED
            case "install":
                van, where, job = args
                payload = self._stock(
                    life,
                    at,
                    MovementKind.INSTALL,
                    "install_from_job",
                    where,
                    from_location=van,
                    to_location=where,
                    job_id=job,
                )
                to_state = S.INSTALLED
            case "return":
                where, condition, job = args
                good = condition == ReturnCondition.GOOD.value
                payload = self._stock(
                    life,
                    at,
                    MovementKind.RETURN,
                    f"return_{condition}",
                    where,
                    from_location=life.device.location if life.device else None,
                    to_location=where,
                    condition=ReturnCondition(condition),
                    job_id=job,
                )
                to_state = S.IN_STOCK if good else S.FAULTY
            case _:
                raise AssertionError(f"unknown movement step {kind!r}")
        summary = f"stock {payload.kind.value} ({payload.reason_code}) at {where}"
        change = self._move(life, to_state, where, job, at)
        write = Write(life.serial, at, "movement", summary, life.device, change, None)
        return self._record(payload, "stock", at, write)

    def _stock(
        self,
        life: Life,
        at: datetime,
        kind: MovementKind,
        reason_code: str,
        location: str,
        *,
        from_location: str | None = None,
        to_location: str | None = None,
        condition: ReturnCondition | None = None,
        job_id: str | None = None,
        po_number: str | None = None,
        transfer_id: str | None = None,
    ) -> StockMovementRecorded:
        """A movement of the device's serial, as stock records it."""
        return StockMovementRecorded(
            movement_id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
            kind=kind,
            reason_code=reason_code,
            sku=life.item.sku,
            location=location,
            from_location=from_location,
            to_location=to_location,
            quantity=Decimal(1),
            serial=life.serial,
            condition=condition,
            job_id=job_id,
            po_number=po_number,
            transfer_id=transfer_id,
            actor="bench-assets",
            recorded_at=at,
        )

    def _move(
        self, life: Life, to_state: DeviceState, where: str, job: str | None, at: datetime
    ) -> tuple[str | None, str] | None:
        """Move the device (in time order) and say the state change, if any."""
        place = self.places[where]
        before = life.device
        installed_since = None
        if to_state is S.INSTALLED:
            installed_since = (before.installed_since if before else None) or at
        life.device = Device(
            serial=life.serial,
            sku=life.item.sku,
            state=to_state.value,
            location=where,
            location_kind=place.kind.value,
            region=place.region,
            job_id=job,
            as_of=at,
            received_at=before.received_at if before else at,
            installed_since=installed_since,
            health=before.health if before else "ok",
            mac=before.mac if before else None,
        )
        from_state = before.state if before else None
        return None if from_state == to_state.value else (from_state, to_state.value)

    def _report(self, life: Life, kind: str, site: str, at: datetime) -> AssetRecord:
        model, severity = REPORTS[kind]
        detail = None
        if kind == "degraded":
            detail = f"optical rx power low: -{self.rng.randint(270, 299) / 10} dBm"
        elif kind == "failed":
            detail = "device unreachable: loss of signal"
        source = self.rng.choice(SOURCES)
        payload = model(
            serial=life.serial,
            mac=life.mac,
            site=site,
            severity=severity,
            source=source,
            detail=detail,
        )
        device = life.device
        change = None
        if device is not None:
            health = {"degraded": "degraded", "recovered": "ok"}.get(kind, device.health)
            state = device.state
            if kind == "failed" and device.state == S.INSTALLED.value:
                state = S.FAULTY.value
                change = (device.state, state)
            life.device = device = device._replace(
                state=state,
                health=health,
                mac=life.mac,
                as_of=at if kind == "failed" else device.as_of,
                installed_since=None if change else device.installed_since,
            )
        summary = f"{source.value} reported it {kind} ({severity.value}) at {site}"
        write = Write(
            life.serial, at, "monitoring", summary, device, change, (site, life.mac, source.value)
        )
        return self._record(payload, "monitoring", at, write)

    def _unrecorded(self, index: int) -> AssetRecord:
        """A sighting of a serial no record has: a device someone installed unbooked."""
        life = self._new_life(self._item(), f"UNREC-{self.run_tag}-{next(self.counter):07d}")
        site = self.rng.choice(self.world.customers).code
        self.stats["unrecorded"] += 1
        return self._report(life, "seen", site, self._at(index))

    def _record(self, payload: Event, producer: str, at: datetime, write: Write) -> AssetRecord:
        spec = topic_for(type(payload))
        event_id = new_id()
        return AssetRecord(
            topic=spec.name,
            key=spec.key_for(payload).encode(),
            value=envelope_json(payload, event_id=event_id, producer=producer, occurred_at=at),
            event_id=event_id,
            event_type=payload.event_type,
            legs=(),
            write=write,
        )


def describe(records: Sequence[AssetRecord]) -> str:
    """Event types, devices, the monitoring share and the longest life, for progress lines."""
    types = Counter(record.event_type for record in records)
    serials = Counter(record.write.serial for record in records if record.write)
    monitoring = sum(n for name, n in types.items() if name.startswith("monitoring."))
    changes = sum(1 for record in records if record.write and record.write.change)
    size = sum(len(record.value) for record in records) / max(1, len(records))
    mix = ", ".join(f"{name} {count / len(records):.1%}" for name, count in types.most_common())
    longest, events = serials.most_common(1)[0] if serials else ("-", 0)
    return (
        f"{len(records)} events ({mix}); monitoring {monitoring / max(1, len(records)):.0%}; "
        f"{len(serials)} serials, {changes} state changes; {longest} has {events} events; "
        f"avg {size:.0f} B"
    )


def main() -> None:
    """Generate a load and say what it is: a check of the generator without any servers."""
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    started = time.perf_counter()
    generator = AssetsLoadGenerator(build_world(1), 1, 1000)
    load = generator.generate(events)
    elapsed = time.perf_counter() - started
    print(f"load: {describe(load)}")
    print(f"steps: {dict(generator.stats.most_common())}")
    print(f"generated in {elapsed:.1f}s ({len(load) / elapsed:.0f} records/s)")
    final = Counter(
        {r.write.serial: r.write.device.state for r in load if r.write and r.write.device}.values()
    )
    print(f"devices by last state: {dict(final.most_common())}")


if __name__ == "__main__":
    main()
