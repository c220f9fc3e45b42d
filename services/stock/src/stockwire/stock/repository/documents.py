"""Documents: transfers, reservations and counts (with their SKU lists and lines). Each is
locked by id before anything else a batch touches; a new one is a plain insert, so two
transactions creating the same one cannot both succeed (the loser retries and sees it)."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.stock.domain import plan
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.model import (
    Count,
    CountLine,
    CountLineKey,
    CountStatus,
    Reservation,
    ReservationStatus,
    StockState,
    Transfer,
    TransferStatus,
)
from stockwire.stock.repository.rows import columns, fetch

LOCK_TRANSFERS = text(
    """
    SELECT transfer_id, sku, from_location, to_location, lot, serials, quantity_shipped,
           quantity_received, status, shipped_at, received_at
    FROM transfers WHERE transfer_id = ANY(:ids) ORDER BY transfer_id FOR UPDATE
    """
)

LOCK_COUNTS = text(
    """
    SELECT count_id, location, blind, status, opened_at, closed_at, items_counted,
           items_matching, accuracy,
           (SELECT array_agg(sku ORDER BY sku) FROM count_skus s
            WHERE s.count_id = counts.count_id) AS skus
    FROM counts WHERE count_id = ANY(:ids) ORDER BY count_id FOR UPDATE
    """
)

LOCK_RESERVATIONS = text(
    """
    SELECT reservation_id, job_id, sku, location, quantity, fulfilled, status, created_at
    FROM reservations
    WHERE reservation_id = ANY(:ids) OR (job_id = ANY(:jobs) AND status = 'open')
    ORDER BY reservation_id FOR UPDATE
    """
)

COUNT_LINES = text(
    """
    SELECT l.count_id, l.sku, l.lot, l.serial, l.counted, l.expected FROM count_lines l
    JOIN unnest(CAST(:ids AS text[]), CAST(:skus AS text[]), CAST(:lots AS text[]),
                CAST(:serials AS text[])) AS k(count_id, sku, lot, serial)
      ON l.count_id = k.count_id AND l.sku = k.sku AND l.lot = k.lot AND l.serial = k.serial
    UNION
    SELECT count_id, sku, lot, serial, counted, expected FROM count_lines
    WHERE count_id = ANY(:whole)
    """
)

RESERVATION_ARRAYS = """unnest(CAST(:ids AS text[]), CAST(:jobs AS text[]),
        CAST(:skus AS text[]), CAST(:locations AS text[]), CAST(:quantities AS numeric[]),
        CAST(:fulfilled AS numeric[]), CAST(:statuses AS text[]),
        CAST(:created AS timestamptz[]))"""

INSERT_RESERVATIONS = text(
    f"""
    INSERT INTO reservations (reservation_id, job_id, sku, location, quantity, fulfilled,
        status, created_at, updated_at)
    SELECT k.*, CAST(:now AS timestamptz) FROM {RESERVATION_ARRAYS} AS k
    """
)

UPDATE_RESERVATIONS = text(
    f"""
    UPDATE reservations AS r SET fulfilled = k.fulfilled, status = k.status,
        updated_at = CAST(:now AS timestamptz)
    FROM {RESERVATION_ARRAYS}
        AS k(id, job_id, sku, location, quantity, fulfilled, status, created_at)
    WHERE r.reservation_id = k.id
    """
)

TRANSFER_ARRAYS = """unnest(CAST(:ids AS text[]), CAST(:skus AS text[]),
        CAST(:froms AS text[]), CAST(:tos AS text[]), CAST(:lots AS text[]),
        CAST(:serials AS text[]), CAST(:shipped AS numeric[]), CAST(:received AS numeric[]),
        CAST(:statuses AS text[]), CAST(:shipped_at AS timestamptz[]),
        CAST(:received_at AS timestamptz[]))"""

INSERT_TRANSFERS = text(
    f"""
    INSERT INTO transfers (transfer_id, sku, from_location, to_location, lot, serials,
        quantity_shipped, quantity_received, status, shipped_at, received_at)
    SELECT id, sku, f, t, lot, CAST(serials AS text[]), shipped, received, status,
        shipped_at, received_at
    FROM {TRANSFER_ARRAYS}
        AS k(id, sku, f, t, lot, serials, shipped, received, status, shipped_at, received_at)
    """
)

UPDATE_TRANSFERS = text(
    f"""
    UPDATE transfers AS x SET quantity_received = k.received, status = k.status,
        received_at = k.received_at
    FROM {TRANSFER_ARRAYS}
        AS k(id, sku, f, t, lot, serials, shipped, received, status, shipped_at, received_at)
    WHERE x.transfer_id = k.id
    """
)

COUNT_ARRAYS = """unnest(CAST(:ids AS text[]), CAST(:locations AS text[]),
        CAST(:blind AS boolean[]), CAST(:statuses AS text[]),
        CAST(:opened_at AS timestamptz[]), CAST(:closed_at AS timestamptz[]),
        CAST(:counted AS integer[]), CAST(:matching AS integer[]),
        CAST(:accuracy AS numeric[]))"""

INSERT_COUNTS = text(
    f"""
    INSERT INTO counts (count_id, location, blind, status, opened_at, closed_at,
        items_counted, items_matching, accuracy)
    SELECT * FROM {COUNT_ARRAYS}
    """
)

UPDATE_COUNTS = text(
    f"""
    UPDATE counts AS c SET status = k.status, closed_at = k.closed_at,
        items_counted = k.counted, items_matching = k.matching, accuracy = k.accuracy
    FROM {COUNT_ARRAYS}
        AS k(id, location, blind, status, opened_at, closed_at, counted, matching, accuracy)
    WHERE c.count_id = k.id
    """
)

INSERT_COUNT_SKUS = text(
    """
    INSERT INTO count_skus (count_id, sku)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:skus AS text[]))
    """
)

UPSERT_COUNT_LINES = text(
    """
    INSERT INTO count_lines (count_id, sku, lot, serial, counted, expected)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:skus AS text[]), CAST(:lots AS text[]),
        CAST(:serials AS text[]), CAST(:counted AS numeric[]), CAST(:expected AS numeric[]))
    ON CONFLICT (count_id, sku, lot, serial) DO UPDATE SET
        counted = EXCLUDED.counted, expected = EXCLUDED.expected
    """
)
"""Absolute values: every writer of a count's lines holds the count's row lock."""


class Documents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._existing_reservations: set[str] = set()
        self._existing_transfers: set[str] = set()
        self._existing_counts: set[str] = set()

    # ------------------------------------------------------------------ loading

    async def lock(self, state: StockState, named: plan.Named) -> None:
        """Lock the counts, transfers and reservations ``named`` names (reservations: by
        id, and the open ones of the jobs it names), each kind in id order."""
        if named.counts:
            for row in await fetch(self._session, LOCK_COUNTS, ids=sorted(named.counts)):
                state.counts[row["count_id"]] = Count(
                    count_id=row["count_id"],
                    location=row["location"],
                    blind=row["blind"],
                    status=CountStatus(row["status"]),
                    opened_at=row["opened_at"],
                    skus=tuple(row["skus"]) if row["skus"] else None,
                    closed_at=row["closed_at"],
                    items_counted=row["items_counted"],
                    items_matching=row["items_matching"],
                    accuracy=row["accuracy"],
                )
            self._existing_counts = set(state.counts)
        if named.transfers:
            for row in await fetch(self._session, LOCK_TRANSFERS, ids=sorted(named.transfers)):
                state.transfers[row["transfer_id"]] = Transfer(
                    transfer_id=row["transfer_id"],
                    sku=row["sku"],
                    from_location=row["from_location"],
                    to_location=row["to_location"],
                    lot=row["lot"],
                    serials=tuple(row["serials"] or ()),
                    quantity_shipped=row["quantity_shipped"],
                    quantity_received=row["quantity_received"],
                    status=TransferStatus(row["status"]),
                    shipped_at=row["shipped_at"],
                    received_at=row["received_at"],
                )
            self._existing_transfers = set(state.transfers)
        if named.reservations or named.reservation_jobs:
            rows = await fetch(
                self._session,
                LOCK_RESERVATIONS,
                ids=sorted(named.reservations),
                jobs=sorted(named.reservation_jobs),
            )
            for row in rows:
                state.reservations[row["reservation_id"]] = Reservation(
                    reservation_id=row["reservation_id"],
                    job_id=row["job_id"],
                    sku=row["sku"],
                    location=row["location"],
                    quantity=row["quantity"],
                    fulfilled=row["fulfilled"],
                    status=ReservationStatus(row["status"]),
                    created_at=row["created_at"],
                )
            self._existing_reservations = set(state.reservations)

    async def count_lines(self, state: StockState, scope: plan.Scope) -> None:
        """The count lines ``scope`` names, and every line of the counts it closes (their
        counts are locked, so the lines need no lock of their own)."""
        keys = sorted(scope.count_lines)
        rows = await fetch(
            self._session,
            COUNT_LINES,
            ids=[key.count_id for key in keys],
            skus=[key.sku for key in keys],
            lots=[key.lot for key in keys],
            serials=[key.serial for key in keys],
            whole=sorted(scope.whole_counts),
        )
        for row in rows:
            key = CountLineKey(row["count_id"], row["sku"], row["lot"], row["serial"])
            state.count_lines[key] = CountLine(row["counted"], row["expected"])

    # ------------------------------------------------------------------ saving

    async def save(self, book: StockBook, now: datetime) -> None:
        await self._save_reservations(book, now)
        await self._save_transfers(book)
        await self._save_counts(book)

    async def _save_reservations(self, book: StockBook, now: datetime) -> None:
        records = [book.state.reservations[r] for r in sorted(book.dirty_reservations)]
        for statement, batch in (
            (
                INSERT_RESERVATIONS,
                [r for r in records if r.reservation_id not in self._existing_reservations],
            ),
            (
                UPDATE_RESERVATIONS,
                [r for r in records if r.reservation_id in self._existing_reservations],
            ),
        ):
            if batch:
                await self._session.execute(
                    statement,
                    {
                        "ids": [r.reservation_id for r in batch],
                        "jobs": [r.job_id for r in batch],
                        "skus": [r.sku for r in batch],
                        "locations": [r.location for r in batch],
                        "quantities": [r.quantity for r in batch],
                        "fulfilled": [r.fulfilled for r in batch],
                        "statuses": [r.status.value for r in batch],
                        "created": [r.created_at for r in batch],
                        "now": now,
                    },
                )
        self._existing_reservations.update(r.reservation_id for r in records)

    async def _save_transfers(self, book: StockBook) -> None:
        records = [book.state.transfers[t] for t in sorted(book.dirty_transfers)]
        for statement, batch in (
            (
                INSERT_TRANSFERS,
                [t for t in records if t.transfer_id not in self._existing_transfers],
            ),
            (UPDATE_TRANSFERS, [t for t in records if t.transfer_id in self._existing_transfers]),
        ):
            if batch:
                await self._session.execute(
                    statement,
                    {
                        "ids": [t.transfer_id for t in batch],
                        "skus": [t.sku for t in batch],
                        "froms": [t.from_location for t in batch],
                        "tos": [t.to_location for t in batch],
                        "lots": [t.lot for t in batch],
                        "serials": [
                            "{" + ",".join(_array_item(s) for s in t.serials) + "}" for t in batch
                        ],
                        "shipped": [t.quantity_shipped for t in batch],
                        "received": [t.quantity_received for t in batch],
                        "statuses": [t.status.value for t in batch],
                        "shipped_at": [t.shipped_at for t in batch],
                        "received_at": [t.received_at for t in batch],
                    },
                )
        self._existing_transfers.update(t.transfer_id for t in records)

    async def _save_counts(self, book: StockBook) -> None:
        records = [book.state.counts[c] for c in sorted(book.dirty_counts)]
        new = [c for c in records if c.count_id not in self._existing_counts]
        for statement, batch in (
            (INSERT_COUNTS, new),
            (UPDATE_COUNTS, [c for c in records if c.count_id in self._existing_counts]),
        ):
            if batch:
                await self._session.execute(
                    statement,
                    {
                        "ids": [c.count_id for c in batch],
                        "locations": [c.location for c in batch],
                        "blind": [c.blind for c in batch],
                        "statuses": [c.status.value for c in batch],
                        "opened_at": [c.opened_at for c in batch],
                        "closed_at": [c.closed_at for c in batch],
                        "counted": [c.items_counted for c in batch],
                        "matching": [c.items_matching for c in batch],
                        "accuracy": [c.accuracy for c in batch],
                    },
                )
        scoped = [(c.count_id, sku) for c in new for sku in c.skus or ()]
        if scoped:
            ids, skus = columns(scoped, 2)
            await self._session.execute(INSERT_COUNT_SKUS, {"ids": ids, "skus": skus})
        self._existing_counts.update(c.count_id for c in records)
        keys = sorted(book.dirty_lines)
        if keys:
            lines = [book.state.count_lines[k] for k in keys]
            await self._session.execute(
                UPSERT_COUNT_LINES,
                {
                    "ids": [k.count_id for k in keys],
                    "skus": [k.sku for k in keys],
                    "lots": [k.lot for k in keys],
                    "serials": [k.serial for k in keys],
                    "counted": [line.counted for line in lines],
                    "expected": [line.expected for line in lines],
                },
            )


def _array_item(value: str) -> str:
    """One element of a PostgreSQL array literal, quoted."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
