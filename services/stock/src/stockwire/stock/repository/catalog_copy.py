"""Stock's copy of the catalog's items and locations, kept from the catalog's compacted
topics: a newer version replaces a row, an older or equal one (a replay) changes nothing.
Only the repository's facade uses this module (the working set reads the copy through
:mod:`stockwire.stock.repository.catalog`)."""

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockwire.stock.domain.commands import ItemCopy, LocationCopy

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


class CatalogCopy:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

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
