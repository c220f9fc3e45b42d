"""Parts and a job: issued into the job's custody, installed at the customer's site (from
custody, else backflushed from the location's stock), returned, or swapped for the device
they replace.

Custody is what a job holds: issuing puts parts in it; installing or returning takes
what the job holds first, and only what it does not hold moves a balance."""

from dataclasses import replace
from decimal import Decimal
from typing import TypeGuard

from stockwire.contracts.vocabulary import MovementKind, RejectionReason, ReturnCondition
from stockwire.stock.domain.checks import (
    active_location,
    arriving,
    catalog_item,
    in_stock_at,
    serials_fit,
    sku_of,
)
from stockwire.stock.domain.commands import InstallPart, IssueParts, Line, ReturnPart, SwapDevice
from stockwire.stock.domain.draft import Draft, Refused
from stockwire.stock.domain.events import Movement
from stockwire.stock.domain.lots import lot_of, take_lots
from stockwire.stock.domain.model import (
    NOT_TRACKED,
    ONE,
    Amounts,
    BalanceKey,
    ItemInfo,
    JobPartKey,
    SerialRecord,
    SerialState,
    quarantine_for,
)
from stockwire.stock.domain.reservations import fulfil

# ---------------------------------------------------------------------- issues


def issue_parts(draft: Draft, cmd: IssueParts) -> None:
    """Parts leave the location; issued to a job, they fulfil its reservations there and
    enter its custody."""
    draft.job_id = cmd.job_id
    reason_code = _issue_reason(cmd)
    for line in cmd.lines:
        draft.focus(MovementKind.ISSUE, line.sku, cmd.from_location, line.quantity, line.lot)
        sku = sku_of(draft, line.sku, line.serials)
        item = catalog_item(draft, sku)
        active_location(draft, cmd.from_location)
        serials_fit(item, line)
        portions: list[tuple[BalanceKey, Decimal, str]] = []
        if item.serialized:
            for serial in line.serials:
                record = in_stock_at(draft, item, serial, cmd.from_location)
                key = BalanceKey(sku, cmd.from_location, NOT_TRACKED, serial)
                portions.append((key, ONE, record.lot))
        else:
            for lot, quantity in take_lots(draft, item, cmd.from_location, line.quantity, line.lot):
                key = BalanceKey(sku, cmd.from_location, lot, NOT_TRACKED)
                portions.append((key, quantity, lot))
        for key, quantity, lot in portions:
            legs = [(key, Amounts(on_hand=-quantity))]
            if cmd.job_id is not None:
                fulfilled = fulfil(draft, cmd.job_id, key.pair, quantity)
                if fulfilled:
                    reserved_key = BalanceKey(sku, cmd.from_location, NOT_TRACKED, NOT_TRACKED)
                    legs.append((reserved_key, Amounts(reserved=-fulfilled)))
            movement = draft.record(
                MovementKind.ISSUE,
                reason_code,
                sku,
                cmd.from_location,
                quantity,
                legs,
                from_location=cmd.from_location,
                job_id=cmd.job_id,
                lot=lot,
                serial=key.serial,
            )
            if cmd.job_id is not None:
                draft.change_custody(
                    cmd.job_id, sku, key.lot, key.serial, quantity, cmd.from_location
                )
            if key.serial:
                held = draft.serial(key.serial)
                assert held is not None
                draft.move_serial(
                    replace(
                        held,
                        state=SerialState.ISSUED,
                        job_id=cmd.job_id,
                        last_movement_id=movement.movement_id,
                    )
                )


def _issue_reason(cmd: IssueParts) -> str:
    """A scanner's pick, an issue to a job, or parts taken without a job by a person."""
    if cmd.scanned:
        return "scan_pick"
    return "job_issue" if cmd.job_id is not None else "manual_issue"


# ---------------------------------------------------------------------- installs


def install_part(draft: Draft, cmd: InstallPart) -> None:
    draft.job_id = cmd.job_id
    _install(draft, cmd.job_id, cmd.from_location, cmd.customer_site, cmd.line)


def _install(draft: Draft, job_id: str | None, from_location: str, site: str, line: Line) -> None:
    draft.focus(MovementKind.INSTALL, line.sku, from_location, line.quantity, line.lot)
    sku = sku_of(draft, line.sku, line.serials)
    item = catalog_item(draft, sku)
    serials_fit(item, line)
    if item.serialized:
        for serial in line.serials:
            draft.focus_on.serial = serial
            record = draft.serial(serial)
            if job_id is not None and _issued_to(record, job_id, sku):
                movement = _install_from_custody(
                    draft, job_id, item, site, record.location, ONE, NOT_TRACKED, serial
                )
            else:
                active_location(draft, from_location)
                record = in_stock_at(draft, item, serial, from_location)
                key = BalanceKey(sku, from_location, NOT_TRACKED, serial)
                movement = draft.record(
                    MovementKind.INSTALL,
                    "install_backflush",
                    sku,
                    from_location,
                    ONE,
                    [(key, Amounts(on_hand=-ONE))],
                    from_location=from_location,
                    to_location=site,
                    job_id=job_id,
                    serial=serial,
                    lot=record.lot,
                )
            draft.move_serial(
                replace(
                    record,
                    location=site,
                    state=SerialState.INSTALLED,
                    job_id=job_id,
                    last_movement_id=movement.movement_id,
                )
            )
        return
    remaining = line.quantity
    if job_id is not None:
        held, remaining = _held_by_job(draft, job_id, sku, line.lot, remaining)
        for part, take, issued_from in held:
            _install_from_custody(
                draft, job_id, item, site, issued_from, take, part.lot, NOT_TRACKED
            )
    if remaining > 0:
        active_location(draft, from_location)
        for lot, quantity in take_lots(draft, item, from_location, remaining, line.lot):
            key = BalanceKey(sku, from_location, lot, NOT_TRACKED)
            draft.record(
                MovementKind.INSTALL,
                "install_backflush",
                sku,
                from_location,
                quantity,
                [(key, Amounts(on_hand=-quantity))],
                from_location=from_location,
                to_location=site,
                job_id=job_id,
                lot=lot,
            )


def _install_from_custody(
    draft: Draft,
    job_id: str,
    item: ItemInfo,
    site: str,
    issued_from: str,
    quantity: Decimal,
    lot: str,
    serial: str,
) -> Movement:
    """The part was issued to the job: it leaves the job's custody, no balance moves."""
    draft.change_custody(job_id, item.sku, lot, serial, -quantity, issued_from)
    record = draft.serial(serial) if serial else None
    return draft.record(
        MovementKind.INSTALL,
        "install_from_job",
        item.sku,
        site,
        quantity,
        [],
        from_location=issued_from,
        to_location=site,
        job_id=job_id,
        serial=serial,
        lot=record.lot if record is not None else lot,
    )


def _issued_to(record: SerialRecord | None, job_id: str, sku: str) -> TypeGuard[SerialRecord]:
    """Whether the serial, as ``sku``, is in ``job_id``'s custody."""
    return (
        record is not None
        and record.state == SerialState.ISSUED
        and record.job_id == job_id
        and record.sku == sku
    )


def _held_by_job(
    draft: Draft, job_id: str, sku: str, lot: str | None, quantity: Decimal
) -> tuple[list[tuple[JobPartKey, Decimal, str]], Decimal]:
    """What of ``quantity`` the job holds of a non-serial ``sku`` (of ``lot``, if named),
    custody key by key: each key, how much to take from it and where it was issued from;
    and what the job does not hold."""
    held: list[tuple[JobPartKey, Decimal, str]] = []
    remaining = quantity
    for key in draft.custody_keys(job_id, sku):
        if remaining <= 0:
            break
        if key.serial or (lot is not None and key.lot != lot):
            continue
        holding = draft.held(key)
        if holding <= 0:
            continue
        take = min(holding, remaining)
        part = draft.custody.get(key) or draft.state.job_parts[key]
        held.append((key, take, part.from_location))
        remaining -= take
    return held, remaining


# ---------------------------------------------------------------------- returns


def return_part(draft: Draft, cmd: ReturnPart) -> None:
    draft.job_id = cmd.job_id
    _return(
        draft,
        cmd.job_id,
        cmd.to_location,
        cmd.line,
        cmd.condition,
        f"return_{cmd.condition.value}",
    )


def _return(
    draft: Draft,
    job_id: str | None,
    to_location: str,
    line: Line,
    condition: ReturnCondition,
    reason_code: str,
) -> None:
    draft.focus(MovementKind.RETURN, line.sku, to_location, line.quantity, line.lot)
    sku = sku_of(draft, line.sku, line.serials)
    item = catalog_item(draft, sku, retired_ok=True)
    destination = _return_destination(draft, to_location, condition)
    draft.focus_on.location = destination
    serials_fit(item, line)
    details = {"to_location": destination, "condition": condition, "job_id": job_id}
    if item.serialized:
        for serial in line.serials:
            draft.focus_on.serial = serial
            record = draft.serial(serial)
            if job_id is not None and _issued_to(record, job_id, sku):
                draft.change_custody(job_id, record.sku, NOT_TRACKED, serial, -ONE, record.location)
            else:
                record = arriving(draft, serial)
            key = BalanceKey(sku, destination, NOT_TRACKED, serial)
            lot = record.lot if record is not None else (line.lot or NOT_TRACKED)
            movement = draft.record(
                MovementKind.RETURN,
                reason_code,
                sku,
                destination,
                ONE,
                [(key, Amounts(on_hand=ONE))],
                serial=serial,
                lot=lot,
                from_location=record.location if record is not None else None,
                **details,
            )
            draft.move_serial(
                SerialRecord(
                    serial,
                    sku,
                    destination,
                    SerialState.IN_STOCK,
                    lot,
                    None,
                    movement.movement_id,
                )
            )
        return
    remaining = line.quantity
    if job_id is not None:
        held, remaining = _held_by_job(draft, job_id, sku, line.lot, remaining)
        for part, take, issued_from in held:
            draft.change_custody(job_id, sku, part.lot, NOT_TRACKED, -take, issued_from)
            lot = lot_of(item, part.lot)
            draft.record(
                MovementKind.RETURN,
                reason_code,
                sku,
                destination,
                take,
                [(BalanceKey(sku, destination, lot, NOT_TRACKED), Amounts(on_hand=take))],
                lot=lot,
                from_location=issued_from,
                **details,
            )
    if remaining > 0:
        lot = lot_of(item, line.lot)
        draft.record(
            MovementKind.RETURN,
            reason_code,
            sku,
            destination,
            remaining,
            [(BalanceKey(sku, destination, lot, NOT_TRACKED), Amounts(on_hand=remaining))],
            lot=lot,
            **details,
        )


def _return_destination(draft: Draft, to_location: str, condition: ReturnCondition) -> str:
    """Good stock goes where it was returned; faulty or unknown to the nearest
    quarantine location (see :func:`quarantine_for`)."""
    active_location(draft, to_location)
    if condition == ReturnCondition.GOOD:
        return to_location
    quarantine = quarantine_for(draft.state, to_location)
    if quarantine is None:
        raise Refused(
            RejectionReason.NO_QUARANTINE,
            f"no active quarantine location under {to_location!r} or its ancestors for "
            f"{condition.value} stock; create one in the catalog",
        )
    return quarantine


# ---------------------------------------------------------------------- device swaps


def swap_device(draft: Draft, cmd: SwapDevice) -> None:
    """One visit installs a device and takes back the one it replaces."""
    draft.job_id = cmd.job_id
    installed = _without_serials_unless_tracked(draft, cmd.installed)
    removed = _without_serials_unless_tracked(draft, cmd.removed)
    _install(draft, cmd.job_id, cmd.from_location, cmd.customer_site, installed)
    _return(draft, cmd.job_id, cmd.from_location, removed, cmd.removed_condition, "swap_removed")


def _without_serials_unless_tracked(draft: Draft, line: Line) -> Line:
    """A swap names serials for both devices; a model not tracked by serial counts as
    one piece."""
    item = draft.state.items.get(line.sku or "")
    if item is not None and not item.serialized:
        return replace(line, serials=())
    return line
