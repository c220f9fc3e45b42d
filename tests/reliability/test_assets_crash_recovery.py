"""SIGKILL the assets service while it applies a load of device lives and monitoring
reports; after a restart nothing is lost or doubled.

Assets runs as a real process (``python -m stockwire.assets``) on its own database and its
own consumer groups, so nothing else in the test session touches what it applies.

The load mixes both of its inputs. New serials live their lives on stock's movements
(received, issued to a job, installed at a customer site, some returned faulty); a fleet
installed before the load hears from monitoring (sightings, failures, degradations,
recoveries). Every serial's events land on one partition (a serial's movements share one
sku@warehouse key, reports are keyed by serial), so each serial's end is known whatever
the interleaving; the fleet is installed before the load because stock and monitoring are
different topics, in no order with each other, and a failure means something only of an
installed device. Some events are delivered twice, before their serial's last event, so
once every serial's last event is applied every redelivery has been seen too.
"""

import asyncio
import hashlib
import os
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from stockwire.contracts import network
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
from stockwire.contracts.envelope import Envelope, wrap
from stockwire.contracts.stock import StockMovementRecorded
from stockwire.contracts.topics import topic_for
from stockwire.contracts.vocabulary import MonitoringSource, MovementKind, ReturnCondition
from stockwire.runtime.db import asyncpg_dsn, drop_database
from stockwire.runtime.harness import ServiceProcess, migrate
from stockwire.runtime.settings import Settings

pytestmark = pytest.mark.slow

READY_TIMEOUT_S = 120
STOP_TIMEOUT_S = 10
APPLY_TIMEOUT_S = 120
MODELS = (Category.ONT, Category.CPE, Category.SWITCH, Category.OPTIC)
REGIONS = 2
SITES_PER_REGION = 25
FLEET = 400
"""Devices installed before the load, that monitoring reports on during it."""
NEW_SERIALS = 1000
"""Serials whose lives the load's movements tell."""
NEW_LIVES = {"in_stock": 10, "allocated": 10, "installed": 60, "faulty": 20}
"""The state a new serial's life ends in, in per cent of the new serials."""
FLEET_REPORTS = {"seen": 30, "failed": 30, "degraded": 20, "recovered": 20}
"""What monitoring says of a fleet device after it saw it, in per cent of the fleet."""
DUPLICATE_SHARE = 0.1
KILL_SHARE = 0.25
"""The process is killed once this share of the load is applied."""

STATE_CHANGED = "assets.device.state-changed"
FAILURE_RECORDED = "assets.failure.recorded"
TRANSITION_REJECTED = "assets.transition.rejected"
ALERT_RAISED = "assets.alert.raised"

Delivery = tuple[Event, Envelope]


@dataclass
class Life:
    """One serial: its events in the order they are published, and what they must leave."""

    serial: str
    sku: str
    home: str
    site: str
    events: list[Delivery] = field(default_factory=list)
    state: str | None = None
    location: str | None = None
    health: str = "ok"
    changes: list[tuple[str | None, str, uuid.UUID]] = field(default_factory=list)
    """Each state change: from, to, and the event that caused it."""
    failure: tuple[str, uuid.UUID] | None = None
    """The failure recorded: its source and the event that reported it."""
    alerted: bool = False
    """Whether a device_failed alert is raised (a failure monitoring reported)."""

    def tell(self, payload: Event, producer: str) -> Envelope:
        envelope = wrap(payload, producer=producer)
        self.events.append((payload, envelope))
        return envelope

    def move(
        self, kind: MovementKind, at: datetime, to_state: str, location: str, **where: Any
    ) -> uuid.UUID:
        """Stock records a movement of the serial, keyed by its sku at its warehouse."""
        movement = StockMovementRecorded(
            movement_id=uuid.uuid4(),
            kind=kind,
            reason_code=kind.value,
            sku=self.sku,
            location=self.home,
            quantity=Decimal(1),
            serial=self.serial,
            actor="crash-test",
            recorded_at=at,
            **where,
        )
        event_id = self.tell(movement, "stock").event_id
        self.changes.append((self.state, to_state, event_id))
        self.state, self.location = to_state, location
        return event_id

    def report(self, kind: type[network.DeviceEvent], at: datetime, **said: Any) -> uuid.UUID:
        """Monitoring reports on the serial, seen at its customer site."""
        return self.tell(
            kind(
                serial=self.serial,
                site=self.site,
                severity=network.Severity.MAJOR,
                source=MonitoringSource.ALERTMANAGER,
                observed_at=at,
                **said,
            ),
            "monitoring",
        ).event_id

    @property
    def movement_ids(self) -> set[uuid.UUID]:
        return {e.event_id for p, e in self.events if isinstance(p, StockMovementRecorded)}

    @property
    def report_ids(self) -> set[uuid.UUID]:
        return {e.event_id for p, e in self.events if isinstance(p, network.DeviceEvent)}


def live(life: Life, until: str, start: datetime, job: str) -> None:
    """The serial's life on stock's movements, an hour a step, until it is in ``until``:
    received at its warehouse, issued to a job, installed at its customer site, returned
    faulty (a failure)."""
    home, site = life.home, life.site
    steps: list[tuple[MovementKind, str, str, dict[str, Any]]] = [
        (MovementKind.RECEIPT, "in_stock", home, {"to_location": home}),
        (MovementKind.ISSUE, "allocated", home, {"from_location": home, "job_id": job}),
        (
            MovementKind.INSTALL,
            "installed",
            site,
            {"from_location": home, "to_location": site, "job_id": job},
        ),
        (
            MovementKind.RETURN,
            "faulty",
            home,
            {
                "from_location": site,
                "to_location": home,
                "condition": ReturnCondition.FAULTY,
                "job_id": job,
            },
        ),
    ]
    for hour, (kind, state, where, fields) in enumerate(steps):
        caused = life.move(kind, start + timedelta(hours=hour), state, where, **fields)
        if kind is MovementKind.RETURN:
            life.failure = ("faulty_return", caused)
        if state == until:
            return


def fleet_reports(life: Life, what: str, now: datetime) -> None:
    """Monitoring sees an installed fleet device at its site, then maybe more."""
    seen = now - timedelta(minutes=30)
    life.report(network.DeviceSeen, seen, mac=mac_of(life.serial), firmware_version="3.1")
    later = now - timedelta(minutes=20)
    if what == "failed":
        failed = life.report(network.DeviceFailed, later, detail="ONT los: no light")
        life.changes.append(("installed", "faulty", failed))
        life.state, life.failure, life.alerted = "faulty", ("monitoring", failed), True
    elif what in ("degraded", "recovered"):
        life.report(network.DeviceDegraded, later, detail="rx power -27 dBm")
        life.health = "degraded"
        if what == "recovered":
            life.report(network.DeviceRecovered, now - timedelta(minutes=10))
            life.health = "ok"


def with_duplicates(events: list[Delivery], rng: random.Random) -> list[Delivery]:
    """Some events delivered again, each after its original and before the serial's
    last event."""
    stream = list(events)
    for original in range(len(events) - 1):
        if rng.random() < DUPLICATE_SHARE:
            position = stream.index(events[original])
            stream.insert(rng.randint(position + 1, stream.index(events[-1])), events[original])
    return stream


def interleave(streams: Sequence[list[Delivery]], rng: random.Random) -> list[Delivery]:
    """One delivery order of every stream, each stream's own order kept."""
    order = [n for n, stream in enumerate(streams) for _ in stream]
    rng.shuffle(order)
    cursors = [iter(stream) for stream in streams]
    return [next(cursors[n]) for n in order]


def item(sku: str, category: Category) -> CatalogItemUpserted:
    return CatalogItemUpserted(
        sku=sku,
        name=f"{category.value} {sku}",
        manufacturer="Nokia",
        category=category,
        tracking_mode=TrackingMode.SERIAL,
        unit="each",
        handling_class=HandlingClass.ESD_SENSITIVE,
        criticality=Criticality.HIGH,
        unit_cost=Decimal("120.00"),
        currency="EUR",
        default_lead_time_days=14,
        status=ItemStatus.ACTIVE,
        version=1,
        updated_at=datetime.now(UTC),
    )


def location(code: str, kind: LocationKind, region: str) -> LocationUpserted:
    return LocationUpserted(
        code=code,
        name=code,
        kind=kind,
        region=region,
        active=True,
        version=1,
        updated_at=datetime.now(UTC),
    )


def mac_of(serial: str) -> str:
    digest = hashlib.sha256(serial.encode()).digest()
    return ":".join(f"{byte:02x}" for byte in (b"\x02" + digest[:5]))


async def publish(settings: Settings, deliveries: Iterable[Delivery]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=10
    )
    await producer.start()
    try:
        futures = []
        for payload, envelope in deliveries:
            spec = topic_for(type(payload))
            futures.append(
                await producer.send(
                    spec.name,
                    envelope.model_dump_json().encode(),
                    key=spec.key_for(payload).encode(),
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def wait_until(
    condition: Callable[[], Awaitable[bool]], timeout_s: float, what: str, poll_s: float = 0.2
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(poll_s)


async def test_killed_mid_load_and_restarted_each_device_event_is_applied_exactly_once(
    settings: Settings, unused_tcp_port: int, tmp_path: Path
) -> None:
    # Given an assets process with its catalog copy and a fleet of installed devices
    run = f"crash-{uuid.uuid4().hex[:8]}"
    rng = random.Random(run)
    now = datetime.now(UTC)
    prefix = f"{settings.database_prefix}{run.replace('-', '_')}_"
    env = {
        **os.environ,
        "STOCKWIRE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "STOCKWIRE_DATABASE_URL": settings.database_url.get_secret_value(),
        "STOCKWIRE_DATABASE_PREFIX": prefix,
        "STOCKWIRE_CONSUMER_GROUP_PREFIX": f"{run}-",
    }
    skus = {f"{category.value.upper()}-{run}": category for category in MODELS}
    regions = [f"REG-{run}-{r}" for r in range(REGIONS)]
    warehouses = {region: f"WH-{region}" for region in regions}
    sites = {
        region: [f"CUST-{region}-{s:02d}" for s in range(SITES_PER_REGION)] for region in regions
    }
    models = [item(sku, category) for sku, category in skus.items()]
    catalog: list[Delivery] = [(p, wrap(p, producer="catalog")) for p in models]
    for region in regions:
        places = [(warehouses[region], LocationKind.WAREHOUSE)]
        places += [(code, LocationKind.CUSTOMER_SITE) for code in sites[region]]
        catalog += [
            (p, wrap(p, producer="catalog"))
            for p in (location(code, kind, region) for code, kind in places)
        ]

    def life(n: int) -> Life:
        region = rng.choice(regions)
        return Life(
            f"SN-{run}-{n:05d}",
            rng.choice(list(skus)),
            warehouses[region],
            rng.choice(sites[region]),
        )

    fleet = [life(n) for n in range(FLEET)]
    for device in fleet:
        start = now - timedelta(days=6, minutes=rng.randint(0, 600))
        live(device, "installed", start, f"JOB-{device.serial}")
    seed = interleave([device.events for device in fleet], rng)
    seed_ids = [envelope.event_id for _, envelope in seed]
    for device in fleet:
        device.events = []  # what it hears from now on is the load's

    # And a load: new serials' lives and monitoring's reports on the fleet, some twice
    fleet_mix = rng.choices(list(FLEET_REPORTS), weights=list(FLEET_REPORTS.values()), k=FLEET)
    for device, what in zip(fleet, fleet_mix, strict=True):
        fleet_reports(device, what, now)
    newcomers = [life(FLEET + n) for n in range(NEW_SERIALS)]
    new_mix = rng.choices(list(NEW_LIVES), weights=list(NEW_LIVES.values()), k=NEW_SERIALS)
    for device, until in zip(newcomers, new_mix, strict=True):
        start = now - timedelta(minutes=rng.randint(240, 7200))
        live(device, until, start, f"JOB-{device.serial}")
    lives = fleet + newcomers
    load = interleave([with_duplicates(device.events, rng) for device in lives], rng)
    load_ids = [envelope.event_id for device in lives for _, envelope in device.events]
    serials = [device.serial for device in lives]

    service = ServiceProcess.service(
        "assets", port=unused_tcp_port, log_path=tmp_path / "assets.log", env=env
    )
    await migrate("assets", tmp_path / "assets-migrate.log", env)
    dsn = asyncpg_dsn(settings.model_copy(update={"database_prefix": prefix}).service_url("assets"))
    db = await asyncpg.connect(dsn)
    try:

        async def applied(ids: list[uuid.UUID]) -> int:
            found: int = await db.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1)", ids
            )
            return found

        async def catalog_known() -> bool:
            items: int = await db.fetchval(
                "SELECT count(*) FROM catalog_items WHERE sku = ANY($1)", list(skus)
            )
            places: int = await db.fetchval(
                "SELECT count(*) FROM catalog_locations WHERE code = ANY($1)",
                [p.code for p, _ in catalog if isinstance(p, LocationUpserted)],
            )
            return items == len(skus) and places == len(catalog) - len(skus)

        await service.start()
        await service.wait_ready(READY_TIMEOUT_S)
        await publish(settings, catalog)
        await wait_until(catalog_known, 60, "the catalog read copy")
        await publish(settings, seed)

        async def seeded() -> bool:
            return await applied(seed_ids) == len(seed_ids)

        await wait_until(seeded, APPLY_TIMEOUT_S, "the fleet's installs")

        # When the process is killed while it applies the load
        kill_at = int(len(load_ids) * KILL_SHARE)

        async def some_applied() -> bool:
            return await applied(load_ids) >= kill_at

        publishing = asyncio.create_task(publish(settings, load))
        await wait_until(some_applied, 60, "some of the load", poll_s=0.02)
        service.check()
        await service.kill()
        await publishing
        applied_before_restart = await applied(load_ids)
        assert applied_before_restart < len(load_ids), "the kill came too late to mean much"

        # And it is started again
        await service.start()
        await service.wait_ready(READY_TIMEOUT_S)

        async def all_applied() -> bool:
            return await applied(load_ids) == len(load_ids)

        await wait_until(all_applied, APPLY_TIMEOUT_S, "every event of the load")
        service.check()

        # Then every event was applied exactly once
        inbox = await db.fetch(
            "SELECT event_id, count(*) AS n FROM inbox WHERE event_id = ANY($1) GROUP BY event_id",
            seed_ids + load_ids,
        )
        assert {r["event_id"]: r["n"] for r in inbox} == dict.fromkeys(seed_ids + load_ids, 1)
        for kind, ids in (
            ("movement", {i for d in lives for i in d.movement_ids} | set(seed_ids)),
            ("monitoring", {i for d in lives for i in d.report_ids}),
        ):
            rows = await db.fetch(
                "SELECT source_event_id, count(*) AS n FROM device_history "
                "WHERE kind = $1 AND serial = ANY($2) GROUP BY source_event_id",
                kind,
                serials,
            )
            assert {r["source_event_id"]: r["n"] for r in rows} == dict.fromkeys(ids, 1), kind

        # And nothing is lost: every serial is a device, in the state its life implies
        rows = await db.fetch(
            "SELECT serial, state, location, health FROM devices WHERE serial = ANY($1)", serials
        )
        assert {r["serial"]: (r["state"], r["location"], r["health"]) for r in rows} == {
            d.serial: (d.state, d.location, d.health) for d in lives
        }

        # And each state change, failure and alert is recorded and published once
        expected_changes = {(d.serial, *change) for d in lives for change in d.changes}
        for what, query in (
            (
                "timeline",
                "SELECT serial, detail->>'from_state' AS a, detail->>'to_state' AS b, "
                "source_event_id AS cause FROM device_history "
                "WHERE kind = 'state_changed' AND serial = ANY($1)",
            ),
            (
                "outbox",
                "SELECT key AS serial, envelope->'payload'->>'from_state' AS a, "
                "envelope->'payload'->>'to_state' AS b, "
                "(envelope->'payload'->>'source_event_id')::uuid AS cause FROM outbox "
                f"WHERE event_type = '{STATE_CHANGED}' AND key = ANY($1)",
            ),
        ):
            found = Counter(
                (r["serial"], r["a"], r["b"], r["cause"]) for r in await db.fetch(query, serials)
            )
            assert set(found.elements()) == expected_changes, what
            assert found.total() == len(expected_changes), f"{what}: a state change doubled"

        expected_failures = {d.serial: d.failure for d in lives if d.failure is not None}
        failures = await db.fetch(
            "SELECT serial, source, failure_id FROM failures WHERE serial = ANY($1)", serials
        )
        assert Counter(r["serial"] for r in failures) == Counter(list(expected_failures))
        assert {r["serial"]: r["source"] for r in failures} == {
            serial: source for serial, (source, _) in expected_failures.items()
        }
        noted = await db.fetch(
            "SELECT detail->>'failure_id' AS failure_id, count(*) AS n FROM device_history "
            "WHERE kind = 'failure' AND serial = ANY($1) GROUP BY 1",
            serials,
        )
        assert {r["failure_id"]: r["n"] for r in noted} == {r["failure_id"]: 1 for r in failures}
        published = await db.fetch(
            "SELECT key, envelope->'payload'->>'failure_id' AS failure_id, "
            "(envelope->'payload'->>'source_event_id')::uuid AS cause FROM outbox "
            f"WHERE event_type = '{FAILURE_RECORDED}' AND key = ANY($1)",
            serials,
        )
        assert sorted((r["key"], r["failure_id"], r["cause"]) for r in published) == sorted(
            (r["serial"], r["failure_id"], expected_failures[r["serial"]][1]) for r in failures
        )
        alerted = sorted(f"device_failed:{d.serial}" for d in lives if d.alerted)
        raised = await db.fetch(
            "SELECT key FROM outbox WHERE event_type = $1 AND key = ANY($2)",
            ALERT_RAISED,
            [f"device_failed:{serial}" for serial in serials],
        )
        assert sorted(r["key"] for r in raised) == alerted
        active = await db.fetch(
            "SELECT dedup_key FROM active_alerts WHERE serial = ANY($1) AND kind = 'device_failed'",
            serials,
        )
        assert sorted(r["dedup_key"] for r in active) == alerted

        # And nothing was refused or left waiting
        refused = await db.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = $1 AND key = ANY($2)",
            TRANSITION_REJECTED,
            serials,
        )
        parked = await db.fetchval(
            "SELECT count(*) FROM parked_facts WHERE serial = ANY($1)", serials
        )
        assert (refused, parked) == (0, 0)
        sightings = await db.fetch(
            "SELECT serial, site FROM sightings WHERE serial = ANY($1)", serials
        )
        assert {r["serial"]: r["site"] for r in sightings} == {d.serial: d.site for d in fleet}

        # And everything recorded is published in the end
        async def all_sent() -> bool:
            unsent: int = await db.fetchval(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND key = ANY($1)",
                serials + alerted,
            )
            return unsent == 0

        await wait_until(all_sent, 60, "the outbox relay")
    finally:
        await service.stop(STOP_TIMEOUT_S)
        await db.close()
        await drop_database(settings, dsn.rsplit("/", 1)[-1])
