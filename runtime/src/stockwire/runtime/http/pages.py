"""Keyset pagination: page size bounds, opaque cursors, and the one-row-more query.

A list route takes :class:`PageParams` (``limit``, default 50, at most 500, and the
``cursor`` of the previous page). Its query fetches ``limit + 1`` rows after the cursor's
sort key (:func:`after_key`), so :func:`page_of` knows whether there is a next page
without counting. The cursor is the sort key of a page's last row, tagged with the list
it belongs to and encoded opaquely (:func:`encode_cursor`); a cursor from another list,
or one a client made up, is a 422, never a wrong page.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import Field

from stockwire.runtime.http.problems import invalid
from stockwire.runtime.http.query import QueryParams
from stockwire.runtime.http.text import storable

R = TypeVar("R")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_CURSOR_LENGTH = 2000
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"

CursorPart = str | int | datetime


class PageParams(QueryParams):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size.")
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="The next_cursor of the previous page, as it was returned.",
    )


@dataclass(frozen=True)
class Page(Generic[R]):
    rows: list[R]
    has_more: bool


def page_of(rows: Sequence[R], limit: int) -> Page[R]:
    """The page in ``rows`` fetched with ``limit + 1``: the extra row only says there is more."""
    return Page(rows=list(rows[:limit]), has_more=len(rows) > limit)


def after_key(
    statement: sa.Select[Any],
    order: Sequence[sa.ColumnElement[Any]],
    after: tuple[Any, ...] | None,
    limit: int,
    *,
    descending: bool = False,
) -> sa.Select[Any]:
    """``statement`` ordered by ``order``, from just past ``after``, ``limit + 1`` rows."""
    if after is not None:
        keys: sa.ColumnElement[Any] = order[0] if len(order) == 1 else sa.tuple_(*order)
        bound: Any = after[0] if len(order) == 1 else after
        statement = statement.where(keys < bound if descending else keys > bound)
    ordered = [column.desc() for column in order] if descending else list(order)
    return statement.order_by(*ordered).limit(limit + 1)


def encode_cursor(tag: str, key: tuple[CursorPart, ...]) -> str:
    """An opaque cursor naming the list (``tag``) and the sort key of a page's last row."""
    parts = [tag, *(part.isoformat() if isinstance(part, datetime) else part for part in key)]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def next_cursor(tag: str, page: Page[R], key: Callable[[R], tuple[CursorPart, ...]]) -> str | None:
    """The cursor of the page after ``page``, or None if it is the last."""
    return encode_cursor(tag, key(page.rows[-1])) if page.has_more else None


def decode_cursor(cursor: str | None, tag: str, shape: tuple[type, ...]) -> tuple[Any, ...] | None:
    """The sort key in ``cursor``, checked against the types in ``shape``; a 422 if it is not
    a cursor the list ``tag`` returned."""
    if cursor is None:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        parts = None
    if isinstance(parts, list) and len(parts) == len(shape) + 1 and parts[0] == tag:
        key = tuple(_cursor_part(part, kind) for part, kind in zip(parts[1:], shape, strict=True))
        if all(part is not None for part in key):
            return key
    raise invalid("cursor", "is not a cursor this endpoint returned")


def _cursor_part(part: object, kind: type) -> CursorPart | None:
    if kind is str and isinstance(part, str) and storable(part):
        return part
    if kind is int and type(part) is int and 0 <= part < 2**63:
        return part
    if kind is datetime and isinstance(part, str):
        try:
            moment = datetime.fromisoformat(part)
            return moment.astimezone(UTC) if moment.tzinfo is not None else None
        except (ValueError, OverflowError):
            return None
    return None
