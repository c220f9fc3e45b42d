"""Device failures people hear of: a failure monitoring reports of a device in service
raises ``device_failed`` with its model's failure rate (:mod:`.domain.device_failures`);
a recovery report, or the device leaving the faulty state, resolves it."""

from collections.abc import Mapping, Sequence

from stockwire.assets import fleet
from stockwire.assets.domain.device_failures import back_up, failure_alert
from stockwire.assets.domain.devices import DeviceEvent, FailureNoted, StateChanged
from stockwire.assets.domain.monitoring import ReportKind
from stockwire.assets.domain.reports import Report
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.contracts.vocabulary import DeviceState, FailureSource


async def tell(
    emitted: Sequence[DeviceEvent],
    reports: Sequence[Report],
    skus: Mapping[str, str],
    uow: AssetsUnitOfWork,
) -> None:
    """Raise an alert for each failure monitoring reported, resolve those of devices
    reported recovered (``skus``: the model of each device the reports name)."""
    failures = [
        e for e in emitted if isinstance(e, FailureNoted) and e.source is FailureSource.MONITORING
    ]
    if failures:
        models = sorted({f.sku for f in failures})
        rates = {
            found.sku: found
            for found in await fleet.fleets(uow.session, uow.now(), skus=models)
            if found.region is None
        }
        places = await uow.assets.places(f.location for f in failures if f.location)
        await uow.raise_alerts(
            [
                failure_alert(
                    failure,
                    place.kind if (place := places.get(failure.location or "")) else None,
                    rates.get(failure.sku),
                )
                for failure in failures
            ]
        )
    recovered = [r for r in reports if r.kind is ReportKind.RECOVERED]
    if recovered:
        await uow.resolve_alerts(
            [
                back_up(r.serial, skus[r.serial], f"is back up: {r.source} reports it recovered")
                for r in recovered
                if r.serial in skus
            ]
        )


async def resolve_when_repaired(emitted: Sequence[DeviceEvent], uow: AssetsUnitOfWork) -> None:
    """A device that leaves the faulty state (swapped, sent for repair, back in stock)
    is no longer a failure anyone must act on."""
    left = [
        e for e in emitted if isinstance(e, StateChanged) and e.from_state is DeviceState.FAULTY
    ]
    if left:
        await uow.resolve_alerts(
            [
                back_up(e.serial, e.sku, f"left the faulty state: now {e.to_state.value}")
                for e in left
            ]
        )
