"""The append-only movement ledger: one row per leg, copied in the order movements
happened, and the notes operators gave."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.runtime.db import copy_records
from stockwire.stock.domain.events import Leg, Movement
from stockwire.stock.domain.model import NOTHING, BalanceKey
from stockwire.stock.repository.rows import columns
from stockwire.stock.tables import ledger

INSERT_NOTES = text(
    """
    INSERT INTO movement_notes (movement_id, note)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:notes AS text[]))
    """
)

LEDGER_COLUMNS = (
    "movement_id",
    "kind",
    "reason_code",
    "sku",
    "location",
    "lot",
    "serial",
    "on_hand_delta",
    "reserved_delta",
    "in_transit_in_delta",
    "in_transit_out_delta",
    "quantity",
    "from_location",
    "to_location",
    "condition",
    "job_id",
    "po_number",
    "transfer_id",
    "count_id",
    "actor",
    "source_event_id",
    "recorded_at",
)
"""Copied in the order movements happened, so ledger ids follow it."""


class Ledger:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, movements: Sequence[Movement], now: datetime) -> None:
        """One ledger row per leg (a movement without legs: one row of zeros)."""
        rows: list[tuple[Any, ...]] = []
        notes: list[tuple[object, str]] = []
        for m in movements:
            legs = m.legs or (Leg(BalanceKey(m.sku, m.location, m.lot, m.serial), NOTHING),)
            condition = m.condition.value if m.condition is not None else None
            for leg in legs:
                key, delta = leg.key, leg.delta
                rows.append(
                    (
                        m.movement_id,
                        m.kind.value,
                        m.reason_code,
                        key.sku,
                        key.location,
                        key.lot,
                        key.serial,
                        delta.on_hand,
                        delta.reserved,
                        delta.in_transit_in,
                        delta.in_transit_out,
                        m.quantity,
                        m.from_location,
                        m.to_location,
                        condition,
                        m.job_id,
                        m.po_number,
                        m.transfer_id,
                        m.count_id,
                        m.actor,
                        m.source_event_id,
                        now,
                    )
                )
            if m.note:
                notes.append((m.movement_id, m.note))
        await copy_records(self._session, ledger.name, LEDGER_COLUMNS, rows)
        if notes:
            ids, texts = columns(notes, 2)
            await self._session.execute(INSERT_NOTES, {"ids": ids, "notes": texts})
