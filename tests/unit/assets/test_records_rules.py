"""The records people keep of a device: malformed commands are refused naming the field,
and a command that moves the device goes through the lifecycle state machine, which may
refuse it (a conflict naming the rule) but never records a refusal of its own."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockwire.assets.domain import records
from stockwire.assets.domain.devices import Device, Fact, FailureNoted, StateChanged
from stockwire.assets.domain.records import (
    CloseRma,
    DisposeDevice,
    OpenRma,
    RecordMaintenance,
    ReportFailure,
    Rma,
    applied,
    refurbish_yield,
)
from stockwire.contracts.vocabulary import DeviceState as S
from stockwire.contracts.vocabulary import (
    DisposalMethod,
    FailureSource,
    MaintenanceKind,
    RmaOutcome,
)
from stockwire.runtime.domain_errors import Conflict, Invalid

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def device(state: S, *, as_of: datetime = NOW - timedelta(days=1)) -> Device:
    return Device("SN1", "ONT-G240", state, as_of, NOW - timedelta(days=30))


def maintenance(**changes) -> RecordMaintenance:
    cmd = RecordMaintenance(
        serial="SN1",
        kind=MaintenanceKind.INSPECTION,
        performed_by="tech-7",
        performed_at=NOW - timedelta(hours=1),
        outcome="all good",
    )
    return replace(cmd, **changes)


def problems(cmd, now: datetime = NOW) -> list[str]:
    with pytest.raises(Invalid) as refused:
        records.check(cmd, now)
    return [p.field for p in refused.value.problems]


def rma(**changes) -> Rma:
    opened = Rma("Nokia", "R-1", "SN1", "ONT-G240", "dead", "ops", NOW - timedelta(days=3))
    return replace(opened, **changes)


# ---------------------------------------------------------------------------- well formed


def test_a_well_formed_maintenance_entry_passes():
    records.check(maintenance(cost=Decimal("12.50"), currency="EUR", note="fan cleaned"), NOW)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"cost": Decimal(10)}, ["currency"]),
        ({"currency": "USD"}, ["cost"]),
        ({"cost": Decimal("1.00001"), "currency": "USD"}, ["cost"]),
        ({"cost": Decimal(-1), "currency": "USD"}, ["cost"]),
        ({"cost": Decimal(10), "currency": "usd"}, ["currency"]),
        ({"kind": MaintenanceKind.FIRMWARE_UPGRADE}, ["firmware_version"]),
        ({"performed_at": NOW + timedelta(hours=1)}, ["performed_at"]),
        ({"performed_at": datetime(2026, 2, 1)}, ["performed_at"]),
        ({"performed_by": " tech"}, ["performed_by"]),
        ({"performed_by": "x" * 129}, ["performed_by"]),
        ({"outcome": ""}, ["outcome"]),
        ({"outcome": "x" * 501}, ["outcome"]),
        ({"note": "a\x00b"}, ["note"]),
        ({"outcome": "", "performed_by": ""}, ["performed_by", "outcome"]),
    ],
    ids=[
        "cost-without-currency",
        "currency-without-cost",
        "cost-too-fine",
        "cost-negative",
        "currency-lower-case",
        "firmware-upgrade-without-version",
        "in-the-future",
        "without-zone",
        "actor-with-space",
        "actor-too-long",
        "empty-outcome",
        "outcome-too-long",
        "nul-in-note",
        "every-problem-named",
    ],
)
def test_a_malformed_maintenance_entry_is_refused_naming_the_field(changes, fields):
    assert problems(maintenance(**changes)) == fields


def test_a_time_a_few_minutes_ahead_is_a_clock_running_fast_not_the_future():
    records.check(maintenance(performed_at=NOW + timedelta(minutes=4)), NOW)


def test_a_replacement_serial_comes_exactly_with_a_replacement():
    assert problems(CloseRma("Nokia", "R-1", RmaOutcome.REPLACED)) == ["replacement_serial"]
    assert problems(CloseRma("Nokia", "R-1", RmaOutcome.REPAIRED, "SN2")) == ["replacement_serial"]
    records.check(CloseRma("Nokia", "R-1", RmaOutcome.REPLACED, "SN2"), NOW)


def test_a_vendor_names_an_rma_in_a_path_so_it_holds_no_slash():
    assert problems(OpenRma("SN1", "Nokia/Alcatel", "R-1", "dead", "ops")) == ["vendor"]


def test_failures_reported_by_hand_come_from_an_operator_or_maintenance():
    reported = ReportFailure("SN1", "no light", NOW, FailureSource.MONITORING)
    assert problems(reported) == ["source"]


def test_a_disposal_in_the_future_is_refused():
    cmd = DisposeDevice("SN1", DisposalMethod.RECYCLED, "CERT-1", "ops", NOW + timedelta(days=1))
    assert problems(cmd) == ["disposed_at"]


# ----------------------------------------------------------------------- against the device


def test_a_reported_failure_of_an_installed_device_makes_it_faulty_and_counts():
    installed = device(S.INSTALLED)
    cmd = ReportFailure("SN1", "no light on PON", NOW - timedelta(hours=1))

    events = applied(installed, records.failure_fact(installed, cmd), at_field="failed_at")

    assert installed.state is S.FAULTY
    failure, changed = events
    assert isinstance(failure, FailureNoted)
    assert (failure.source, failure.symptom) == (FailureSource.OPERATOR, "no light on PON")
    assert isinstance(changed, StateChanged)
    assert (changed.from_state, changed.to_state) == (S.INSTALLED, S.FAULTY)


def test_a_failure_found_in_stock_makes_the_device_faulty_too():
    in_stock = device(S.IN_STOCK)
    cmd = ReportFailure("SN1", "dead on arrival", NOW, FailureSource.MAINTENANCE)

    applied(in_stock, records.failure_fact(in_stock, cmd), at_field="failed_at")

    assert in_stock.state is S.FAULTY


def test_a_failure_of_a_device_faulty_already_is_a_conflict():
    faulty = device(S.FAULTY)
    cmd = ReportFailure("SN1", "still dead", NOW)

    with pytest.raises(Conflict) as refused:
        applied(faulty, records.failure_fact(faulty, cmd), at_field="failed_at")

    assert refused.value.field == "state"
    assert faulty.events == []


def test_a_failure_before_the_devices_last_fact_is_a_conflict_on_its_time():
    installed = device(S.INSTALLED, as_of=NOW - timedelta(hours=1))
    cmd = ReportFailure("SN1", "no light", NOW - timedelta(hours=2))

    with pytest.raises(Conflict) as refused:
        applied(installed, records.failure_fact(installed, cmd), at_field="failed_at")

    assert refused.value.field == "failed_at"
    assert installed.state is S.INSTALLED


@pytest.mark.parametrize("state", [S.IN_STOCK, S.INSTALLED, S.REFURBISHED, S.RETIRED])
def test_an_rma_is_opened_only_for_a_faulty_device(state):
    not_faulty = device(state)
    fact = records.rma_fact(not_faulty, S.RMA_OPEN, rma(), "opened", NOW)

    with pytest.raises(Conflict) as refused:
        applied(not_faulty, fact, at_field="opened_at")

    assert refused.value.field == "illegal_transition"
    assert not_faulty.state is state


def test_an_rma_opened_for_a_faulty_device_puts_it_in_rma_open():
    faulty = device(S.FAULTY)

    [changed] = applied(
        faulty, records.rma_fact(faulty, S.RMA_OPEN, rma(), "opened", NOW), at_field="opened_at"
    )

    assert isinstance(changed, StateChanged)
    assert (changed.to_state, changed.reason) == (S.RMA_OPEN, "RMA R-1 of Nokia opened")


def test_nothing_moves_a_disposed_device_and_nothing_is_recorded_of_it():
    disposed = device(S.DISPOSED)

    with pytest.raises(Conflict) as written:
        records.writable(disposed)
    fact = Fact("SN1", "ONT-G240", NOW, S.FAULTY, "report")
    with pytest.raises(Conflict) as moved:
        applied(disposed, fact, at_field="failed_at")

    assert written.value.field == moved.value.field == "disposed"


def test_only_a_retired_device_is_disposed_of():
    cmd = DisposeDevice("SN1", DisposalMethod.RECYCLED, "CERT-1", "ops", NOW)
    installed, retired = device(S.INSTALLED), device(S.RETIRED)

    with pytest.raises(Conflict) as refused:
        applied(installed, records.disposal_fact(installed, cmd), at_field="disposed_at")
    applied(retired, records.disposal_fact(retired, cmd), at_field="disposed_at")

    assert refused.value.field == "illegal_transition"
    assert retired.state is S.DISPOSED


def test_what_assets_records_now_is_never_before_the_devices_last_fact():
    ahead = device(S.FAULTY, as_of=NOW + timedelta(seconds=30))

    assert records.assets_time(ahead, NOW) == NOW + timedelta(seconds=30)
    assert records.assets_time(device(S.FAULTY), NOW) == NOW


# ------------------------------------------------------------------------------- the RMA


def test_an_rma_is_shipped_once():
    opened = rma()
    opened.ship(NOW)

    with pytest.raises(Conflict) as again:
        opened.ship(NOW + timedelta(hours=1))

    assert again.value.field == "rma_shipped"
    assert opened.shipped_at == NOW


@pytest.mark.parametrize(
    ("outcome", "replacement", "state"),
    [
        (RmaOutcome.REPAIRED, None, S.REFURBISHED),
        (RmaOutcome.REPLACED, "SN2", S.RETIRED),
        (RmaOutcome.SCRAPPED, None, S.RETIRED),
    ],
)
def test_closing_an_rma_says_where_its_device_goes(outcome, replacement, state):
    opened = rma()

    assert opened.close(CloseRma("Nokia", "R-1", outcome, replacement), NOW) is state
    assert (opened.closed_at, opened.outcome, opened.replacement_serial) == (
        NOW,
        outcome,
        replacement,
    )


def test_a_closed_rma_is_neither_shipped_nor_closed_again():
    closed = rma(closed_at=NOW, outcome=RmaOutcome.SCRAPPED)

    with pytest.raises(Conflict) as shipped:
        closed.ship(NOW)
    with pytest.raises(Conflict) as reclosed:
        closed.close(CloseRma("Nokia", "R-1", RmaOutcome.REPAIRED), NOW)

    assert shipped.value.field == reclosed.value.field == "rma_closed"


def test_a_unit_does_not_replace_itself():
    with pytest.raises(Invalid) as refused:
        rma().close(CloseRma("Nokia", "R-1", RmaOutcome.REPLACED, "SN1"), NOW)

    assert refused.value.field == "replacement_serial"


@pytest.mark.parametrize(
    ("repaired", "closed", "expected"),
    [(0, 0, None), (3, 4, Decimal("0.7500")), (1, 3, Decimal("0.3333")), (0, 2, Decimal(0))],
)
def test_refurbish_yield_is_the_share_of_closed_rmas_repaired(repaired, closed, expected):
    assert refurbish_yield(repaired, closed) == expected
