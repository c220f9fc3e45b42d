"""Inbound barcode and RFID scans from scanners and mobile apps, keyed by location."""

from enum import StrEnum

from pydantic import Field, model_validator

from stockwire.contracts.base import Event, LocationCode, Quantity, Serial, Sku


class ScanMethod(StrEnum):
    BARCODE = "barcode"
    RFID = "rfid"


class ScanPurpose(StrEnum):
    RECEIPT = "receipt"
    PICK = "pick"
    COUNT = "count"


class ScanRecorded(Event):
    """One scan: a SKU with a quantity, or a serial (quantity 1)."""

    event_type = "scanning.scan.recorded"

    scanner_id: str = Field(min_length=1, max_length=64)
    method: ScanMethod
    purpose: ScanPurpose
    location: LocationCode
    sku: Sku | None = None
    serial: Serial | None = None
    lot: str | None = Field(default=None, max_length=64)
    quantity: Quantity
    count_id: str | None = Field(
        default=None, max_length=64, description="The cycle count this scan belongs to."
    )

    @model_validator(mode="after")
    def _names_something(self) -> "ScanRecorded":
        if self.sku is None and self.serial is None:
            raise ValueError("a scan names a sku, a serial or both")
        if self.serial is not None and self.quantity != 1:
            raise ValueError("a serial scan has quantity 1")
        return self
