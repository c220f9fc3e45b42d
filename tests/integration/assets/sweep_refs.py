"""What the sweep and report tests share: installed devices, sightings the network
reports, catalog changes, firmware as the maintenance log would set it, and a sweep
that waits its turn (the service's own background sweep may hold the lock a moment)."""

from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from assets_refs import (
    Sites,
    device,
    device_in,
    eventually,
    item,
    life,
    outbox_events,
    publish,
    ref,
    sites,
)

from stockwire.assets.settings import AssetsSettings
from stockwire.assets.sweeps import Swept, sweep
from stockwire.assets.tables import CATALOG_COPY, sightings
from stockwire.contracts import network
from stockwire.runtime.service import ServiceRuntime


async def places(
    producer: AIOKafkaProducer, runtime: ServiceRuntime, region: str | None = None
) -> Sites:
    """A region's sites, once assets' catalog copy has them all (a device's region is its
    location's, as the copy says when the device moves there)."""
    made = await sites(producer, region)
    codes = [made.warehouse, made.van, made.customer, made.pop]
    table = CATALOG_COPY.locations

    async def copied() -> Any:
        async with runtime.engine.connect() as conn:
            return await conn.scalar(
                sa.select(sa.func.count()).select_from(table).where(table.c.code.in_(codes))
            )

    assert await eventually(copied, lambda found: found == len(codes)) == len(codes)
    return made


async def installed(
    producer: AIOKafkaProducer, reader: httpx.AsyncClient, s: Sites, sku: str, since: datetime
) -> str:
    """A new serial of ``sku`` received at ``since`` and installed at the customer site two
    hours later."""
    serial = ref("SN")
    for step in life(serial, sku, s, since):
        await publish(producer, step)
    found = await device_in(reader, serial, "installed")
    assert found is not None and found["device"]["state"] == "installed", found
    return serial


async def seen(
    producer: AIOKafkaProducer,
    runtime: ServiceRuntime,
    serial: str,
    site: str | None,
    mac: str | None = None,
) -> None:
    """The network reports ``serial`` at ``site``; returns once assets keeps the sighting."""
    envelope = await publish(
        producer,
        network.DeviceSeen(
            serial=serial,
            site=site,
            mac=mac,
            severity=network.Severity.INFO,
            source=network.MonitoringSource.LIBRENMS,
        ),
        producer_name="librenms",
    )

    async def kept() -> Any:
        async with runtime.engine.connect() as conn:
            return await conn.scalar(
                sa.select(sightings.c.seen_at).where(sightings.c.serial == serial)
            )

    at = await eventually(kept, lambda found: found is not None and found >= envelope.occurred_at)
    assert at is not None and at >= envelope.occurred_at


async def catalog_has(
    producer: AIOKafkaProducer, runtime: ServiceRuntime, sku: str, version: int = 1, **extra: Any
) -> None:
    """Publish ``sku`` at ``version`` and return once assets' catalog copy has it."""
    await publish(producer, item(sku, version=version, **extra), producer_name="catalog")

    async def copied() -> Any:
        async with runtime.engine.connect() as conn:
            return await conn.scalar(
                sa.select(CATALOG_COPY.items.c.version).where(CATALOG_COPY.items.c.sku == sku)
            )

    assert await eventually(copied, lambda found: found == version) == version


async def runs_firmware(writer: httpx.AsyncClient, serial: str, version: str | None) -> None:
    """The device runs ``version`` after a firmware upgrade in its maintenance log (None:
    no firmware recorded)."""
    if version is None:
        return
    answer = await writer.post(
        f"/api/v1/devices/{serial}/maintenance",
        json={
            "kind": "firmware_upgrade",
            "performed_by": "tech-0231",
            "performed_at": datetime.now(UTC).isoformat(),
            "outcome": "upgraded",
            "firmware_version": version,
        },
    )
    assert answer.status_code == 201, answer.text


async def swept(runtime: ServiceRuntime, settings: AssetsSettings, **when: Any) -> Swept:
    """A sweep by this test, once the background one (if sweeping) is done."""
    done = await eventually(lambda: sweep(runtime, settings, **when), lambda s: s is not None)
    assert done is not None
    return done


async def alerts(runtime: ServiceRuntime, key: str) -> list[tuple[str, dict[str, Any]]]:
    """The alert events published under ``key``: ("raised" or "resolved", payload)."""
    return [
        (e["event_type"].removeprefix("assets.alert."), e["payload"])
        for e in await outbox_events(runtime.engine, key)
    ]


async def warranty_ends(reader: httpx.AsyncClient, serial: str, changed_from: Any) -> Any:
    """The device's warranty end once it is other than ``changed_from``."""
    found = await eventually(
        lambda: device(reader, serial),
        lambda d: d is not None and d["device"]["warranty_ends"] != changed_from,
    )
    assert found is not None
    return found["device"]["warranty_ends"]
