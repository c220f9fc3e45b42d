"""A device follows its facts in time order, whatever order they arrive in."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from stockwire.assets.domain.devices import (
    Device,
    Fact,
    Failure,
    FailureNoted,
    StateChanged,
    Superseded,
    TransitionRefused,
    failure_id,
    rebuild,
    replay_parked,
)
from stockwire.contracts.vocabulary import DeviceState as S
from stockwire.contracts.vocabulary import FailureSource, LocationKind, TransitionRejectionReason

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fact(hours: float, to_state: S | None, **extra) -> Fact:
    return Fact(
        serial=extra.pop("serial", "SN1"),
        sku=extra.pop("sku", "ONT-G240"),
        at=T0 + timedelta(hours=hours),
        to_state=to_state,
        reason=extra.pop("reason", "test"),
        source_event_id=extra.pop("source_event_id", uuid.uuid4()),
        **extra,
    )


def received() -> Device:
    device = Device.first(fact(0, S.IN_STOCK, location="WH-1"))
    assert device is not None
    return device


def test_a_receipt_starts_a_life_in_stock():
    device = received()
    assert device.state is S.IN_STOCK
    assert device.location == "WH-1"
    [changed] = device.events
    assert isinstance(changed, StateChanged)
    assert (changed.from_state, changed.to_state) == (None, S.IN_STOCK)


def test_a_fact_that_cannot_start_a_life_is_not_a_device():
    assert Device.first(fact(0, S.INSTALLED)) is None


def test_an_illegal_transition_is_refused_and_changes_nothing():
    device = received()
    device.apply(fact(1, S.REFURBISHED))
    refused = device.events[-1]
    assert isinstance(refused, TransitionRefused)
    assert refused.reason is TransitionRejectionReason.ILLEGAL_TRANSITION
    assert (refused.current, refused.attempted) == (S.IN_STOCK, S.REFURBISHED)
    assert device.state is S.IN_STOCK
    assert device.as_of == T0


def test_a_disposed_device_refuses_every_fact():
    device = received()
    for hours, state in ((1, S.RETIRED), (2, S.DISPOSED)):
        device.apply(fact(hours, state))
    device.apply(fact(3, S.IN_STOCK))
    refused = device.events[-1]
    assert isinstance(refused, TransitionRefused)
    assert refused.reason is TransitionRejectionReason.DISPOSED
    assert device.state is S.DISPOSED


def test_a_fact_under_another_sku_is_refused():
    device = received()
    device.apply(fact(1, S.ALLOCATED, sku="CPE-X"))
    refused = device.events[-1]
    assert isinstance(refused, TransitionRefused)
    assert refused.reason is TransitionRejectionReason.SKU_MISMATCH
    assert device.state is S.IN_STOCK


def test_an_older_fact_is_kept_but_changes_nothing():
    device = received()
    device.apply(fact(5, S.INSTALLED, location="CUST-1"))
    device.apply(fact(2, S.ALLOCATED, location="VAN-1"))
    assert isinstance(device.events[-1], Superseded)
    assert device.state is S.INSTALLED
    assert device.location == "CUST-1"


def test_parked_facts_replay_in_time_order_after_the_first_fact():
    install = fact(5, S.INSTALLED, location="CUST-1", location_kind=LocationKind.CUSTOMER_SITE)
    issue = fact(2, S.ALLOCATED, location="VAN-1")
    device = received()
    replay_parked(device, [install, issue])
    states = [e.to_state for e in device.events if isinstance(e, StateChanged)]
    assert states == [S.IN_STOCK, S.ALLOCATED, S.INSTALLED]
    assert device.location_kind is LocationKind.CUSTOMER_SITE


def test_operating_time_counts_only_installed_hours():
    device = received()
    device.apply(fact(10, S.INSTALLED))
    device.apply(fact(110, S.FAULTY, failure=Failure(FailureSource.MONITORING, "down")))
    assert device.operating_hours == Decimal(100)
    assert device.operating_hours_at(T0 + timedelta(hours=500)) == Decimal(100)
    device.apply(fact(120, S.IN_STOCK))
    device.apply(fact(130, S.INSTALLED))
    assert device.operating_hours_at(T0 + timedelta(hours=140)) == Decimal(110)


def test_a_failure_of_an_installed_device_is_recorded_with_a_stable_id():
    device = received()
    device.apply(fact(1, S.INSTALLED, location="CUST-1"))
    source = uuid.uuid4()
    failed = fact(
        2, S.FAULTY, failure=Failure(FailureSource.MONITORING, "LOS"), source_event_id=source
    )
    device.apply(failed)
    [noted] = [e for e in device.events if isinstance(e, FailureNoted)]
    assert noted.failure_id == failure_id("SN1", source, failed.at)
    assert noted.location == "CUST-1"
    assert device.state is S.FAULTY


def test_a_failure_report_of_a_device_not_in_service_records_nothing():
    device = received()
    device.apply(fact(1, None, failure=Failure(FailureSource.MONITORING, "LOS")))
    assert not [e for e in device.events if isinstance(e, FailureNoted)]
    assert device.state is S.IN_STOCK


def test_a_movement_overtaken_by_a_failure_report_is_late_and_the_failure_then_counts():
    device = received()
    device.apply(fact(1, S.ALLOCATED))
    down = fact(3, None, failure=Failure(FailureSource.MONITORING, "LOS"))
    device.apply(down)
    assert device.state is S.ALLOCATED

    rebuilt = late_fact_rebuilds(device, fact(2, S.INSTALLED, location="CUST-1"), [])

    assert rebuilt.state is S.FAULTY
    [failure] = [e for e in rebuilt.events if isinstance(e, FailureNoted)]
    assert failure.source_event_id == down.source_event_id
    assert rebuilt.operating_hours == Decimal(1)


def late_fact_rebuilds(device: Device, late: Fact, earlier: list[Fact]) -> Device:
    device.apply(late)
    assert device.late
    return rebuild(device, [*earlier, *device.facts])


def test_a_late_install_rebuilds_the_operating_time_it_overtook():
    receipt = fact(0, S.IN_STOCK, location="WH-1")
    device = Device.first(receipt)
    assert device is not None
    faulty = fact(5, S.FAULTY, failure=Failure(FailureSource.FAULTY_RETURN, "dead"))
    for each in (fact(1, S.ALLOCATED), faulty):
        device.apply(each)
    assert device.operating_hours == 0

    rebuilt = late_fact_rebuilds(device, fact(3, S.INSTALLED, location="CUST-1"), [])

    assert rebuilt.state is S.FAULTY
    assert rebuilt.operating_hours == Decimal(2)
    assert not rebuilt.late
    assert [e for e in rebuilt.events if isinstance(e, StateChanged)] == [
        e for e in device.events if isinstance(e, StateChanged)
    ]


def test_a_late_fact_that_changes_where_the_history_ends_is_told_as_one_state_change():
    device = received()
    for each in (fact(1, S.ALLOCATED), fact(3, S.INSTALLED, location="CUST-1")):
        device.apply(each)
    returned = fact(2, S.FAULTY, failure=Failure(FailureSource.FAULTY_RETURN, "DOA"))

    rebuilt = late_fact_rebuilds(device, returned, [])

    assert rebuilt.state is S.FAULTY
    correction = rebuilt.events[-1]
    assert isinstance(correction, StateChanged)
    assert (correction.from_state, correction.to_state) == (S.INSTALLED, S.FAULTY)
    assert correction.source_event_id == returned.source_event_id
    [failure] = [e for e in rebuilt.events if isinstance(e, FailureNoted)]
    assert failure.source is FailureSource.FAULTY_RETURN


def test_a_rebuild_keeps_the_facts_of_earlier_transactions():
    receipt, issue = fact(0, S.IN_STOCK), fact(1, S.ALLOCATED)
    stored = Device.first(receipt)
    assert stored is not None
    stored.apply(issue)
    loaded = Device(stored.serial, stored.sku, stored.state, stored.as_of, stored.received_at)
    loaded.apply(fact(4, S.INSTALLED))

    rebuilt = late_fact_rebuilds(loaded, fact(2, S.IN_TRANSIT), [receipt, issue])

    assert rebuilt.state is S.INSTALLED
    assert rebuilt.installed_since == T0 + timedelta(hours=4)
