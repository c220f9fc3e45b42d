"""Loading a batch's working set and writing back what the book changed, set-based.

Loading takes a handful of queries whatever the batch size, and takes its locks in one
global order, so that two instances (or a consumer and an HTTP request) wait for each
other but never deadlock:

1. counts, transfers and reservations the commands name (``FOR UPDATE``, by id);
2. the ``levels`` row of every SKU x location the batch may touch, created if missing and
   locked in one sorted ``INSERT ... ON CONFLICT DO UPDATE``: this is the lock that guards
   a pair's balances and its level;
3. the serials the batch names (``FOR UPDATE``, sorted);
4. the jobs' custody rows (``FOR UPDATE``).

The catalog copy and balance rows are read without row locks: catalog rows only change
through the catalog consumer, and balance rows only under their pair's lock.

Writes are deltas where several transactions may write the same row (balances, levels,
job custody: ``x = x + delta``), so the books stay summed right even if a rule ever read
a stale figure; a new serial, transfer, reservation or count is a plain insert, so two
transactions creating the same one cannot both succeed (the loser retries and then sees
it).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.vocabulary import TrackingMode
from stockwire.runtime.db import copy_records
from stockwire.stock.domain import plan
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.commands import Command, ItemCopy, LocationCopy
from stockwire.stock.domain.events import Leg, Movement
from stockwire.stock.domain.model import (
    NOTHING,
    Amounts,
    BalanceKey,
    Count,
    CountLine,
    CountLineKey,
    CountStatus,
    ItemInfo,
    JobPart,
    JobPartKey,
    Loaded,
    LocationInfo,
    Pair,
    Reservation,
    ReservationStatus,
    SerialRecord,
    SerialState,
    StockState,
    Transfer,
    TransferStatus,
)
from stockwire.stock.tables import ledger

MAX_TREE_DEPTH = 100
"""How far up the location tree the quarantine search looks, so a corrupt tree cannot loop."""

ITEMS = text("SELECT sku, tracking_mode, status FROM catalog_items WHERE sku = ANY(:skus)")

LOCATIONS = text(
    f"""
    WITH RECURSIVE up(code, parent_code, depth) AS (
        SELECT code, parent_code, 0 FROM catalog_locations WHERE code = ANY(:codes)
        UNION
        SELECT l.code, l.parent_code, up.depth + 1
        FROM catalog_locations l JOIN up ON l.code = up.parent_code
        WHERE up.depth < {MAX_TREE_DEPTH}
    )
    SELECT code, kind, parent_code, active FROM catalog_locations
    WHERE code IN (SELECT code FROM up)
       OR (kind = 'quarantine' AND parent_code IN (SELECT code FROM up))
    """
)
"""The named locations, their ancestors, and the quarantine children of all of those:
what the nearest-quarantine rule walks."""

SERIALS = "SELECT serial, sku, location, state, lot, job_id, last_movement_id FROM serials"
READ_SERIALS = text(f"{SERIALS} WHERE serial = ANY(:serials)")
LOCK_SERIALS = text(f"{SERIALS} WHERE serial = ANY(:serials) ORDER BY serial FOR UPDATE")

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

LOCK_LEVELS = text(
    """
    INSERT INTO levels (sku, location)
    SELECT k.sku, k.location
    FROM unnest(CAST(:skus AS text[]), CAST(:locations AS text[])) AS k(sku, location)
    ORDER BY k.sku, k.location
    ON CONFLICT (sku, location) DO UPDATE SET sku = EXCLUDED.sku
    RETURNING sku, location, on_hand, reserved, in_transit_in, in_transit_out
    """
)
"""Creates the missing level rows and locks all of them, in key order, in one statement.
(A plain ``SELECT ... FOR UPDATE`` cannot lock a row that does not exist yet.)"""

PAIRS_AT = text("SELECT sku, location FROM levels WHERE location = ANY(:locations)")

BALANCES = text(
    """
    SELECT b.sku, b.location, b.lot, b.serial, b.on_hand, b.reserved, b.in_transit_in,
           b.in_transit_out
    FROM balances b
    JOIN unnest(CAST(:skus AS text[]), CAST(:locations AS text[]), CAST(:lots AS text[]),
                CAST(:serials AS text[])) AS k(sku, location, lot, serial)
      ON b.sku = k.sku AND b.location = k.location AND b.lot = k.lot AND b.serial = k.serial
    UNION
    SELECT b.sku, b.location, b.lot, b.serial, b.on_hand, b.reserved, b.in_transit_in,
           b.in_transit_out
    FROM balances b
    JOIN unnest(CAST(:whole_skus AS text[]), CAST(:whole_locations AS text[]))
      AS p(sku, location) ON b.sku = p.sku AND b.location = p.location
    """
)

LOCK_CUSTODY = text(
    """
    SELECT job_id, sku, lot, serial, quantity, from_location FROM job_parts
    WHERE job_id = ANY(:jobs) ORDER BY job_id, sku, lot, serial FOR UPDATE
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

INSERT_NOTES = text(
    """
    INSERT INTO movement_notes (movement_id, note)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:notes AS text[]))
    """
)

ADD_BALANCES = text(
    """
    INSERT INTO balances AS b (sku, location, lot, serial, on_hand, reserved, in_transit_in,
        in_transit_out, last_movement_id, updated_at)
    SELECT k.*, CAST(:now AS timestamptz)
    FROM unnest(CAST(:skus AS text[]), CAST(:locations AS text[]), CAST(:lots AS text[]),
        CAST(:serials AS text[]), CAST(:on_hand AS numeric[]), CAST(:reserved AS numeric[]),
        CAST(:transit_in AS numeric[]), CAST(:transit_out AS numeric[]),
        CAST(:movements AS uuid[])) AS k
    ON CONFLICT (sku, location, lot, serial) DO UPDATE SET
        on_hand = b.on_hand + EXCLUDED.on_hand,
        reserved = b.reserved + EXCLUDED.reserved,
        in_transit_in = b.in_transit_in + EXCLUDED.in_transit_in,
        in_transit_out = b.in_transit_out + EXCLUDED.in_transit_out,
        last_movement_id = EXCLUDED.last_movement_id,
        updated_at = EXCLUDED.updated_at
    """
)

ADD_LEVELS = text(
    """
    UPDATE levels AS v SET
        on_hand = v.on_hand + d.on_hand,
        reserved = v.reserved + d.reserved,
        in_transit_in = v.in_transit_in + d.in_transit_in,
        in_transit_out = v.in_transit_out + d.in_transit_out,
        last_movement_id = d.movement,
        updated_at = CAST(:now AS timestamptz)
    FROM unnest(CAST(:skus AS text[]), CAST(:locations AS text[]),
        CAST(:on_hand AS numeric[]), CAST(:reserved AS numeric[]),
        CAST(:transit_in AS numeric[]), CAST(:transit_out AS numeric[]),
        CAST(:movements AS uuid[]))
        AS d(sku, location, on_hand, reserved, in_transit_in, in_transit_out, movement)
    WHERE v.sku = d.sku AND v.location = d.location
    """
)

SERIAL_COLUMNS = "serial, sku, location, state, lot, job_id, last_movement_id"
SERIAL_ARRAYS = """unnest(CAST(:serials AS text[]), CAST(:skus AS text[]),
        CAST(:locations AS text[]), CAST(:states AS text[]), CAST(:lots AS text[]),
        CAST(:jobs AS text[]), CAST(:movements AS uuid[]))"""
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
        updated_at = CAST(:now AS timestamptz)
    FROM {SERIAL_ARRAYS} AS k({SERIAL_COLUMNS})
    WHERE s.serial = k.serial
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


UPSERT_ITEMS = text(
    """
    INSERT INTO catalog_items AS i (sku, tracking_mode, unit, status, version, updated_at)
    SELECT k.*, now() FROM unnest(CAST(:skus AS text[]), CAST(:modes AS text[]),
        CAST(:units AS text[]), CAST(:statuses AS text[]), CAST(:versions AS integer[])) AS k
    ON CONFLICT (sku) DO UPDATE SET tracking_mode = EXCLUDED.tracking_mode,
        unit = EXCLUDED.unit, status = EXCLUDED.status, version = EXCLUDED.version,
        updated_at = EXCLUDED.updated_at
    WHERE i.version < EXCLUDED.version
    """
)
"""A newer version replaces the copy; an older or equal one (a replay) changes nothing."""

UPSERT_LOCATIONS = text(
    """
    INSERT INTO catalog_locations AS l (code, kind, region, parent_code, active, version,
        updated_at)
    SELECT k.*, now() FROM unnest(CAST(:codes AS text[]), CAST(:kinds AS text[]),
        CAST(:regions AS text[]), CAST(:parents AS text[]), CAST(:active AS boolean[]),
        CAST(:versions AS integer[])) AS k
    ON CONFLICT (code) DO UPDATE SET kind = EXCLUDED.kind, region = EXCLUDED.region,
        parent_code = EXCLUDED.parent_code, active = EXCLUDED.active,
        version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
    WHERE l.version < EXCLUDED.version
    """
)

CLAIM_REQUEST = text(
    """
    INSERT INTO command_requests (request_id, fingerprint) VALUES (:id, :fingerprint)
    ON CONFLICT (request_id) DO NOTHING RETURNING request_id
    """
)
STORED_ANSWER = text(
    "SELECT fingerprint, status_code, body FROM command_requests WHERE request_id = :id"
)
STORE_ANSWER = text(
    "UPDATE command_requests SET status_code = :status, body = CAST(:body AS jsonb) "
    "WHERE request_id = :id"
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


def _amounts(row: Mapping[str, Any]) -> Amounts:
    return Amounts(row["on_hand"], row["reserved"], row["in_transit_in"], row["in_transit_out"])


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to columns, for ``unnest``."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


class StockRepository:
    """Loads and saves the working set of one transaction on ``session``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._existing_serials: set[str] = set()
        self._existing_reservations: set[str] = set()
        self._existing_transfers: set[str] = set()
        self._existing_counts: set[str] = set()

    async def _rows(self, statement: Any, **params: Any) -> list[Mapping[str, Any]]:
        result = await self._session.execute(statement, params)
        return [row._mapping for row in result]

    # ------------------------------------------------------------------ catalog copy

    async def copy_items(self, copies: Sequence[ItemCopy]) -> None:
        if copies:
            await self._session.execute(
                UPSERT_ITEMS,
                {
                    "skus": [c.sku for c in copies],
                    "modes": [c.tracking_mode for c in copies],
                    "units": [c.unit for c in copies],
                    "statuses": [c.status for c in copies],
                    "versions": [c.version for c in copies],
                },
            )

    async def copy_locations(self, copies: Sequence[LocationCopy]) -> None:
        if copies:
            await self._session.execute(
                UPSERT_LOCATIONS,
                {
                    "codes": [c.code for c in copies],
                    "kinds": [c.kind for c in copies],
                    "regions": [c.region for c in copies],
                    "parents": [c.parent_code for c in copies],
                    "active": [c.active for c in copies],
                    "versions": [c.version for c in copies],
                },
            )

    # ------------------------------------------------------------------ HTTP requests

    async def claim_request(
        self, request_id: str, fingerprint: str
    ) -> tuple[str, int | None, Any] | None:
        """None if ``request_id`` is new (and now claimed until this transaction ends);
        else what the earlier request stored: its fingerprint, status code and body. A
        concurrent duplicate waits here until the first one commits or rolls back. The
        stored answer can be purged between the claim and the read (its retention ran
        out just then): the key is then new, and is claimed again."""
        while True:
            claimed = await self._session.scalar(
                CLAIM_REQUEST, {"id": request_id, "fingerprint": fingerprint}
            )
            if claimed is not None:
                return None
            row = (await self._session.execute(STORED_ANSWER, {"id": request_id})).one_or_none()
            if row is not None:
                return row.fingerprint, row.status_code, row.body

    async def store_answer(self, request_id: str, status_code: int, body: str) -> None:
        await self._session.execute(
            STORE_ANSWER, {"id": request_id, "status": status_code, "body": body}
        )

    # ------------------------------------------------------------------ loading

    async def load(self, cmds: Sequence[Command]) -> StockState:
        """The rows ``cmds`` may touch, locked as the module docstring says."""
        state = StockState()
        named = plan.named(cmds)
        await self._documents(state, named)
        more = plan.documents_named(state, named)
        skus = named.skus | more.skus
        codes = named.locations | more.locations
        serials = named.serials | more.serials
        if named.unnamed_skus:
            for row in await self._rows(READ_SERIALS, serials=sorted(named.unnamed_skus)):
                state.serials[row["serial"]] = self._serial(row)
                skus.add(row["sku"])
        await self._catalog(state, skus, codes)
        scope = plan.scope(cmds, state)
        if scope.whole_counts or scope.count_lines:
            await self._count_lines(state, scope)
            for key in state.count_lines:
                if key.count_id in scope.whole_counts:
                    scope.whole.add(Pair(key.sku, state.counts[key.count_id].location))
        if scope.count_locations:
            for row in await self._rows(PAIRS_AT, locations=sorted(scope.count_locations)):
                scope.whole.add(Pair(row["sku"], row["location"]))
            scope.whole.update(p for p in scope.pairs if p.location in scope.count_locations)
        pairs = sorted(scope.pairs)
        if pairs:
            rows = await self._rows(
                LOCK_LEVELS,
                skus=[pair.sku for pair in pairs],
                locations=[pair.location for pair in pairs],
            )
            for row in rows:
                state.levels[Pair(row["sku"], row["location"])] = _amounts(row)
            await self._balances(state, scope)
        if scope.count_locations:
            serials |= {key.serial for key in state.balances if key.serial}
            await self._items(state, {pair.sku for pair in scope.whole} - set(state.items))
        await self._serials(state, serials)
        if named.custody_jobs:
            await self._custody(state, named.custody_jobs)
        state.loaded = Loaded(
            keys=frozenset(scope.keys),
            whole=frozenset(scope.whole),
            lines=frozenset(scope.count_lines),
            whole_counts=frozenset(scope.whole_counts),
        )
        return state

    async def _documents(self, state: StockState, named: plan.Named) -> None:
        if named.counts:
            for row in await self._rows(LOCK_COUNTS, ids=sorted(named.counts)):
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
            for row in await self._rows(LOCK_TRANSFERS, ids=sorted(named.transfers)):
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
            rows = await self._rows(
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

    async def _catalog(self, state: StockState, skus: set[str], codes: set[str]) -> None:
        await self._items(state, skus)
        if codes:
            for row in await self._rows(LOCATIONS, codes=sorted(codes)):
                kind = row["kind"]
                state.locations[row["code"]] = LocationInfo(
                    row["code"],
                    kind,
                    row["parent_code"],
                    row["active"],
                )

    async def _items(self, state: StockState, skus: set[str]) -> None:
        if skus:
            for row in await self._rows(ITEMS, skus=sorted(skus)):
                state.items[row["sku"]] = ItemInfo(
                    row["sku"], TrackingMode(row["tracking_mode"]), row["status"] == "active"
                )

    async def _balances(self, state: StockState, scope: plan.Scope) -> None:
        keys = sorted(key for key in scope.keys if key.pair not in scope.whole)
        whole = sorted(scope.whole)
        rows = await self._rows(
            BALANCES,
            skus=[key.sku for key in keys],
            locations=[key.location for key in keys],
            lots=[key.lot for key in keys],
            serials=[key.serial for key in keys],
            whole_skus=[pair.sku for pair in whole],
            whole_locations=[pair.location for pair in whole],
        )
        for row in rows:
            key = BalanceKey(row["sku"], row["location"], row["lot"], row["serial"])
            state.balances[key] = _amounts(row)

    async def _serials(self, state: StockState, serials: set[str]) -> None:
        state.serials.clear()
        if serials:
            for row in await self._rows(LOCK_SERIALS, serials=sorted(serials)):
                state.serials[row["serial"]] = self._serial(row)
        self._existing_serials = set(state.serials)

    @staticmethod
    def _serial(row: Mapping[str, Any]) -> SerialRecord:
        return SerialRecord(
            serial=row["serial"],
            sku=row["sku"],
            location=row["location"],
            state=SerialState(row["state"]),
            lot=row["lot"],
            job_id=row["job_id"],
            last_movement_id=row["last_movement_id"],
        )

    async def _custody(self, state: StockState, jobs: set[str]) -> None:
        for row in await self._rows(LOCK_CUSTODY, jobs=sorted(jobs)):
            key = JobPartKey(row["job_id"], row["sku"], row["lot"], row["serial"])
            state.job_parts[key] = JobPart(row["quantity"], row["from_location"])

    async def _count_lines(self, state: StockState, scope: plan.Scope) -> None:
        keys = sorted(scope.count_lines)
        rows = await self._rows(
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

    async def save(self, book: StockBook) -> None:
        """Write what ``book`` recorded and changed."""
        now = book.now
        movements = book.movements
        if movements:
            await self._ledger(movements, now)
            await self._balances_and_levels(book, now)
        await self._save_serials(book, now)
        await self._save_custody(book, now)
        await self._save_reservations(book, now)
        await self._save_transfers(book)
        await self._save_counts(book)

    async def _ledger(self, movements: Sequence[Movement], now: datetime) -> None:
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
            ids, texts = _columns(notes, 2)
            await self._session.execute(INSERT_NOTES, {"ids": ids, "notes": texts})

    async def _balances_and_levels(self, book: StockBook, now: datetime) -> None:
        by_key: dict[BalanceKey, list[Any]] = {}
        by_pair: dict[Pair, list[Any]] = {}
        for movement in book.movements:
            for leg in movement.legs:
                for table, key in ((by_key, leg.key), (by_pair, leg.key.pair)):
                    entry = table.get(key)
                    if entry is None:
                        table[key] = [leg.delta, movement.movement_id]
                    else:
                        entry[0] = entry[0].plus(leg.delta)
                        entry[1] = movement.movement_id
        if by_key:
            keys = sorted(by_key)
            await self._session.execute(
                ADD_BALANCES,
                {
                    "skus": [k.sku for k in keys],
                    "locations": [k.location for k in keys],
                    "lots": [k.lot for k in keys],
                    "serials": [k.serial for k in keys],
                    **self._delta_columns([by_key[k] for k in keys]),
                    "now": now,
                },
            )
        if by_pair:
            pairs = sorted(by_pair)
            await self._session.execute(
                ADD_LEVELS,
                {
                    "skus": [p.sku for p in pairs],
                    "locations": [p.location for p in pairs],
                    **self._delta_columns([by_pair[p] for p in pairs]),
                    "now": now,
                },
            )

    @staticmethod
    def _delta_columns(entries: Sequence[list[Any]]) -> dict[str, list[Any]]:
        return {
            "on_hand": [e[0].on_hand for e in entries],
            "reserved": [e[0].reserved for e in entries],
            "transit_in": [e[0].in_transit_in for e in entries],
            "transit_out": [e[0].in_transit_out for e in entries],
            "movements": [e[1] for e in entries],
        }

    async def _save_serials(self, book: StockBook, now: datetime) -> None:
        records = [book.state.serials[serial] for serial in sorted(book.dirty_serials)]
        new = [r for r in records if r.serial not in self._existing_serials]
        old = [r for r in records if r.serial in self._existing_serials]
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
                        "now": now,
                    },
                )
        self._existing_serials.update(r.serial for r in new)

    async def _save_custody(self, book: StockBook, now: datetime) -> None:
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
            ids, skus = _columns(scoped, 2)
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
