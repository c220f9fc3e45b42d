"""Job custody: parts issued to a job and not yet installed or returned. Written as
deltas; a row that drops to zero is deleted."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.model import JobPart, JobPartKey, StockState
from stockwire.stock.repository.rows import fetch

LOCK_CUSTODY = text(
    """
    SELECT job_id, sku, lot, serial, quantity, from_location FROM job_parts
    WHERE job_id = ANY(:jobs) ORDER BY job_id, sku, lot, serial FOR UPDATE
    """
)

ADD_CUSTODY = text(
    """
    INSERT INTO job_parts AS p (job_id, sku, lot, serial, from_location, quantity, updated_at)
    SELECT k.*, CAST(:now AS timestamptz)
    FROM unnest(CAST(:jobs AS text[]), CAST(:skus AS text[]), CAST(:lots AS text[]),
        CAST(:serials AS text[]), CAST(:froms AS text[]), CAST(:deltas AS numeric[])) AS k
    ON CONFLICT (job_id, sku, lot, serial) DO UPDATE SET
        quantity = p.quantity + EXCLUDED.quantity,
        from_location = CASE WHEN EXCLUDED.quantity > 0 THEN EXCLUDED.from_location
                             ELSE p.from_location END,
        updated_at = EXCLUDED.updated_at
    """
)

DROP_EMPTY_CUSTODY = text(
    """
    DELETE FROM job_parts p
    USING unnest(CAST(:jobs AS text[]), CAST(:skus AS text[]), CAST(:lots AS text[]),
        CAST(:serials AS text[])) AS k(job_id, sku, lot, serial)
    WHERE p.job_id = k.job_id AND p.sku = k.sku AND p.lot = k.lot AND p.serial = k.serial
      AND p.quantity = 0
    """
)


class Custody:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, state: StockState, jobs: set[str]) -> None:
        for row in await fetch(self._session, LOCK_CUSTODY, jobs=sorted(jobs)):
            key = JobPartKey(row["job_id"], row["sku"], row["lot"], row["serial"])
            state.job_parts[key] = JobPart(row["quantity"], row["from_location"])

    async def save(self, book: StockBook, now: datetime) -> None:
        deltas = {key: delta for key, delta in book.custody_deltas.items() if delta}
        if not deltas:
            return
        keys = sorted(deltas)
        columns = {
            "jobs": [k.job_id for k in keys],
            "skus": [k.sku for k in keys],
            "lots": [k.lot for k in keys],
            "serials": [k.serial for k in keys],
        }
        await self._session.execute(
            ADD_CUSTODY,
            {
                **columns,
                "froms": [book.state.job_parts[k].from_location for k in keys],
                "deltas": [deltas[k] for k in keys],
                "now": now,
            },
        )
        await self._session.execute(DROP_EMPTY_CUSTODY, columns)
