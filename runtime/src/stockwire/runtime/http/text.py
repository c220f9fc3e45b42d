"""Text PostgreSQL can store, checked at the door.

PostgreSQL ``text`` (and ``jsonb``) cannot hold a NUL character, and a UTF-8 database
cannot hold an unpaired surrogate, which a JSON ``\\ud800`` escape can carry. Either would
fail deep inside a transaction as a 500; checked here, it is a 422 naming the field.
"""

import unicodedata
from typing import Any

from pydantic import Field

from stockwire.runtime.plain_text import RULES, text_pattern

NO_NUL = "^[^\\x00]*$"
"""The JSON Schema pattern of text without NUL, so the OpenAPI document states the rule."""
RULES[NO_NUL] = "must not contain NUL characters"


def storable(value: str) -> bool:
    """Whether PostgreSQL text can hold ``value``."""
    return "\x00" not in value and not any(unicodedata.category(char) == "Cs" for char in value)


def unstorable_at(value: Any, path: str = "") -> str | None:
    """The path (``lines.0.sku``) of the first string in ``value`` PostgreSQL cannot store,
    searching dicts, lists and tuples; None if every string is storable."""
    if isinstance(value, str):
        return None if storable(value) else path
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list | tuple):
        children = enumerate(value)
    else:
        return None
    for key, child in children:
        found = unstorable_at(child, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def text_field(max_length: int, forbidden: str = "", **field: Any) -> Any:
    """The ``Field`` of a string holding a code or a name: 1 to ``max_length`` characters,
    no control character, no space at either end, none of ``forbidden``; the OpenAPI
    document states all of it (:mod:`stockwire.runtime.plain_text`). Use it as
    ``Annotated[str, text_field(64)]``."""
    return Field(min_length=1, max_length=max_length, pattern=text_pattern(forbidden), **field)
