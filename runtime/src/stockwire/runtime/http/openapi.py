"""Adjustments that make the OpenAPI document say exactly what a route accepts.

A parameter or field that may be left out but not sent as null is typed ``X | None`` in
Python (None stands for "left out"); the document must not offer null for it, or a client
(or a fuzzer) would send null and be refused.
"""

from typing import Any


def not_nullable(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of one optional field: drop its null branch."""
    options = schema.pop("anyOf", None)
    if options is not None:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    if schema.get("default", ...) is None:
        del schema["default"]
