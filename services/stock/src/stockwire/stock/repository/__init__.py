"""Loading a batch's working set and writing back what the book changed, set-based.

Each part of the repository holds its own SQL, named for what it loads and saves:
:mod:`.documents` (transfers, reservations, counts and their lines), :mod:`.levels`
(levels and the balances under them), :mod:`.serials`, :mod:`.custody` (job custody),
:mod:`.ledger` (and notes), :mod:`.catalog` (what stock knows of the catalog, from the
runtime's catalog read copy). :class:`StockRepository` is the facade the unit of work
uses: it runs the parts in the order below.

Loading takes a handful of queries whatever the batch size, and takes its locks in one
global order, so that two instances (or a consumer and an HTTP request) wait for each
other but never deadlock:

1. counts, transfers and reservations the commands name (``FOR UPDATE``, by id);
2. the ``levels`` row of every SKU x location the batch may touch, created if missing and
   locked in one sorted ``INSERT ... ON CONFLICT DO UPDATE``: this is the lock that guards
   a pair's balances and its level;
3. the serials the batch names, and those on the shelf where a transfer picks serials
   (``FOR UPDATE``, sorted);
4. the jobs' custody rows (``FOR UPDATE``).

The catalog copy and balance rows are read without row locks: catalog rows only change
through the catalog consumer, and balance rows only under their pair's lock.

Writes are deltas where several transactions may write the same row (balances, levels,
job custody: ``x = x + delta``), so the books stay summed right even if a rule ever read
a stale figure; a new serial, transfer, reservation or count is a plain insert, so two
transactions creating the same one cannot both succeed (the loser retries and then sees
it).
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.stock.domain import plan
from stockwire.stock.domain.book import StockBook
from stockwire.stock.domain.commands import Command
from stockwire.stock.domain.model import Loaded, Pair, StockState
from stockwire.stock.repository.catalog import Catalog
from stockwire.stock.repository.custody import Custody
from stockwire.stock.repository.documents import Documents
from stockwire.stock.repository.ledger import Ledger
from stockwire.stock.repository.levels import Levels
from stockwire.stock.repository.serials import Serials


class StockRepository:
    """Loads and saves the working set of one transaction on ``session``."""

    def __init__(self, session: AsyncSession) -> None:
        self._documents = Documents(session)
        self._levels = Levels(session)
        self._serials = Serials(session)
        self._custody = Custody(session)
        self._ledger = Ledger(session)
        self._catalog = Catalog(session)

    # ------------------------------------------------------------------ loading

    async def load(self, cmds: Sequence[Command]) -> StockState:
        """The rows ``cmds`` may touch, locked as the module docstring says."""
        state = StockState()
        named = plan.named(cmds)
        await self._documents.lock(state, named)
        more = plan.documents_named(state, named)
        skus = named.skus | more.skus
        codes = named.locations | more.locations
        serials = named.serials | more.serials
        if named.unnamed_skus:
            skus |= await self._serials.read(state, named.unnamed_skus)
        await self._catalog.load(state, skus, codes)
        scope = plan.scope(cmds, state)
        if scope.whole_counts or scope.count_lines:
            await self._documents.count_lines(state, scope)
            for key in state.count_lines:
                if key.count_id in scope.whole_counts:
                    scope.whole.add(Pair(key.sku, state.counts[key.count_id].location))
        if scope.count_locations:
            scope.whole |= await self._levels.pairs_at(scope.count_locations)
            scope.whole.update(p for p in scope.pairs if p.location in scope.count_locations)
        await self._levels.lock(state, scope)
        if scope.shelves:
            serials |= await self._serials.on_shelves(state, scope.shelves)
            picked = plan.shelf_keys(cmds, state)
            await self._levels.balances(state, picked)
            scope.keys |= picked
        if scope.count_locations:
            serials |= {key.serial for key in state.balances if key.serial}
            await self._catalog.items(state, {pair.sku for pair in scope.whole} - set(state.items))
        await self._serials.lock(state, serials)
        if named.custody_jobs:
            await self._custody.lock(state, named.custody_jobs)
        state.loaded = Loaded(
            keys=frozenset(scope.keys),
            whole=frozenset(scope.whole),
            lines=frozenset(scope.count_lines),
            whole_counts=frozenset(scope.whole_counts),
            shelves=frozenset(scope.shelves),
        )
        return state

    # ------------------------------------------------------------------ saving

    async def save(self, book: StockBook) -> None:
        """Write what ``book`` recorded and changed."""
        now = book.now
        movements = book.movements
        if movements:
            await self._ledger.append(movements, now)
            await self._levels.save(book, now)
        await self._serials.save(book, now)
        await self._custody.save(book, now)
        await self._documents.save(book, now)
