"""The SQL of the records people keep of a device: maintenance, warranty and firmware on
the device row, RMAs (and the replacement units they link), disposals. Every statement
runs on the unit of work's session."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.assets.domain.records import Rma
from stockwire.assets.repository import firmware_known_before
from stockwire.assets.tables import devices, disposals, maintenance, rmas
from stockwire.contracts.vocabulary import RmaOutcome

_RMA_STATE = ("shipped_at", "closed_at", "outcome", "replacement_serial", "note")


@dataclass(frozen=True, slots=True)
class Link:
    """A device that replaces another under an RMA."""

    serial: str
    replaces: str
    vendor: str
    rma_number: str


class RecordsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_maintenance(self, row: dict[str, Any]) -> None:
        await self.session.execute(sa.insert(maintenance), row)

    async def note_firmware(self, serial: str, version: str, at: datetime) -> bool:
        """Record that ``serial`` runs ``version`` since ``at``, unless a later report is
        already recorded; whether it was."""
        updated = await self.session.scalar(
            sa.update(devices)
            .where(
                devices.c.serial == serial,
                firmware_known_before(at),
            )
            .values(firmware_version=version, firmware_at=at, updated_at=sa.func.now())
            .returning(devices.c.serial)
        )
        return updated is not None

    async def set_warranty(self, serial: str, ends_on: date | None) -> None:
        await self.session.execute(
            sa.update(devices)
            .where(devices.c.serial == serial)
            .values(warranty_ends_override=ends_on, updated_at=sa.func.now())
        )

    async def rma_for_update(self, vendor: str, rma_number: str) -> Rma | None:
        row = (
            await self.session.execute(
                sa.select(rmas)
                .where(rmas.c.vendor == vendor, rmas.c.rma_number == rma_number)
                .with_for_update()
            )
        ).first()
        return rma_of(row._mapping) if row else None

    async def open_rma_of(self, serial: str) -> Rma | None:
        row = (
            await self.session.execute(
                sa.select(rmas).where(rmas.c.serial == serial, rmas.c.closed_at.is_(None)).limit(1)
            )
        ).first()
        return rma_of(row._mapping) if row else None

    async def rma_replaced_by(self, serial: str) -> Rma | None:
        """The RMA that named ``serial`` as its replacement, if one did."""
        row = (
            await self.session.execute(
                sa.select(rmas).where(rmas.c.replacement_serial == serial).limit(1)
            )
        ).first()
        return rma_of(row._mapping) if row else None

    async def add_rma(self, rma: Rma) -> bool:
        """Insert ``rma``; False if the vendor's number is taken already."""
        added = await self.session.scalar(
            insert(rmas)
            .values(_rma_row(rma))
            .on_conflict_do_nothing(index_elements=[rmas.c.vendor, rmas.c.rma_number])
            .returning(rmas.c.rma_number)
        )
        return added is not None

    async def save_rma(self, rma: Rma) -> None:
        row = _rma_row(rma)
        await self.session.execute(
            sa.update(rmas)
            .where(rmas.c.vendor == rma.vendor, rmas.c.rma_number == rma.rma_number)
            .values({name: row[name] for name in _RMA_STATE})
        )

    async def link_replacement(self, serial: str, replaces: str) -> bool:
        """Make device ``serial`` the replacement of ``replaces``; False if it already
        replaces another one."""
        linked = await self.session.scalar(
            sa.update(devices)
            .where(
                devices.c.serial == serial,
                sa.or_(devices.c.replaces_serial.is_(None), devices.c.replaces_serial == replaces),
            )
            .values(replaces_serial=replaces, updated_at=sa.func.now())
            .returning(devices.c.serial)
        )
        return linked is not None

    async def link_new_replacements(self, serials: Iterable[str]) -> list[Link]:
        """Link each of ``serials`` (devices that just appeared) that an RMA closed earlier
        named as its replacement to the unit it replaces."""
        wanted = sorted(set(serials))
        if not wanted:
            return []
        rows = await self.session.execute(
            sa.update(devices)
            .where(
                devices.c.serial.in_(wanted),
                devices.c.replaces_serial.is_(None),
                rmas.c.replacement_serial == devices.c.serial,
                rmas.c.outcome == RmaOutcome.REPLACED.value,
            )
            .values(replaces_serial=rmas.c.serial, updated_at=sa.func.now())
            .returning(devices.c.serial, rmas.c.serial, rmas.c.vendor, rmas.c.rma_number)
        )
        return [Link(*row) for row in rows]

    async def add_disposal(self, row: dict[str, Any]) -> None:
        await self.session.execute(sa.insert(disposals), row)


def rma_of(row: Any) -> Rma:
    """An RMA from its row (a mapping of the ``rmas`` columns)."""
    return Rma(
        vendor=row["vendor"],
        rma_number=row["rma_number"],
        serial=row["serial"],
        sku=row["sku"],
        reason=row["reason"],
        opened_by=row["opened_by"],
        opened_at=row["opened_at"],
        shipped_at=row["shipped_at"],
        closed_at=row["closed_at"],
        outcome=RmaOutcome(row["outcome"]) if row["outcome"] else None,
        replacement_serial=row["replacement_serial"],
        note=row["note"],
    )


def _rma_row(rma: Rma) -> dict[str, Any]:
    return {
        "vendor": rma.vendor,
        "rma_number": rma.rma_number,
        "serial": rma.serial,
        "sku": rma.sku,
        "reason": rma.reason,
        "opened_by": rma.opened_by,
        "opened_at": rma.opened_at,
        "shipped_at": rma.shipped_at,
        "closed_at": rma.closed_at,
        "outcome": rma.outcome.value if rma.outcome else None,
        "replacement_serial": rma.replacement_serial,
        "note": rma.note,
    }
