"""Query parameters are a closed set per route.

An unknown parameter is a 422 naming it, on every route of every service, rather than
silently ignored: a misspelt filter (``?loaction=VAN-7``) would otherwise answer with
everything. :func:`create_app <stockwire.runtime.http.app.create_app>` adds
:func:`reject_unknown_query_parameters` to every app; the allowed names are those the
route declares, one by one or as a :class:`QueryParams` model.
"""

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

from stockwire.runtime.http.problems import ProblemOut, invalid_request


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
