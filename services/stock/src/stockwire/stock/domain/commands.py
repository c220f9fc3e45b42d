"""What callers ask stock to do. FSM events, scans, goods receipts and HTTP requests all
become these commands, so each rule is written once, whichever entry point sent it."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from stockwire.contracts.vocabulary import ReturnCondition


@dataclass(frozen=True)
class Origin:
    """Who or what caused a command, and the event it came from (None for HTTP)."""

    actor: str
    source_event_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Line:
    """Some of one SKU: a quantity (meters for length-tracked items) or that many serials.

    ``sku`` is None only for a scan that names a serial alone; the serial's record says
    which SKU it is.
    """

    sku: str | None
    quantity: Decimal
    serials: tuple[str, ...] = ()
    lot: str | None = None


@dataclass(frozen=True)
class ReceiptLine:
    """One delivered line; ``ordered`` is None when nothing was ordered (a receipt scan)."""

    sku: str | None
    received: Decimal
    ordered: Decimal | None = None
    serials: tuple[str, ...] = ()
    lot: str | None = None


@dataclass(frozen=True)
class ReceiveGoods:
    location: str
    lines: tuple[ReceiptLine, ...]
    origin: Origin
    po_number: str | None = None
    receipt_id: str | None = None


@dataclass(frozen=True)
class IssueParts:
    """Parts leave ``from_location``: into ``job_id``'s custody, or without a job (picked
    by a person, or ``scanned`` by a scanner's pick)."""

    from_location: str
    lines: tuple[Line, ...]
    origin: Origin
    job_id: str | None = None
    scanned: bool = False


@dataclass(frozen=True)
class InstallPart:
    """A part was installed (or cable consumed) at a customer site: it leaves inventory,
    from the job's custody when it was issued to the job, else from ``from_location``."""

    from_location: str
    customer_site: str
    line: Line
    origin: Origin
    job_id: str | None = None


@dataclass(frozen=True)
class ReturnPart:
    """A part came back: good stock to ``to_location``, anything else to its quarantine."""

    to_location: str
    line: Line
    condition: ReturnCondition
    origin: Origin
    job_id: str | None = None


@dataclass(frozen=True)
class SwapDevice:
    """Install ``installed`` at the customer and take ``removed`` back via the van's
    quarantine (or the van itself when the removed device is good)."""

    customer_site: str
    from_location: str
    installed: Line
    removed: Line
    removed_condition: ReturnCondition
    origin: Origin
    job_id: str | None = None


@dataclass(frozen=True)
class ShipTransfer:
    """Ship ``quantity`` of ``sku`` from one location to another under ``transfer_id``.

    A person names the serials of a serial-tracked SKU. With ``stock_picks`` (a transfer
    request from replenishment, which names none) stock picks what ships: the serials
    that arrived first on the shelf at the origin, and only stock not reserved for jobs.
    """

    transfer_id: str
    sku: str
    from_location: str
    to_location: str
    quantity: Decimal
    origin: Origin
    lot: str | None = None
    serials: tuple[str, ...] = ()
    stock_picks: bool = False


@dataclass(frozen=True)
class ReceiveTransfer:
    """The transfer arrived with ``quantity``; with serials, exactly those serials."""

    transfer_id: str
    quantity: Decimal
    origin: Origin
    serials: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CancelTransfer:
    """Call off a transfer still in transit (shipped by mistake, or lost on the way):
    what was shipped goes back on hand at the origin."""

    transfer_id: str
    origin: Origin


# Why an operator corrects a balance; the movement's reason code is ``adjustment_<reason>``.
# (A comment, not a docstring: a schema generated from the enum would publish a docstring.)
class AdjustmentReason(StrEnum):
    DAMAGED = "damaged"
    LOST = "lost"
    FOUND = "found"
    THEFT = "theft"
    EXPIRED = "expired"
    CORRECTION = "correction"
    OTHER = "other"


@dataclass(frozen=True)
class Adjust:
    """Correct a balance by ``delta`` (signed) for a stated reason."""

    sku: str
    location: str
    delta: Decimal
    reason: AdjustmentReason
    origin: Origin
    lot: str | None = None
    serial: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class OpenCount:
    count_id: str
    location: str
    origin: Origin
    blind: bool = False
    skus: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RecordCount:
    """Counted ``quantity`` of a SKU (or one serial) at the count's location.

    A scan adds to what was counted; a request with ``replace`` states the total.
    ``location`` is where a scan was made; it must be the count's location.
    """

    count_id: str
    sku: str | None
    quantity: Decimal
    origin: Origin
    lot: str | None = None
    serial: str | None = None
    location: str | None = None
    replace: bool = False


@dataclass(frozen=True)
class CloseCount:
    count_id: str
    origin: Origin


@dataclass(frozen=True)
class CancelCount:
    """Abandon an open count: nothing is compared or adjusted."""

    count_id: str
    origin: Origin


@dataclass(frozen=True)
class Reserve:
    reservation_id: str
    job_id: str
    sku: str
    location: str
    quantity: Decimal
    origin: Origin


@dataclass(frozen=True)
class ReleaseReservation:
    reservation_id: str
    origin: Origin


@dataclass(frozen=True)
class CompleteJob:
    """A job closed: what is still reserved for it goes back to available."""

    job_id: str
    origin: Origin


Command = (
    ReceiveGoods
    | IssueParts
    | InstallPart
    | ReturnPart
    | SwapDevice
    | ShipTransfer
    | ReceiveTransfer
    | CancelTransfer
    | Adjust
    | OpenCount
    | RecordCount
    | CloseCount
    | CancelCount
    | Reserve
    | ReleaseReservation
    | CompleteJob
)
