"""What stock knows of the catalog, read from its copy into a working set: the items a
batch names, and the locations it names with their ancestors and the quarantine
locations under them (what the nearest-quarantine rule walks). Read without row locks:
the copy only changes through the catalog consumers. An item's category and a location's
region come along in the same rows, for the alerts."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.contracts.vocabulary import TrackingMode
from stockwire.stock.domain.model import ItemInfo, LocationInfo, StockState
from stockwire.stock.repository.rows import fetch

MAX_TREE_DEPTH = 100
"""How far up the location tree the quarantine search looks, so a corrupt tree cannot loop."""

ITEMS = text(
    "SELECT sku, tracking_mode, status, category FROM catalog_items WHERE sku = ANY(:skus)"
)

LOCATIONS = text(
    f"""
    WITH RECURSIVE up(code, parent_code, depth) AS (
        SELECT code, parent_code, 0 FROM catalog_locations WHERE code = ANY(:codes)
        UNION
        SELECT l.code, l.parent_code, up.depth + 1
        FROM catalog_locations l JOIN up ON l.code = up.parent_code
        WHERE up.depth < {MAX_TREE_DEPTH}
    )
    SELECT code, kind, parent_code, active, region FROM catalog_locations
    WHERE code IN (SELECT code FROM up)
       OR (kind = 'quarantine' AND parent_code IN (SELECT code FROM up))
    """
)
"""The named locations, their ancestors, and the quarantine children of all of those:
what the nearest-quarantine rule walks."""


class Catalog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def load(self, state: StockState, skus: set[str], codes: set[str]) -> None:
        await self.items(state, skus)
        if codes:
            for row in await fetch(self._session, LOCATIONS, codes=sorted(codes)):
                state.locations[row["code"]] = LocationInfo(
                    row["code"], row["kind"], row["parent_code"], row["active"], row["region"]
                )

    async def items(self, state: StockState, skus: set[str]) -> None:
        if skus:
            for row in await fetch(self._session, ITEMS, skus=sorted(skus)):
                state.items[row["sku"]] = ItemInfo(
                    row["sku"],
                    TrackingMode(row["tracking_mode"]),
                    row["status"] == "active",
                    row["category"],
                )
