"""The checks most commands make before they move stock: the SKU and location are in the
catalog and active, a line names serials exactly when its SKU is tracked by serial, and a
serial is where the command says it is (or, arriving, not already in our hands).

Each check raises :class:`~stockwire.stock.domain.draft.Refused`, after pointing the
draft's focus at what it refused, so the rejection names it."""

from stockwire.contracts.vocabulary import RejectionReason
from stockwire.stock.domain.commands import Line
from stockwire.stock.domain.draft import Draft, Refused
from stockwire.stock.domain.model import (
    SERIAL_HELD,
    ItemInfo,
    LocationInfo,
    SerialRecord,
    SerialState,
)


def catalog_item(draft: Draft, sku: str, *, retired_ok: bool = False) -> ItemInfo:
    """The catalog's item; a retired one only where ``retired_ok`` (stock that already
    exists must still be able to move)."""
    item = draft.state.items.get(sku)
    if item is None:
        raise Refused(RejectionReason.UNKNOWN_SKU, f"SKU {sku!r} is not in the catalog")
    if not item.active and not retired_ok:
        raise Refused(RejectionReason.RETIRED_SKU, f"SKU {sku!r} is retired")
    return item


def active_location(draft: Draft, code: str) -> LocationInfo:
    location = draft.state.locations.get(code)
    if location is None:
        raise Refused(RejectionReason.UNKNOWN_LOCATION, f"location {code!r} is not in the catalog")
    if not location.active:
        raise Refused(RejectionReason.INACTIVE_LOCATION, f"location {code!r} is retired")
    return location


def sku_of(draft: Draft, sku: str | None, serials: tuple[str, ...]) -> str:
    """The SKU a line names, or for a serial-only scan, the serial's SKU."""
    if sku is not None:
        return sku
    record = draft.serial(serials[0]) if serials else None
    if record is None:
        raise Refused(
            RejectionReason.UNKNOWN_SKU,
            f"the scan names serial {serials[0] if serials else '?'!r} only, and stock "
            "has no record of it; scan the SKU too",
        )
    draft.focus_on.sku = record.sku
    return record.sku


def serials_fit(item: ItemInfo, line: Line) -> None:
    if item.serialized and not line.serials:
        raise Refused(
            RejectionReason.SERIAL_REQUIRED, f"SKU {item.sku!r} is serial-tracked: name serials"
        )
    if not item.serialized and line.serials:
        raise Refused(
            RejectionReason.INVALID_QUANTITY,
            f"SKU {item.sku!r} is not serial-tracked; send a quantity without serials",
        )


def in_stock_at(draft: Draft, item: ItemInfo, serial: str, location: str) -> SerialRecord:
    """The serial's record, which must say it is on the shelf at ``location``."""
    draft.focus_on.serial = serial
    record = draft.serial(serial)
    if (
        record is None
        or record.state != SerialState.IN_STOCK
        or record.location != location
        or record.sku != item.sku
    ):
        if record is None:
            where = "stock has no record of it"
        elif record.sku != item.sku:
            where = f"it is a {record.sku}, {record.describe()}"
        else:
            where = f"it is {record.describe()}"
        raise Refused(
            RejectionReason.SERIAL_NOT_AT_LOCATION,
            f"serial {serial!r} is not in stock at {location!r}: {where}",
            conflict=record is not None,
        )
    return record


def arriving(draft: Draft, serial: str) -> SerialRecord | None:
    """The serial's record, which must not say it is in our hands somewhere else."""
    draft.focus_on.serial = serial
    record = draft.serial(serial)
    if record is not None and record.state in SERIAL_HELD:
        raise Refused(
            RejectionReason.SERIAL_ALREADY_IN_STOCK,
            f"serial {serial!r} is already {record.describe()}",
            conflict=True,
        )
    return record
