"""Use cases of the records people keep of a device over HTTP: maintenance, warranty,
reported failures, RMAs and disposal.

Each ``verb_noun(cmd, uow)`` runs inside the unit of work the runtime's
:func:`~stockwire.runtime.http.idempotency.execute` opens: it checks the command, loads
and locks the device, asks the domain, and writes the record, the timeline rows and the
outbox events; a state change goes through :func:`handlers.record_changes`, as stock's
movements do. ``execute`` keeps the answer for an Idempotency-Key in the same transaction
and commits once.
"""

import uuid
from dataclasses import dataclass

from stockwire.assets import handlers, queries
from stockwire.assets.domain import records
from stockwire.assets.domain.devices import Device, FailureNoted
from stockwire.assets.domain.records import (
    CloseRma,
    DisposeDevice,
    Maintenance,
    OpenRma,
    RecordMaintenance,
    ReportFailure,
    Rma,
    SetWarranty,
    ShipRma,
)
from stockwire.assets.queries import DeviceRow
from stockwire.assets.repository import HistoryRow
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.assets import (
    DeviceDisposed,
    MaintenanceRecorded,
    RmaClosed,
    RmaOpened,
)
from stockwire.contracts.ids import new_id
from stockwire.contracts.vocabulary import DeviceState, MaintenanceKind
from stockwire.runtime.domain_errors import Conflict, NotFound
from stockwire.runtime.plain_text import clip


@dataclass(frozen=True, slots=True)
class Reported:
    """A failure reported, and the state it left the device in."""

    failure: FailureNoted
    state: DeviceState


@dataclass(frozen=True, slots=True)
class Disposed:
    disposal: DisposeDevice
    sku: str


async def record_maintenance(cmd: RecordMaintenance, uow: AssetsUnitOfWork) -> Maintenance:
    """Append to the device's maintenance log; a firmware upgrade later than the firmware
    last reported becomes the device's firmware."""
    records.check(cmd, uow.now())
    device = await _device(cmd.serial, uow)
    records.writable(device)
    entry = Maintenance.of(cmd, device.sku, str(new_id()))
    await append_maintenance(entry, uow)
    return entry


async def append_maintenance(
    entry: Maintenance, uow: AssetsUnitOfWork, source_event_id: uuid.UUID | None = None
) -> None:
    """Append ``entry`` to its device's log, published and in its timeline; a firmware
    upgrade later than the firmware last reported becomes the device's firmware. A
    maintenance HTTP command and a firmware change monitoring reports both end here."""
    await uow.records.add_maintenance(
        {
            "maintenance_id": entry.maintenance_id,
            "serial": entry.serial,
            "sku": entry.sku,
            "kind": entry.kind.value,
            "performed_by": entry.performed_by,
            "performed_at": entry.performed_at,
            "outcome": entry.outcome,
            "cost": entry.cost,
            "currency": entry.currency,
            "firmware_version": entry.firmware_version,
            "note": entry.note,
        }
    )
    upgrade = entry.firmware_version if entry.kind is MaintenanceKind.FIRMWARE_UPGRADE else None
    firmware = None
    if upgrade is not None and await uow.records.note_firmware(
        entry.serial, upgrade, entry.performed_at
    ):
        firmware = upgrade
    uow.publish(
        MaintenanceRecorded(
            maintenance_id=entry.maintenance_id,
            serial=entry.serial,
            sku=entry.sku,
            kind=entry.kind,
            performed_by=entry.performed_by,
            performed_at=entry.performed_at,
            outcome=entry.outcome,
            cost=entry.cost,
            currency=entry.currency,
            firmware_version=entry.firmware_version,
            note=entry.note,
            source_event_id=source_event_id,
        ),
        source_event_id,
    )
    uow.note(
        HistoryRow(
            entry.serial,
            entry.performed_at,
            "maintenance",
            clip(f"{entry.kind.value} by {entry.performed_by}: {entry.outcome}"),
            {
                "maintenance_id": entry.maintenance_id,
                "kind": entry.kind.value,
                "performed_by": entry.performed_by,
                "firmware_version": firmware,
            },
        )
    )


async def set_warranty(cmd: SetWarranty, uow: AssetsUnitOfWork) -> DeviceRow:
    """Set the device's own warranty end, or clear it so the model's applies again."""
    records.check(cmd, uow.now())
    device = await _device(cmd.serial, uow)
    records.writable(device)
    await uow.records.set_warranty(cmd.serial, cmd.ends_on)
    summary = (
        f"warranty set by hand to end on {cmd.ends_on.isoformat()}"
        if cmd.ends_on is not None
        else "warranty set by hand cleared: the model's applies"
    )
    ends_on = cmd.ends_on.isoformat() if cmd.ends_on else None
    uow.note(HistoryRow(cmd.serial, uow.now(), "warranty", summary, {"ends_on": ends_on}))
    row = await queries.get_device(await uow.session.connection(), cmd.serial)
    assert row is not None, "the device is locked in this transaction"
    return row


async def report_failure(cmd: ReportFailure, uow: AssetsUnitOfWork) -> Reported:
    """A failure someone saw: recorded, and the device faulty where the state machine
    allows it."""
    records.check(cmd, uow.now())
    device = await _device(cmd.serial, uow)
    events = records.applied(device, records.failure_fact(device, cmd), at_field="failed_at")
    await handlers.record_changes([device], events, uow)
    [failure] = [e for e in events if isinstance(e, FailureNoted)]
    return Reported(failure, device.state)


async def open_rma(cmd: OpenRma, uow: AssetsUnitOfWork) -> Rma:
    """Open an RMA with the vendor for a faulty device: it goes to rma_open."""
    records.check(cmd, uow.now())
    device = await _device(cmd.serial, uow)
    already = await uow.records.open_rma_of(cmd.serial)
    if already is not None:
        raise Conflict("rma_open", f"serial {cmd.serial} has {already.name} open")
    at = records.assets_time(device, uow.now())
    rma = Rma(cmd.vendor, cmd.rma_number, device.serial, device.sku, cmd.reason, cmd.opened_by, at)
    fact = records.rma_fact(device, DeviceState.RMA_OPEN, rma, f"opened: {cmd.reason}", at)
    events = records.applied(device, fact, at_field="opened_at")
    if not await uow.records.add_rma(rma):
        raise Conflict("rma_number", f"{rma.name} exists already")
    uow.publish(
        RmaOpened(
            serial=rma.serial,
            sku=rma.sku,
            vendor=rma.vendor,
            rma_number=rma.rma_number,
            reason=rma.reason,
            opened_by=rma.opened_by,
            opened_at=rma.opened_at,
        )
    )
    uow.note(
        HistoryRow(
            rma.serial,
            at,
            "rma_opened",
            clip(f"{rma.name} opened by {rma.opened_by}: {rma.reason}"),
            {"vendor": rma.vendor, "rma_number": rma.rma_number, "opened_by": rma.opened_by},
        )
    )
    await handlers.record_changes([device], events, uow)
    return rma


async def ship_rma(cmd: ShipRma, uow: AssetsUnitOfWork) -> Rma:
    """The device left for the vendor: it is in repair."""
    records.check(cmd, uow.now())
    rma = await _rma(cmd.vendor, cmd.rma_number, uow)
    device = await _device(rma.serial, uow)
    at = records.assets_time(device, uow.now())
    rma.ship(at)
    fact = records.rma_fact(device, DeviceState.IN_REPAIR, rma, "shipped to the vendor", at)
    events = records.applied(device, fact, at_field="shipped_at")
    await uow.records.save_rma(rma)
    uow.note(
        HistoryRow(
            rma.serial,
            at,
            "rma_shipped",
            clip(f"{rma.name}: shipped to the vendor"),
            {"vendor": rma.vendor, "rma_number": rma.rma_number},
        )
    )
    await handlers.record_changes([device], events, uow)
    return rma


async def close_rma(cmd: CloseRma, uow: AssetsUnitOfWork) -> Rma:
    """The vendor's answer: repaired (refurbished), replaced by another unit (retired;
    the replacement is linked to it, now or when it first appears) or scrapped
    (retired)."""
    records.check(cmd, uow.now())
    rma = await _rma(cmd.vendor, cmd.rma_number, uow)
    wanted = [rma.serial, *([cmd.replacement_serial] if cmd.replacement_serial else [])]
    found = await uow.assets.devices_for_update(wanted)
    device = found[rma.serial]
    at = records.assets_time(device, uow.now())
    to_state = rma.close(cmd, at)
    fact = records.rma_fact(device, to_state, rma, f"closed: {cmd.outcome.value}", at)
    events = records.applied(device, fact, at_field="closed_at", must_move=False)
    if rma.replacement_serial is not None:
        await _replace(rma, found.get(rma.replacement_serial), uow)
    await uow.records.save_rma(rma)
    assert rma.outcome is not None and rma.closed_at is not None
    uow.publish(
        RmaClosed(
            serial=rma.serial,
            sku=rma.sku,
            vendor=rma.vendor,
            rma_number=rma.rma_number,
            outcome=rma.outcome,
            replacement_serial=rma.replacement_serial,
            opened_at=rma.opened_at,
            closed_at=rma.closed_at,
            note=rma.note,
        )
    )
    replaced = f", replaced by {rma.replacement_serial}" if rma.replacement_serial else ""
    uow.note(
        HistoryRow(
            rma.serial,
            at,
            "rma_closed",
            clip(f"{rma.name} closed: {rma.outcome.value}{replaced}"),
            {
                "vendor": rma.vendor,
                "rma_number": rma.rma_number,
                "outcome": rma.outcome.value,
                "replacement_serial": rma.replacement_serial,
            },
        )
    )
    await handlers.record_changes([device], events, uow)
    return rma


async def dispose_device(cmd: DisposeDevice, uow: AssetsUnitOfWork) -> Disposed:
    """A retired device leaves for good, with the certificate that proves how."""
    records.check(cmd, uow.now())
    device = await _device(cmd.serial, uow)
    events = records.applied(device, records.disposal_fact(device, cmd), at_field="disposed_at")
    await uow.records.add_disposal(
        {
            "serial": cmd.serial,
            "sku": device.sku,
            "method": cmd.method.value,
            "certificate_reference": cmd.certificate_reference,
            "handled_by": cmd.handled_by,
            "disposed_by": cmd.disposed_by,
            "disposed_at": cmd.disposed_at,
            "note": cmd.note,
        }
    )
    uow.publish(
        DeviceDisposed(
            serial=cmd.serial,
            sku=device.sku,
            method=cmd.method,
            certificate_reference=cmd.certificate_reference,
            handled_by=cmd.handled_by,
            disposed_by=cmd.disposed_by,
            disposed_at=cmd.disposed_at,
            note=cmd.note,
        )
    )
    uow.note(
        HistoryRow(
            cmd.serial,
            cmd.disposed_at,
            "disposed",
            clip(
                f"disposed of ({cmd.method.value}) by {cmd.disposed_by}, "
                f"certificate {cmd.certificate_reference}"
            ),
            {
                "method": cmd.method.value,
                "certificate_reference": cmd.certificate_reference,
                "handled_by": cmd.handled_by,
                "disposed_by": cmd.disposed_by,
            },
        )
    )
    await handlers.record_changes([device], events, uow)
    return Disposed(cmd, device.sku)


async def _device(serial: str, uow: AssetsUnitOfWork) -> Device:
    """The device, locked until the transaction ends; NotFound if assets knows nothing
    of the serial."""
    device = (await uow.assets.devices_for_update([serial])).get(serial)
    if device is None:
        raise NotFound("device", serial)
    return device


async def _rma(vendor: str, rma_number: str, uow: AssetsUnitOfWork) -> Rma:
    rma = await uow.records.rma_for_update(vendor, rma_number)
    if rma is None:
        raise NotFound(f"RMA of {vendor}", rma_number)
    return rma


async def _replace(rma: Rma, replacement: Device | None, uow: AssetsUnitOfWork) -> None:
    """Link the replacement unit to the one it replaces: now if assets knows it, else
    when it first appears (:func:`handlers.record_changes`)."""
    serial = rma.replacement_serial
    assert serial is not None
    other = await uow.records.rma_replaced_by(serial)
    if other is not None:
        raise Conflict("replacement_serial", f"{other.name} named {serial} its replacement")
    if replacement is None:
        return
    records.writable(replacement)
    if not await uow.records.link_replacement(serial, rma.serial):
        raise Conflict("replacement_serial", f"serial {serial} replaces another unit already")
    assert rma.closed_at is not None
    uow.note(
        handlers.replacement_row(serial, rma.serial, rma.vendor, rma.rma_number, rma.closed_at)
    )
