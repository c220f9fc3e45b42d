"""Assets' own SQL: devices and their timeline, parked facts, failures, and the alerts
raised and not yet resolved. Every statement runs on the unit of work's session."""

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.assets.domain.devices import Device, Fact, Failure
from stockwire.assets.domain.movements import Place
from stockwire.assets.tables import (
    CATALOG_COPY,
    active_alerts,
    device_facts,
    device_history,
    devices,
    failures,
    firmware_minimums,
    parked_facts,
    sightings,
)
from stockwire.contracts.vocabulary import (
    DeviceState,
    FailureSource,
    LocationKind,
)
from stockwire.runtime.bulk import insert_unnested


@dataclass(frozen=True, slots=True)
class HistoryRow:
    serial: str
    at: datetime
    kind: str
    summary: str
    detail: dict[str, Any]
    source_event_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Reported:
    """A device a monitoring report names: its model, and the firmware recorded since."""

    sku: str
    firmware_version: str | None
    firmware_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    dedup_key: str
    kind: str
    serial: str | None
    sku: str | None
    region: str | None
    location: str | None
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class FirmwareMinimum:
    """The lowest firmware a model's installed devices may run, and who set it why."""

    sku: str
    minimum_version: str
    reason: str | None
    set_by: str
    set_at: datetime


SERIAL_LOCKS = 0x4153_4552
"""The advisory lock namespace of serials ("ASER"), apart from the runtime's."""

_KINDS = frozenset(kind.value for kind in LocationKind)

_DEVICE_COLUMNS = (
    "serial",
    "sku",
    "state",
    "location",
    "location_kind",
    "region",
    "job_id",
    "as_of",
    "facts_until",
    "received_at",
    "installed_since",
    "operating_hours",
)


_SAVE_DEVICES = insert_unnested(
    devices,
    _DEVICE_COLUMNS,
    "ON CONFLICT (serial) DO UPDATE SET "
    + ", ".join(
        f"{n} = EXCLUDED.{n}" for n in _DEVICE_COLUMNS if n not in ("serial", "received_at")
    )
    + ", updated_at = now()",
)

_KEEP_FACTS = insert_unnested(device_facts, ("serial", "at", "fact"))

_ADD_HISTORY = insert_unnested(
    device_history, ("serial", "at", "kind", "summary", "detail", "source_event_id")
)


class AssetsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def places(self, codes: Iterable[str]) -> dict[str, Place]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        table = CATALOG_COPY.locations
        rows = await self.session.execute(
            sa.select(table.c.code, table.c.kind, table.c.region).where(table.c.code.in_(wanted))
        )
        return {
            code: Place(LocationKind(kind) if kind in _KINDS else None, region)
            for code, kind, region in rows
        }

    async def lock_serials(self, serials: Iterable[str]) -> None:
        """Hold each serial's lock until the transaction ends, also for serials no device
        row exists for yet: two transactions applying facts of one serial (its movements
        come on different partitions, applied by different consumers or replicas) then
        take turns, and the second sees the device the first created, or the facts it
        parked, instead of parking a fact nobody would replay."""
        wanted = sorted(set(serials))
        if wanted:
            await self.session.execute(
                sa.text(
                    "SELECT pg_advisory_xact_lock(:space, k) FROM ("
                    "SELECT DISTINCT hashtext(s) AS k FROM unnest(CAST(:serials AS text[])) s "
                    "ORDER BY k) AS keys"
                ),
                {"space": SERIAL_LOCKS, "serials": wanted},
            )

    async def devices_for_update(self, serials: Iterable[str]) -> dict[str, Device]:
        """The devices of ``serials`` that exist, locked until the transaction ends: the
        serials' locks first (:meth:`lock_serials`, also for serials with no device yet),
        then the rows in serial order, so two transactions never wait on each other in a
        cycle."""
        wanted = sorted(set(serials))
        if not wanted:
            return {}
        await self.lock_serials(wanted)
        rows = await self.session.execute(
            sa.select(*(devices.c[name] for name in _DEVICE_COLUMNS))
            .where(devices.c.serial.in_(wanted))
            .order_by(devices.c.serial)
            .with_for_update()
        )
        return {row.serial: _device(row) for row in rows}

    async def save_devices(self, changed: Sequence[Device]) -> None:
        if changed:
            await self.session.execute(
                _SAVE_DEVICES,
                {
                    "serial": [d.serial for d in changed],
                    "sku": [d.sku for d in changed],
                    "state": [d.state.value for d in changed],
                    "location": [d.location for d in changed],
                    "location_kind": [
                        d.location_kind.value if d.location_kind else None for d in changed
                    ],
                    "region": [d.region for d in changed],
                    "job_id": [d.job_id for d in changed],
                    "as_of": [d.as_of for d in changed],
                    "facts_until": [d.facts_until for d in changed],
                    "received_at": [d.received_at for d in changed],
                    "installed_since": [d.installed_since for d in changed],
                    "operating_hours": [d.operating_hours for d in changed],
                },
            )

    async def parked(self, serials: Iterable[str]) -> dict[str, list[Fact]]:
        """The facts parked for ``serials``, which are taken out of the parking (the
        caller applies or parks them again)."""
        wanted = sorted(set(serials))
        if not wanted:
            return {}
        rows = await self.session.execute(
            sa.delete(parked_facts)
            .where(parked_facts.c.serial.in_(wanted))
            .returning(parked_facts.c.serial, parked_facts.c.fact)
        )
        found: dict[str, list[Fact]] = {}
        for serial, fact in rows:
            found.setdefault(serial, []).append(fact_of(fact))
        return found

    async def parked_since(self, before: datetime) -> list[Fact]:
        """The oldest parked fact of each serial whose facts have waited since before
        ``before`` (they stay parked)."""
        oldest = (
            sa.select(parked_facts.c.serial, sa.func.min(parked_facts.c.at).label("at"))
            .group_by(parked_facts.c.serial)
            .having(sa.func.min(parked_facts.c.at) < before)
            .subquery()
        )
        rows = await self.session.execute(
            sa.select(parked_facts.c.serial, parked_facts.c.fact).join(
                oldest,
                sa.and_(parked_facts.c.serial == oldest.c.serial, parked_facts.c.at == oldest.c.at),
            )
        )
        first = {serial: fact for serial, fact in rows}
        return [fact_of(fact) for fact in first.values()]

    async def keep_facts(self, facts: Sequence[Fact]) -> None:
        """Keep the facts devices were given, in order (:func:`~.domain.devices.rebuild`)."""
        if facts:
            await self.session.execute(
                _KEEP_FACTS,
                {
                    "serial": [f.serial for f in facts],
                    "at": [f.at for f in facts],
                    "fact": [fact_json(f) for f in facts],
                },
            )

    async def facts_of(self, serials: Iterable[str]) -> dict[str, list[Fact]]:
        """Every fact kept for each of ``serials``, in the order they were kept."""
        wanted = sorted(set(serials))
        if not wanted:
            return {}
        rows = await self.session.execute(
            sa.select(device_facts.c.serial, device_facts.c.fact)
            .where(device_facts.c.serial.in_(wanted))
            .order_by(device_facts.c.id)
        )
        found: dict[str, list[Fact]] = {}
        for serial, fact in rows:
            found.setdefault(serial, []).append(fact_of(fact))
        return found

    async def park(self, facts: Sequence[Fact]) -> None:
        if facts:
            await self.session.execute(
                sa.insert(parked_facts),
                [{"serial": f.serial, "at": f.at, "fact": fact_json(f)} for f in facts],
            )

    async def add_history(self, rows: Sequence[HistoryRow]) -> None:
        if rows:
            await self.session.execute(
                _ADD_HISTORY,
                {
                    "serial": [r.serial for r in rows],
                    "at": [r.at for r in rows],
                    "kind": [r.kind for r in rows],
                    "summary": [r.summary for r in rows],
                    "detail": [r.detail for r in rows],
                    "source_event_id": [r.source_event_id for r in rows],
                },
            )

    async def add_failures(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert failures not recorded yet; the ids that were new."""
        if not rows:
            return set()
        result = await self.session.execute(
            insert(failures)
            .on_conflict_do_nothing(index_elements=[failures.c.failure_id])
            .returning(failures.c.failure_id),
            rows,
        )
        return set(result.scalars())

    async def reported(self, serials: Iterable[str]) -> dict[str, Reported]:
        """What a monitoring report needs of each of ``serials`` that is a device."""
        wanted = sorted(set(serials))
        if not wanted:
            return {}
        rows = await self.session.execute(
            sa.select(
                devices.c.serial, devices.c.sku, devices.c.firmware_version, devices.c.firmware_at
            ).where(devices.c.serial.in_(wanted))
        )
        return {
            row.serial: Reported(row.sku, row.firmware_version, row.firmware_at) for row in rows
        }

    async def set_health(self, health: dict[str, str]) -> None:
        if health:
            await self.session.execute(
                sa.update(devices)
                .where(devices.c.serial == sa.bindparam("b_serial"))
                .values(health=sa.bindparam("b_health"), updated_at=sa.func.now()),
                [{"b_serial": serial, "b_health": value} for serial, value in health.items()],
            )

    async def learn_macs(self, macs: dict[str, str]) -> None:
        """Record the MAC the network reports for each device."""
        if macs:
            await self.session.execute(
                sa.update(devices)
                .where(devices.c.serial == sa.bindparam("b_serial"))
                .values(mac=sa.bindparam("b_mac")),
                [{"b_serial": serial, "b_mac": mac} for serial, mac in macs.items()],
            )

    async def keep_sightings(self, rows: Sequence[dict[str, Any]]) -> None:
        """The latest sighting of each serial; an older one than kept changes nothing."""
        if not rows:
            return
        statement = insert(sightings)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[sightings.c.serial],
                set_={
                    "mac": sa.func.coalesce(statement.excluded.mac, sightings.c.mac),
                    "site": sa.func.coalesce(statement.excluded.site, sightings.c.site),
                    "source": statement.excluded.source,
                    "seen_at": statement.excluded.seen_at,
                    "firmware_version": sa.func.coalesce(
                        statement.excluded.firmware_version, sightings.c.firmware_version
                    ),
                },
                where=statement.excluded.seen_at >= sightings.c.seen_at,
            ),
            rows,
        )

    async def active_alerts(self, keys: Iterable[str]) -> dict[str, ActiveAlert]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = await self.session.execute(
            sa.select(active_alerts).where(active_alerts.c.dedup_key.in_(wanted))
        )
        return {row.dedup_key: ActiveAlert(**row._mapping) for row in rows}

    async def active_alerts_of(self, kinds: Iterable[str]) -> dict[str, ActiveAlert]:
        """Every active alert of ``kinds``, by dedup_key."""
        wanted = sorted(set(kinds))
        if not wanted:
            return {}
        rows = await self.session.execute(
            sa.select(active_alerts).where(active_alerts.c.kind.in_(wanted))
        )
        return {row.dedup_key: ActiveAlert(**row._mapping) for row in rows}

    async def raise_alerts(self, raised: Sequence[ActiveAlert]) -> None:
        if raised:
            await self.session.execute(
                insert(active_alerts).on_conflict_do_nothing(),
                [vars_of(alert) for alert in raised],
            )

    async def resolve_alerts(self, keys: Iterable[str]) -> None:
        wanted = sorted(set(keys))
        if wanted:
            await self.session.execute(
                sa.delete(active_alerts).where(active_alerts.c.dedup_key.in_(wanted))
            )

    async def has_model(self, sku: str) -> bool:
        """Whether the catalog copy has the model."""
        items = CATALOG_COPY.items
        found = await self.session.scalar(sa.select(sa.exists().where(items.c.sku == sku)))
        return bool(found)

    async def set_firmware_minimum(self, minimum: FirmwareMinimum) -> None:
        statement = insert(firmware_minimums).values(**vars_of(minimum))
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[firmware_minimums.c.sku],
                set_={
                    name: statement.excluded[name]
                    for name in FirmwareMinimum.__slots__
                    if name != "sku"
                },
            )
        )

    async def remove_firmware_minimum(self, sku: str) -> bool:
        """Remove the model's minimum; whether it had one."""
        result = await self.session.execute(
            sa.delete(firmware_minimums)
            .where(firmware_minimums.c.sku == sku)
            .returning(firmware_minimums.c.sku)
        )
        return result.first() is not None


def vars_of(row: ActiveAlert | FirmwareMinimum) -> dict[str, Any]:
    return {name: getattr(row, name) for name in type(row).__slots__}


async def follow_locations(session: AsyncSession, codes: list[str]) -> None:
    """Keep each device's location kind and region those of its location in the catalog
    copy: a location the copy learns of after a device moved there (assets deployed after
    stock, replaying both topics), or one the catalog moved to another region."""
    copy = CATALOG_COPY.locations
    await session.execute(
        sa.update(devices)
        .where(
            devices.c.location == copy.c.code,
            copy.c.code.in_(codes),
            sa.or_(
                devices.c.region.is_distinct_from(copy.c.region),
                devices.c.location_kind.is_distinct_from(copy.c.kind),
            ),
        )
        .values(region=copy.c.region, location_kind=copy.c.kind, updated_at=sa.func.now())
    )


def firmware_known_before(at: Any) -> sa.ColumnElement[bool]:
    """The device's recorded firmware is older than ``at`` (or none is): the one rule for
    monitoring reports and firmware upgrades alike, so the latest report wins."""
    return sa.or_(devices.c.firmware_at.is_(None), devices.c.firmware_at <= at)


def _device(row: sa.Row[Any]) -> Device:
    return Device(
        serial=row.serial,
        sku=row.sku,
        state=DeviceState(row.state),
        as_of=row.as_of,
        facts_until=row.facts_until,
        received_at=row.received_at,
        location=row.location,
        location_kind=LocationKind(row.location_kind) if row.location_kind else None,
        region=row.region,
        job_id=row.job_id,
        installed_since=row.installed_since,
        operating_hours=row.operating_hours,
    )


def fact_json(fact: Fact) -> dict[str, Any]:
    """A fact as the JSON a parked row keeps."""
    return {
        "serial": fact.serial,
        "sku": fact.sku,
        "at": fact.at.isoformat(),
        "to_state": fact.to_state.value if fact.to_state else None,
        "reason": fact.reason,
        "location": fact.location,
        "location_kind": fact.location_kind.value if fact.location_kind else None,
        "region": fact.region,
        "job_id": fact.job_id,
        "failure": [fact.failure.source.value, fact.failure.symptom] if fact.failure else None,
        "source_event_id": str(fact.source_event_id) if fact.source_event_id else None,
    }


def fact_of(document: dict[str, Any] | str) -> Fact:
    data = json.loads(document) if isinstance(document, str) else document
    failure = data["failure"]
    return Fact(
        serial=data["serial"],
        sku=data["sku"],
        at=datetime.fromisoformat(data["at"]),
        to_state=DeviceState(data["to_state"]) if data["to_state"] else None,
        reason=data["reason"],
        location=data["location"],
        location_kind=LocationKind(data["location_kind"]) if data["location_kind"] else None,
        region=data["region"],
        job_id=data["job_id"],
        failure=Failure(FailureSource(failure[0]), failure[1]) if failure else None,
        source_event_id=_uuid(data["source_event_id"]),
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
