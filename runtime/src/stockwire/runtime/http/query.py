"""Query parameters are a closed set per route.

An unknown parameter is a 422 naming it, on every route of every service, rather than
silently ignored: a misspelt filter (``?loaction=VAN-7``) would otherwise answer with
everything. :func:`create_app <stockwire.runtime.http.app.create_app>` adds
:func:`reject_unknown_query_parameters` to every app; the allowed names are those the
route declares, one by one or as a :class:`QueryParams` model.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from stockwire.runtime.http.problems import ProblemOut, invalid_request

INSTANT_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?"
    "([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_INSTANT = re.compile(INSTANT_PATTERN)


def _instant(value: Any) -> Any:
    """An RFC 3339 time with its offset, in UTC; nothing else (pydantic alone would also
    take a number of seconds, or a time without a zone)."""
    if not isinstance(value, str) or _INSTANT.fullmatch(value) is None:
        raise ValueError("must be a time with a zone, e.g. 2025-06-12T08:14:05Z")
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("is not a valid time, or is out of range") from None


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN}),
]
"""A point in time as a query parameter: RFC 3339 with a zone, e.g. 2025-06-12T08:14:05Z."""


class QueryParams(BaseModel):
    """The query parameters of one route as one model: ``Annotated[Model, Query()]``."""

    model_config = ConfigDict(extra="forbid")


async def reject_unknown_query_parameters(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _declared(route)
    unknown = sorted({name for name in request.query_params if name not in allowed})
    if unknown:
        raise invalid_request(
            [
                ProblemOut(field=name, reason="is not a parameter of this endpoint")
                for name in unknown
            ]
        )


_DECLARED: dict[int, frozenset[str]] = {}
"""Per route (by identity: routes live as long as their app, and are not hashable)."""


def _declared(route: APIRoute) -> frozenset[str]:
    """The query parameter names ``route`` and its dependencies declare."""
    known = _DECLARED.get(id(route))
    if known is not None:
        return known
    names: set[str] = set()
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        for field in dependant.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names.update(info.alias or name for name, info in model.model_fields.items())
            else:
                names.add(field.alias)
        pending.extend(dependant.dependencies)
    known = _DECLARED[id(route)] = frozenset(names)
    return known
