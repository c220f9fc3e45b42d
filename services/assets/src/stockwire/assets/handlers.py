"""Use cases: each opens the unit of work, loads, asks the domain, saves, commits once."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from stockwire.assets import device_failures
from stockwire.assets.domain.alerts import Alert, Resolution, dedup_key
from stockwire.assets.domain.devices import (
    Device,
    DeviceEvent,
    Fact,
    StateChanged,
    TransitionRefused,
    rebuild,
    replay_parked,
)
from stockwire.assets.domain.firmware import SetMinimum
from stockwire.assets.domain.movements import Moved, Place, destination, movement_fact
from stockwire.assets.repository import FirmwareMinimum, HistoryRow
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.vocabulary import (
    AlertSeverity,
    AssetAlertKind,
    TransitionRejectionReason,
)
from stockwire.runtime.domain_errors import NotFound
from stockwire.runtime.http.idempotency import Answer, IdempotencyKeys, RequestKey
from stockwire.runtime.plain_text import clip
from stockwire.runtime.transient import retry_transaction

REJECTED = AssetAlertKind.REJECTED_TRANSITION


async def apply_movements(moves: Sequence[Moved], uow: AssetsUnitOfWork) -> None:
    """Stock movements of serials: each device's timeline gets the movement, and its
    state follows where the state machine allows."""
    async with uow:
        places = await uow.assets.places(destination(m) for m in moves)
        facts = []
        for moved in moves:
            fact = movement_fact(moved, places.get(destination(moved), Place(None, None)))
            uow.note(
                HistoryRow(
                    moved.serial,
                    moved.at,
                    "movement",
                    clip(f"stock {moved.kind.value} ({moved.reason_code}) at {destination(moved)}"),
                    {
                        "kind": moved.kind.value,
                        "reason_code": moved.reason_code,
                        "sku": moved.sku,
                        "location": moved.location,
                        "from_location": moved.from_location,
                        "to_location": moved.to_location,
                        "job_id": moved.job_id,
                    },
                    moved.source_event_id,
                )
            )
            if fact is not None:
                facts.append(fact)
        await apply_facts(facts, uow)
        await uow.commit()


async def apply_facts(facts: Sequence[Fact], uow: AssetsUnitOfWork) -> list[DeviceEvent]:
    """Apply facts to their devices (loaded and locked), park those that come before
    their serial's first fact, and record what happened."""
    devices = await uow.assets.devices_for_update(f.serial for f in facts)
    parked = await uow.assets.parked({f.serial for f in facts} - devices.keys())
    emitted: list[DeviceEvent] = []
    for fact in facts:
        device = devices.get(fact.serial)
        if device is not None:
            before = len(device.events)
            device.apply(fact)
            emitted.extend(device.events[before:])
            continue
        created = Device.first(fact)
        if created is None:
            parked.setdefault(fact.serial, []).append(fact)
            uow.note(_parked_row(fact))
            continue
        devices[fact.serial] = created
        replay_parked(created, parked.pop(fact.serial, []))
        emitted.extend(created.events)
    await uow.assets.park([fact for waiting in parked.values() for fact in waiting])
    late = [serial for serial, device in devices.items() if device.late]
    kept = await uow.assets.facts_of(late)
    for serial in late:
        device = devices[serial]
        told = len(device.events)
        devices[serial] = rebuilt = rebuild(device, [*kept.get(serial, []), *device.facts])
        emitted.extend(rebuilt.events[told:])
    await record_changes(list(devices.values()), emitted, uow)
    return emitted


async def record_changes(
    devices: Sequence[Device], events: Sequence[DeviceEvent], uow: AssetsUnitOfWork
) -> None:
    """Save the devices that changed and record what they did (``events``): timeline
    rows, failure records, outbox events, alerts on refusals. A device that just
    appeared and that an RMA named as a replacement is linked to the unit it replaces.
    Consumers and HTTP commands both end here."""
    await uow.assets.save_devices([d for d in devices if d.events])
    await uow.assets.keep_facts([fact for d in devices for fact in d.facts])
    await _link_replacements(events, uow)
    await uow.record_device_events(events)
    await _alert_on_refusals(events, uow)
    await device_failures.resolve_when_repaired(events, uow)


async def _link_replacements(events: Sequence[DeviceEvent], uow: AssetsUnitOfWork) -> None:
    appeared = [e for e in events if isinstance(e, StateChanged) and e.from_state is None]
    for link in await uow.records.link_new_replacements(e.serial for e in appeared):
        at = next(e.at for e in appeared if e.serial == link.serial)
        uow.note(replacement_row(link.serial, link.replaces, link.vendor, link.rma_number, at))


def replacement_row(
    serial: str, replaces: str, vendor: str, rma_number: str, at: datetime
) -> HistoryRow:
    """The timeline row of a unit that replaces another under an RMA."""
    return HistoryRow(
        serial,
        at,
        "replacement",
        clip(f"replaces {replaces} under RMA {rma_number} of {vendor}"),
        {"replaces_serial": replaces, "vendor": vendor, "rma_number": rma_number},
    )


def _parked_row(fact: Fact) -> HistoryRow:
    return HistoryRow(
        fact.serial,
        fact.at,
        "parked",
        clip(f"{fact.reason} waits for the serial's first fact (a receipt or stock found)"),
        {"to_state": fact.to_state.value if fact.to_state else None},
        fact.source_event_id,
    )


async def _alert_on_refusals(events: Sequence[DeviceEvent], uow: AssetsUnitOfWork) -> None:
    """A refused transition raises an alert naming the serial; the serial's next
    accepted state change resolves it (in the same batch too: raised, then resolved)."""
    raised: dict[str, TransitionRefused] = {}
    resolved: dict[str, StateChanged] = {}
    for event in events:
        if isinstance(event, TransitionRefused):
            raised[event.serial] = event
            resolved.pop(event.serial, None)
        elif isinstance(event, StateChanged):
            resolved[event.serial] = event
    await uow.raise_alerts([refusal_alert(refused) for refused in raised.values()])
    if resolved:
        await uow.resolve_alerts(
            [
                Resolution(
                    REJECTED.value,
                    dedup_key(REJECTED, changed.serial),
                    f"serial {changed.serial} moved on: now {changed.to_state.value}",
                    serial=changed.serial,
                    sku=changed.sku,
                    location=changed.location,
                )
                for changed in resolved.values()
            ]
        )


def refusal_alert(event: TransitionRefused) -> Alert:
    current = event.current.value if event.current else "unknown"
    severity = (
        AlertSeverity.CRITICAL
        if event.reason is TransitionRejectionReason.DISPOSED
        else AlertSeverity.WARNING
    )
    return Alert(
        kind=REJECTED,
        severity=severity,
        dedup_key=dedup_key(REJECTED, event.serial),
        summary=f"refused for serial {event.serial} ({event.sku}): {event.message}",
        serial=event.serial,
        sku=event.sku,
        location=event.location,
        labels={
            "serial": event.serial,
            "reason": event.reason.value,
            "current_state": current,
            "attempted_state": event.attempted.value,
        },
        cause=event.source_event_id,
    )


async def set_firmware_minimum(
    cmd: SetMinimum,
    uow: AssetsUnitOfWork,
    keys: IdempotencyKeys,
    request: RequestKey | None,
    answer: Callable[[FirmwareMinimum], Answer],
) -> Answer:
    """Set a model's minimum firmware (the catalog must know the model). The next sweep
    raises and resolves firmware alerts against it."""

    async def apply() -> Answer:
        if not await uow.assets.has_model(cmd.sku):
            raise NotFound("model", cmd.sku)
        minimum = FirmwareMinimum(cmd.sku, cmd.minimum_version, cmd.reason, cmd.set_by, uow.now())
        await uow.assets.set_firmware_minimum(minimum)
        return answer(minimum)

    return await _answer_once(uow, keys, request, apply)


async def remove_firmware_minimum(
    sku: str,
    uow: AssetsUnitOfWork,
    keys: IdempotencyKeys,
    request: RequestKey | None,
    answer: Answer,
) -> Answer:
    """Remove a model's minimum firmware; the next sweep resolves its firmware alerts."""

    async def apply() -> Answer:
        if not await uow.assets.remove_firmware_minimum(sku):
            raise NotFound("firmware minimum", sku)
        return answer

    return await _answer_once(uow, keys, request, apply)


async def _answer_once(
    uow: AssetsUnitOfWork,
    keys: IdempotencyKeys,
    request: RequestKey | None,
    apply: Callable[[], Awaitable[Answer]],
) -> Answer:
    """``apply()`` in one transaction, its answer kept for the request's Idempotency-Key
    (a repeat gets it without applying again); a transient failure is retried."""

    async def attempt() -> Answer:
        async with uow:
            reply = await keys.answer_once(uow.session, request, apply)
            await uow.commit()
            return reply

    return await retry_transaction(attempt)
