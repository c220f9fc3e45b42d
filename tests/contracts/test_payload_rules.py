"""Rules inside payloads that span fields, which JSON Schema alone does not express."""

import pytest
from pydantic import ValidationError

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
