"""Inbound goods receipts against purchase orders, keyed by PO number."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from stockwire.contracts.base import Contract, Event, LocationCode, Quantity, Serial, Sku

ReceivedQuantity = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=12, decimal_places=3)]


class ReceiptLine(Contract):
    """One PO line as delivered; received below ordered is short, above is over."""

    sku: Sku
    ordered_quantity: Quantity
    received_quantity: ReceivedQuantity
    serials: tuple[Serial, ...] = ()
    lot: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _serials_match_quantity(self) -> "ReceiptLine":
        if len(set(self.serials)) != len(self.serials):
            raise ValueError("serials must not repeat")
        if self.serials and len(self.serials) != self.received_quantity:
            raise ValueError("received_quantity must equal the number of serials given")
        return self


class GoodsReceived(Event):
    """A delivery was booked in at a location against a purchase order."""

    event_type = "procurement.goods.received"

    receipt_id: str = Field(min_length=1, max_length=64)
    po_number: str = Field(min_length=1, max_length=64)
    supplier: str = Field(min_length=1, max_length=200)
    location: LocationCode
    lines: tuple[ReceiptLine, ...] = Field(min_length=1)
