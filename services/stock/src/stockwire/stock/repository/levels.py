"""Levels and balances: the ``levels`` row of a SKU x location is the lock that guards it
and every balance under it (a lot or serial balance row may not exist yet, a level row
is created before it is locked). Both are written as deltas, ``x = x + d``."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.stock.domain import plan
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.model import Amounts, BalanceKey, Pair, StockState
from stockwire.stock.repository.rows import fetch

LOCK_LEVELS = text(
    """
    INSERT INTO levels (sku, location)
    SELECT k.sku, k.location
    FROM unnest(CAST(:skus AS text[]), CAST(:locations AS text[])) AS k(sku, location)
    ORDER BY k.sku, k.location
    ON CONFLICT (sku, location) DO UPDATE SET sku = EXCLUDED.sku
    RETURNING sku, location, on_hand, reserved, in_transit_in, in_transit_out,
        last_movement_id
    """
)
"""Creates the missing level rows and locks all of them, in key order, in one statement.
(A plain ``SELECT ... FOR UPDATE`` cannot lock a row that does not exist yet.) A level no
movement has changed yet has no ``last_movement_id``."""

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


class Levels:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def pairs_at(self, locations: set[str]) -> set[Pair]:
        """Every SKU x location with a level row at ``locations`` (what a count covers)."""
        rows = await fetch(self._session, PAIRS_AT, locations=sorted(locations))
        return {Pair(row["sku"], row["location"]) for row in rows}

    async def lock(self, state: StockState, scope: plan.Scope) -> None:
        """Create and lock the levels of ``scope``'s pairs, in key order, and read their
        balances (exact keys, or every balance of a whole pair)."""
        pairs = sorted(scope.pairs)
        if not pairs:
            return
        rows = await fetch(
            self._session,
            LOCK_LEVELS,
            skus=[pair.sku for pair in pairs],
            locations=[pair.location for pair in pairs],
        )
        for row in rows:
            pair = Pair(row["sku"], row["location"])
            state.levels[pair] = _amounts(row)
            if row["last_movement_id"] is not None:
                state.moved.add(pair)
        await self.balances(state, scope.keys, scope.whole)

    async def balances(
        self, state: StockState, keys: Iterable[BalanceKey], whole: Iterable[Pair] = ()
    ) -> None:
        """Read the balances of ``keys`` and every balance of the ``whole`` pairs; their
        levels must be locked already."""
        wholly = set(whole)
        exact = sorted(key for key in keys if key.pair not in wholly)
        pairs = sorted(wholly)
        rows = await fetch(
            self._session,
            BALANCES,
            skus=[key.sku for key in exact],
            locations=[key.location for key in exact],
            lots=[key.lot for key in exact],
            serials=[key.serial for key in exact],
            whole_skus=[pair.sku for pair in pairs],
            whole_locations=[pair.location for pair in pairs],
        )
        for row in rows:
            key = BalanceKey(row["sku"], row["location"], row["lot"], row["serial"])
            state.balances[key] = _amounts(row)

    async def save(self, book: StockBook, now: datetime) -> None:
        """Add the legs of ``book``'s movements to their balances and levels."""
        by_key: dict[BalanceKey, list[Any]] = {}
        by_pair: dict[Pair, list[Any]] = {}
        for movement in book.movements:
            for leg in movement.legs:
                _add(by_key, leg.key, leg.delta, movement.movement_id)
                _add(by_pair, leg.key.pair, leg.delta, movement.movement_id)
        if by_key:
            keys = sorted(by_key)
            await self._session.execute(
                ADD_BALANCES,
                {
                    "skus": [k.sku for k in keys],
                    "locations": [k.location for k in keys],
                    "lots": [k.lot for k in keys],
                    "serials": [k.serial for k in keys],
                    **_delta_columns([by_key[k] for k in keys]),
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
                    **_delta_columns([by_pair[p] for p in pairs]),
                    "now": now,
                },
            )


def _amounts(row: RowMapping) -> Amounts:
    return Amounts(row["on_hand"], row["reserved"], row["in_transit_in"], row["in_transit_out"])


def _delta_columns(entries: Sequence[list[Any]]) -> dict[str, list[Any]]:
    return {
        "on_hand": [e[0].on_hand for e in entries],
        "reserved": [e[0].reserved for e in entries],
        "transit_in": [e[0].in_transit_in for e in entries],
        "transit_out": [e[0].in_transit_out for e in entries],
        "movements": [e[1] for e in entries],
    }


K = TypeVar("K", BalanceKey, Pair)


def _add(totals: dict[K, list[Any]], key: K, delta: Amounts, movement_id: uuid.UUID) -> None:
    """Sum ``delta`` into ``key``'s entry: [the summed deltas, the last movement's id]."""
    entry = totals.get(key)
    if entry is None:
        totals[key] = [delta, movement_id]
    else:
        entry[0] = entry[0].plus(delta)
        entry[1] = movement_id
