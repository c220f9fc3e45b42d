"""What network monitoring reports of devices: failures of devices in service, health,
firmware, and where the network saw each serial (kept for reconciliation)."""

import uuid
from collections.abc import Mapping, Sequence

from stockwire.assets import device_failures, handlers
from stockwire.assets.domain.mac import normal_mac
from stockwire.assets.domain.monitoring import ReportKind
from stockwire.assets.domain.records import Maintenance
from stockwire.assets.domain.reports import Report, failure_fact, health_after
from stockwire.assets.domain.reports import summary as report_summary
from stockwire.assets.handlers_records import append_maintenance
from stockwire.assets.repository import HistoryRow, Reported
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.vocabulary import MaintenanceKind
from stockwire.runtime.plain_text import clip

FIRMWARE_ENTRIES = uuid.UUID("0b6f5d0e-7a51-4c44-9a3e-61f2f3b7c2d9")


async def apply_reports(reports: Sequence[Report], uow: AssetsUnitOfWork) -> None:
    """What monitoring reported: failures of devices in service, health, and where the
    network saw each serial (kept for reconciliation, also for serials the records do not
    have)."""
    async with uow:
        found = await uow.assets.reported(r.serial for r in reports)
        skus = {serial: device.sku for serial, device in found.items()}
        known = [r for r in reports if r.serial in skus]
        emitted = await handlers.apply_facts(
            [failure_fact(r, skus[r.serial]) for r in known if r.kind is ReportKind.FAILED],
            uow,
        )
        await device_failures.tell(emitted, known, skus, uow)
        health = {r.serial: h.value for r in known if (h := health_after(r)) is not None}
        await uow.assets.set_health(health)
        await uow.assets.learn_macs({r.serial: normal_mac(r.mac) for r in known if r.mac})
        await _firmware_changes(known, found, uow)
        latest = {r.serial: r for r in sorted(reports, key=lambda each: each.at)}
        await uow.assets.keep_sightings(
            [
                {
                    "serial": r.serial,
                    "mac": normal_mac(r.mac) if r.mac else None,
                    "site": r.site,
                    "source": r.source,
                    "seen_at": r.at,
                    "firmware_version": r.firmware_version,
                }
                for r in latest.values()
            ]
        )
        for r in known:
            uow.note(
                HistoryRow(
                    r.serial,
                    r.at,
                    "monitoring",
                    clip(report_summary(r)),
                    {
                        "report": r.kind.value,
                        "source": r.source,
                        "severity": r.severity,
                        "site": r.site,
                        "firmware_version": r.firmware_version,
                    },
                    r.source_event_id,
                )
            )
        await uow.commit()


async def _firmware_changes(
    reports: Sequence[Report], found: Mapping[str, Reported], uow: AssetsUnitOfWork
) -> None:
    """A firmware a report names that differs from the device's, and is newer than what
    was last recorded, is an upgrade (done by automation, say an ACS): it goes in the
    device's maintenance log like one a technician records, and becomes its firmware."""
    current = {s: (d.firmware_version, d.firmware_at) for s, d in found.items()}
    for r in sorted(reports, key=lambda each: each.at):
        if r.firmware_version is None:
            continue
        version, since = current.get(r.serial, (None, None))
        if version == r.firmware_version or (since is not None and since > r.at):
            continue
        entry = Maintenance(
            maintenance_id=str(uuid.uuid5(FIRMWARE_ENTRIES, str(r.source_event_id))),
            serial=r.serial,
            sku=found[r.serial].sku,
            kind=MaintenanceKind.FIRMWARE_UPGRADE,
            performed_by=r.source,
            performed_at=r.at,
            outcome=clip(f"{r.source} reports firmware {r.firmware_version}", 500),
            cost=None,
            currency=None,
            firmware_version=r.firmware_version,
            note=None,
        )
        await append_maintenance(entry, uow, r.source_event_id)
        current[r.serial] = (r.firmware_version, r.at)
