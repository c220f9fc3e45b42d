"""What a code or a name may contain, as one rule with two readers.

A code (SKU, location code, serial, job id) or a name is one or more characters with no
control character anywhere and no white space at either end. A domain checks values with
:func:`text_problem`; an HTTP API states the same rule in its OpenAPI document as the
regular expression :func:`text_pattern`, so a client (or a fuzzer) knows exactly what is
accepted. The expression spells every character out (``\\x00``, ``\\u2028``), because
``\\s`` means different things to JSON Schema, Python and the Rust engine pydantic uses.

Plain Python, so a service's ``domain/`` may import it.
"""

import unicodedata

CONTROL = "".join(chr(code) for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)))
"""Unicode category Cc: no name or code holds one (a NUL cannot even be stored)."""

SPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
"""Every character ``str.strip()`` removes (none lies above U+3000)."""


def _escaped(chars: str) -> str:
    """``chars`` inside a character class, as escapes every regex dialect reads, with runs
    of consecutive characters as ranges."""
    codes = sorted({ord(char) for char in chars})
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(
        _escape(low) if low == high else f"{_escape(low)}-{_escape(high)}" for low, high in runs
    )


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text_pattern(forbidden: str = "") -> str:
    """The regular expression of text without control characters or ``forbidden`` ones,
    and without white space at either end. Lengths are stated apart (minLength,
    maxLength)."""
    inner = _escaped(CONTROL + forbidden)
    edge = _escaped(CONTROL + SPACE + forbidden)
    pattern = f"^[^{edge}](?:[^{inner}]*[^{edge}])?$"
    others = "".join(f", {char!r}" for char in forbidden)
    RULES[pattern] = f"must not contain control characters{others}, nor start or end with spaces"
    return pattern


RULES: dict[str, str] = {}
"""Each pattern :func:`text_pattern` made, and its rule in words: what a client is told
when a value does not match, instead of the expression."""


def text_problem(value: str, max_length: int, forbidden: str = "") -> str | None:
    """Why ``value`` is not acceptable text of at most ``max_length`` characters, or None."""
    if not value.strip():
        return "is required"
    if value != value.strip():
        return "must not start or end with spaces"
    if len(value) > max_length:
        return f"must be at most {max_length} characters, not {len(value)}"
    if any(char in CONTROL or unicodedata.category(char) == "Cs" for char in value):
        return "must not contain control characters"
    shown = " or ".join(repr(char) for char in forbidden)
    if forbidden and any(char in forbidden for char in value):
        return f"must not contain {shown}"
    return None


FREE_TEXT_MAX = 500
"""The longest free text the contracts carry: a summary, a reason, a message."""


def clip(text: str, limit: int = FREE_TEXT_MAX) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
