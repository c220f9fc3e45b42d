"""Rules inside payloads that span fields, which JSON Schema alone does not express."""

import pytest
from pydantic import ValidationError

from stockwire.contracts.assets import (
    DeviceStateChanged,
    MaintenanceRecorded,
    ReliabilityComputed,
    RmaClosed,
)
from stockwire.contracts.fsm import PartLine
from stockwire.contracts.receipts import ReceiptLine
from stockwire.contracts.scans import ScanRecorded


def test_a_part_line_rejects_a_serial_listed_twice():
    with pytest.raises(ValidationError, match="serials must not repeat"):
        PartLine(sku="ONT-NOKIA-G240W", quantity=2, serials=("ALCLF1234567", "ALCLF1234567"))


def test_a_part_line_with_serials_needs_a_matching_quantity():
    with pytest.raises(ValidationError, match="quantity must equal the number of serials"):
        PartLine(sku="ONT-NOKIA-G240W", quantity=3, serials=("ALCLF1234567", "ALCLF7654321"))


def test_a_receipt_line_rejects_a_serial_listed_twice():
    with pytest.raises(ValidationError, match="serials must not repeat"):
        ReceiptLine(
            sku="ONT-NOKIA-G240W",
            ordered_quantity=2,
            received_quantity=2,
            serials=("ALCLF1234567", "ALCLF1234567"),
        )


def test_a_scan_names_a_sku_or_a_serial():
    with pytest.raises(ValidationError, match="names a sku, a serial or both"):
        ScanRecorded(
            scanner_id="TC52-07", method="barcode", purpose="pick", location="WH-1", quantity=1
        )


def test_a_serial_scan_counts_one_device():
    with pytest.raises(ValidationError, match="a serial scan has quantity 1"):
        ScanRecorded(
            scanner_id="TC52-07",
            method="rfid",
            purpose="count",
            location="WH-1",
            serial="ALCLF1234567",
            quantity=2,
        )


def _rma_closed(**changes: object) -> dict[str, object]:
    return {
        "serial": "ALCLF1234567",
        "sku": "ONT-NOKIA-G240W",
        "vendor": "Nokia",
        "rma_number": "NOK-RMA-1",
        "outcome": "replaced",
        "replacement_serial": "ALCLF9988776",
        "opened_at": "2026-12-02T09:00:00Z",
        "closed_at": "2026-12-16T11:20:00Z",
        **changes,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"replacement_serial": None},
        {"outcome": "repaired"},
        {"replacement_serial": "ALCLF1234567"},
        {"closed_at": "2026-12-01T00:00:00Z"},
    ],
    ids=repr,
)
def test_an_rma_names_a_replacement_exactly_when_replaced_and_closes_after_it_opened(changes):
    with pytest.raises(ValidationError):
        RmaClosed.model_validate(_rma_closed(**changes))


def _maintenance(**changes: object) -> dict[str, object]:
    return {
        "maintenance_id": "MNT-1",
        "serial": "ALCLF1234567",
        "sku": "ONT-NOKIA-G240W",
        "kind": "inspection",
        "performed_by": "tech-0417",
        "performed_at": "2026-11-22T03:10:00Z",
        "outcome": "ok",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cost": "10"}, "a cost and its currency come together"),
        ({"currency": "USD"}, "a cost and its currency come together"),
        ({"kind": "firmware_upgrade"}, "names the firmware_version"),
    ],
    ids=repr,
)
def test_a_maintenance_record_has_a_cost_with_its_currency_and_an_upgrade_its_version(
    changes, message
):
    with pytest.raises(ValidationError, match=message):
        MaintenanceRecorded.model_validate(_maintenance(**changes))


def test_a_state_change_needs_two_different_states():
    with pytest.raises(ValidationError, match="two different states"):
        DeviceStateChanged(
            serial="ALCLF1234567",
            sku="ONT-NOKIA-G240W",
            from_state="installed",
            to_state="installed",
            reason="again",
            changed_at="2026-11-20T10:42:17Z",
        )


def _reliability(**changes: object) -> dict[str, object]:
    return {
        "sku": "ONT-NOKIA-G240W",
        "installed_base": 12,
        "operating_hours": "19520",
        "device_years": "2.227",
        "failures": 7,
        "failures_per_device_year": "3.143545",
        "mtbf_hours": "2788.571",
        "mtbf_lower_hours": "1658.32",
        "mtbf_upper_hours": "5011.85",
        "confidence": "0.8",
        "as_of": "2026-12-01T00:00:00Z",
        **changes,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"failures": 0},
        {"mtbf_hours": None},
        {"mtbf_upper_hours": None},
        {"mtbf_lower_hours": "3000"},
        {"mtbf_upper_hours": "2000"},
        {"failures_per_device_year": None},
        {"operating_hours": "0", "device_years": "0"},
        {"confidence": "1"},
        {"confidence": "0"},
        {"failures": -1},
    ],
    ids=repr,
)
def test_reliability_figures_that_disagree_with_each_other_are_refused(changes):
    with pytest.raises(ValidationError):
        ReliabilityComputed.model_validate(_reliability(**changes))


def test_with_no_failure_only_the_lower_mtbf_bound_is_given():
    figure = ReliabilityComputed.model_validate(
        _reliability(
            failures=0,
            failures_per_device_year="0",
            mtbf_hours=None,
            mtbf_upper_hours=None,
            mtbf_lower_hours="12128.63",
        )
    )

    assert figure.mtbf_hours is None and figure.mtbf_upper_hours is None
