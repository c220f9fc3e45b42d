"""Serials: where each one is and in what state, and where a conflict about it was last
alerted (until a movement of it resolves it). A new serial is a plain insert, so two
transactions creating the same one cannot both succeed (the loser retries and sees it).

For a transfer whose serials stock picks, the serials on the origin's shelf are read with
when each arrived: the time of its last movement (every movement that puts a serial in
stock somewhere is its last one there), else when its row last changed."""

from datetime import datetime

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.model import Pair, SerialRecord, SerialState, StockState
from stockwire.stock.repository.rows import fetch

SERIAL_COLUMNS = (
    "serial, sku, location, state, lot, job_id, last_movement_id, conflict_sku, conflict_location"
)

SERIALS = f"SELECT {SERIAL_COLUMNS} FROM serials"

READ_SERIALS = text(f"{SERIALS} WHERE serial = ANY(:serials)")

LOCK_SERIALS = text(f"{SERIALS} WHERE serial = ANY(:serials) ORDER BY serial FOR UPDATE")

ON_SHELVES = text(
    """
    SELECT s.sku, s.location, s.serial,
        COALESCE(
            (SELECT l.recorded_at FROM ledger l WHERE l.movement_id = s.last_movement_id
             LIMIT 1),
            s.updated_at
        ) AS arrived_at
    FROM serials s
    JOIN unnest(CAST(:skus AS text[]), CAST(:locations AS text[])) AS p(sku, location)
      ON s.sku = p.sku AND s.location = p.location
    WHERE s.state = 'in_stock'
    """
)
"""Served by the partial index ``serials_on_shelf``; read without row locks, under the
pairs' level locks (a serial cannot come or go there without them), and locked with the
batch's other serials afterwards."""

SERIAL_ARRAYS = """unnest(CAST(:serials AS text[]), CAST(:skus AS text[]),
        CAST(:locations AS text[]), CAST(:states AS text[]), CAST(:lots AS text[]),
        CAST(:jobs AS text[]), CAST(:movements AS uuid[]), CAST(:conflict_skus AS text[]),
        CAST(:conflict_locations AS text[]))"""

INSERT_SERIALS = text(
    f"""
    INSERT INTO serials ({SERIAL_COLUMNS}, updated_at)
    SELECT k.*, CAST(:now AS timestamptz) FROM {SERIAL_ARRAYS} AS k
    """
)

UPDATE_SERIALS = text(
    f"""
    UPDATE serials AS s SET sku = k.sku, location = k.location, state = k.state, lot = k.lot,
        job_id = k.job_id, last_movement_id = k.last_movement_id,
        conflict_sku = k.conflict_sku, conflict_location = k.conflict_location,
        updated_at = CAST(:now AS timestamptz)
    FROM {SERIAL_ARRAYS} AS k({SERIAL_COLUMNS})
    WHERE s.serial = k.serial
    """
)


class Serials:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._existing: set[str] = set()

    async def read(self, state: StockState, serials: set[str]) -> set[str]:
        """Read (without locking) the records of serials named without a SKU, so the plan
        knows their SKUs; returns those SKUs."""
        skus = set()
        for row in await fetch(self._session, READ_SERIALS, serials=sorted(serials)):
            state.serials[row["serial"]] = _serial(row)
            skus.add(row["sku"])
        return skus

    async def on_shelves(self, state: StockState, pairs: set[Pair]) -> set[str]:
        """Read the serials in stock at ``pairs`` into ``state.shelves``, with when each
        arrived; returns them, for the caller to lock."""
        ordered = sorted(pairs)
        for pair in ordered:
            state.shelves[pair] = {}
        rows = await fetch(
            self._session,
            ON_SHELVES,
            skus=[pair.sku for pair in ordered],
            locations=[pair.location for pair in ordered],
        )
        for row in rows:
            state.shelves[Pair(row["sku"], row["location"])][row["serial"]] = row["arrived_at"]
        return {row["serial"] for row in rows}

    async def lock(self, state: StockState, serials: set[str]) -> None:
        """Lock and (re)read ``serials``, in order; ``state`` then holds exactly them."""
        state.serials.clear()
        if serials:
            for row in await fetch(self._session, LOCK_SERIALS, serials=sorted(serials)):
                state.serials[row["serial"]] = _serial(row)
        self._existing = set(state.serials)

    async def save(self, book: StockBook, now: datetime) -> None:
        records = [book.state.serials[serial] for serial in sorted(book.dirty_serials)]
        new = [r for r in records if r.serial not in self._existing]
        old = [r for r in records if r.serial in self._existing]
        for statement, batch in ((INSERT_SERIALS, new), (UPDATE_SERIALS, old)):
            if batch:
                await self._session.execute(
                    statement,
                    {
                        "serials": [r.serial for r in batch],
                        "skus": [r.sku for r in batch],
                        "locations": [r.location for r in batch],
                        "states": [r.state.value for r in batch],
                        "lots": [r.lot for r in batch],
                        "jobs": [r.job_id for r in batch],
                        "movements": [r.last_movement_id for r in batch],
                        "conflict_skus": [r.conflict.sku if r.conflict else None for r in batch],
                        "conflict_locations": [
                            r.conflict.location if r.conflict else None for r in batch
                        ],
                        "now": now,
                    },
                )
        self._existing.update(r.serial for r in new)


def _serial(row: RowMapping) -> SerialRecord:
    return SerialRecord(
        serial=row["serial"],
        sku=row["sku"],
        location=row["location"],
        state=SerialState(row["state"]),
        lot=row["lot"],
        job_id=row["job_id"],
        last_movement_id=row["last_movement_id"],
        conflict=(
            Pair(row["conflict_sku"], row["conflict_location"])
            if row["conflict_sku"] is not None
            else None
        ),
    )
