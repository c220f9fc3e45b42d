"""What each inbound message asks of stock: FSM job events, scans, goods receipts and
transfer requests become the same commands an HTTP request would."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from stockwire.contracts.envelope import wrap
from stockwire.contracts.fsm import DeviceSwapped, JobCompleted, PartLine, PartsIssued
from stockwire.contracts.receipts import GoodsReceived, ReceiptLine
from stockwire.contracts.replenishment import TransferRequested
from stockwire.contracts.scans import ScanMethod, ScanPurpose, ScanRecorded
from stockwire.contracts.vocabulary import ReturnCondition
from stockwire.stock.consumers import (
    job_command,
    receipt_command,
    scan_command,
    transfer_command,
)
from stockwire.stock.domain.commands import (
    CompleteJob,
    IssueParts,
    ReceiveGoods,
    RecordCount,
    ShipTransfer,
    SwapDevice,
)


def scan(purpose: ScanPurpose, **fields: object) -> ScanRecorded:
    defaults: dict[str, object] = {
        "scanner_id": "gun-1",
        "method": ScanMethod.RFID,
        "purpose": purpose,
        "location": "WH-1",
        "sku": "SFP-10G",
        "quantity": Decimal(2),
    }
    return ScanRecorded(**(defaults | fields))


def test_parts_issued_becomes_an_issue_to_the_job_naming_its_source_event():
    event = PartsIssued(
        job_id="J-1",
        technician_id="T-9",
        from_location="VAN-1",
        lines=(PartLine(sku="ONT", quantity=Decimal(1), serials=("S1",)),),
    )
    envelope = wrap(event, producer="servicenow")

    cmd = job_command(envelope, event)

    assert isinstance(cmd, IssueParts)
    assert (cmd.job_id, cmd.from_location, cmd.lines[0].serials) == ("J-1", "VAN-1", ("S1",))
    assert cmd.origin.actor == "servicenow:T-9"
    assert cmd.origin.source_event_id == envelope.event_id


def test_device_swapped_becomes_a_swap_with_the_removed_device_faulty_by_default():
    event = DeviceSwapped(
        job_id="J-1",
        customer_site="CUST-1",
        from_location="VAN-1",
        removed_sku="ONT-A",
        removed_serial="OLD",
        installed_sku="ONT-B",
        installed_serial="NEW",
    )

    cmd = job_command(wrap(event, producer="fsm"), event)

    assert isinstance(cmd, SwapDevice)
    assert cmd.removed_condition == ReturnCondition.FAULTY
    assert (cmd.installed.sku, cmd.installed.serials) == ("ONT-B", ("NEW",))
    assert (cmd.removed.sku, cmd.removed.serials) == ("ONT-A", ("OLD",))


def test_a_completed_job_releases_its_reservations():
    event = JobCompleted(job_id="J-1", first_time_fix=True)

    assert isinstance(job_command(wrap(event, producer="fsm"), event), CompleteJob)


def test_scans_receive_pick_or_count_by_purpose():
    receipt = scan(ScanPurpose.RECEIPT)
    pick = scan(ScanPurpose.PICK)
    count = scan(ScanPurpose.COUNT, count_id="C-1", sku=None, serial="S1", quantity=Decimal(1))

    received = scan_command(wrap(receipt, producer="scanner"), receipt)
    picked = scan_command(wrap(pick, producer="scanner"), pick)
    counted = scan_command(wrap(count, producer="scanner"), count)

    assert isinstance(received, ReceiveGoods) and received.lines[0].ordered is None
    assert isinstance(picked, IssueParts) and picked.scanned
    assert picked.job_id is None
    assert isinstance(counted, RecordCount)
    assert (counted.count_id, counted.sku, counted.serial, counted.location) == (
        "C-1",
        None,
        "S1",
        "WH-1",
    )
    assert not counted.replace


def test_a_goods_receipt_keeps_ordered_and_received_per_line():
    event = GoodsReceived(
        receipt_id="GR-1",
        po_number="PO-7",
        supplier="Acme",
        location="WH-1",
        lines=(ReceiptLine(sku="A", ordered_quantity=Decimal(10), received_quantity=Decimal(8)),),
    )

    cmd = receipt_command(wrap(event, producer="erp"), event)

    assert isinstance(cmd, ReceiveGoods)
    assert (cmd.po_number, cmd.receipt_id) == ("PO-7", "GR-1")
    assert (cmd.lines[0].ordered, cmd.lines[0].received) == (10, 8)


def test_a_transfer_request_ships_under_its_transfer_id_by_whoever_accepted_it():
    event = TransferRequested(
        transfer_id="SUG-1",
        suggestion_id=uuid.uuid4(),
        sku="ONT",
        from_location="WH-1",
        to_location="VAN-1",
        quantity=Decimal(3),
        requested_by="ana",
        requested_at=datetime.now(UTC),
    )
    envelope = wrap(event, producer="replenishment")

    cmd = transfer_command(envelope, event)

    assert isinstance(cmd, ShipTransfer)
    assert (cmd.transfer_id, cmd.sku, cmd.from_location, cmd.to_location, cmd.quantity) == (
        "SUG-1",
        "ONT",
        "WH-1",
        "VAN-1",
        3,
    )
    assert cmd.serials == ()
    assert cmd.origin.actor == "replenishment:ana"
    assert cmd.origin.source_event_id == envelope.event_id
