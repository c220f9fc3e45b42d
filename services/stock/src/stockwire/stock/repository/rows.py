"""What the repository's parts share: a statement's rows, and rows turned into the
columns ``unnest`` takes (one array per column, so a bulk write is one statement)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession


async def fetch(session: AsyncSession, statement: Any, **params: Any) -> Sequence[RowMapping]:
    result = await session.execute(statement, params)
    return result.mappings().all()


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to columns, for ``unnest``."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width
