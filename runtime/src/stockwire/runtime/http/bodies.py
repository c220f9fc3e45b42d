"""JSON request bodies are held to exactly what the OpenAPI document says.

FastAPI validates a body leniently: after parsing the JSON it lets pydantic turn ``"5"``
into 5, ``12345`` into a date and ``1`` into true, so a request the document calls
invalid would be accepted. :func:`require_exact_json` (on every app) validates the raw
body once more, in pydantic's strict JSON mode, against the route's body model before the
route runs: a JSON type other than the documented one is a 422 naming the field.

Decimals travel as JSON numbers or as strings; :func:`decimal_type` builds one whose
document states its range and places exactly, for both forms.
"""

import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from stockwire.runtime.http.openapi import no_null_defaults
from stockwire.runtime.http.problems import invalid_request, problems_of

JSON_TYPES = ("application/json",)


async def require_exact_json(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        return
    try:
        _adapter(route).validate_json(await request.body() or b"null", strict=True)
    except ValidationError as error:
        raise invalid_request(problems_of(error.errors())) from None


_ADAPTERS: dict[int, TypeAdapter[Any]] = {}
"""Per route (by identity: routes live as long as their app, and are not hashable)."""


def _adapter(route: APIRoute) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(id(route))
    if adapter is None:
        assert route.body_field is not None
        adapter = _ADAPTERS[id(route)] = TypeAdapter(route.body_field.field_info.annotation)
    return adapter


def decimal_type(
    places: int,
    maximum: int,
    *,
    below_maximum: bool = False,
    minimum: int = 0,
    above_minimum: bool = False,
    nonzero: bool = False,
) -> Any:
    """A decimal from ``minimum`` to ``maximum`` (excluding either with ``above_minimum``,
    ``below_maximum``, and 0 with ``nonzero``) with at most ``places`` decimal places, as
    a JSON number or a plain decimal string (no exponent, sign only when negative, no
    leading zeros).

    ``maximum`` and ``-minimum`` must be 0 or powers of ten: the string form's pattern
    is built from their digit counts.
    """
    zero = minimum < 0 or (minimum == 0 and not above_minimum)
    pattern = _decimal_pattern(places, maximum, below_maximum, minimum, zero and not nonzero)
    compiled = re.compile(pattern)
    rule = (
        f"must be a decimal number {'above' if above_minimum else 'from'} {minimum} "
        f"{'below' if below_maximum else 'to'} {maximum}{', not 0,' if nonzero else ''} "
        f"with at most {places} decimal places"
    )

    def exact(value: object) -> object:
        """A decimal from a JSON number or a string in ``pattern``, within the range and
        places, or the rule in words; anything else is left for pydantic to refuse.
        (Converted here: strict validation takes only Decimals.)"""
        if isinstance(value, bool):
            raise ValueError(rule)
        if isinstance(value, str):
            if compiled.fullmatch(value) is None:
                raise ValueError(rule)
            number = Decimal(value)
        elif isinstance(value, int | float):
            number = Decimal(repr(value))
        else:
            return value
        if not number.is_finite():
            raise ValueError(rule)
        exponent = number.as_tuple().exponent
        in_range = (minimum < number if above_minimum else minimum <= number) and (
            number < maximum if below_maximum else number <= maximum
        )
        if not in_range or (nonzero and number == 0) or int(exponent) < -places:
            raise ValueError(rule)
        return number

    schema_limits = {
        "exclusiveMaximum" if below_maximum else "maximum": maximum,
        "exclusiveMinimum" if above_minimum else "minimum": minimum,
    }
    number: dict[str, Any] = {"type": "number", "multipleOf": 10**-places, **schema_limits}
    if nonzero:
        number["not"] = {"const": 0}
    return Annotated[
        Decimal,
        BeforeValidator(exact),
        WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": pattern}]}),
    ]


def _decimal_pattern(
    places: int, maximum: int, below_maximum: bool, minimum: int, zero: bool
) -> str:
    """The decimal strings in the range (with or without 0)."""
    choices = [_positive(places, maximum, below_maximum)]
    if minimum < 0:
        choices.append(f"-(?:{_positive(places, -minimum, False)})")
    if zero:
        choices.append(f"0(?:\\.0{{1,{places}}})?")
    return "^(?:" + "|".join(choices) + ")$"


def _positive(places: int, limit: int, below_limit: bool) -> str:
    """Decimal strings above 0 up to ``limit`` (a power of ten), at most ``places``
    places, no leading zeros."""
    digits = len(str(limit)) - 1
    fraction = f"(?:\\.[0-9]{{1,{places}}})?"
    parts = []
    if digits:
        parts.append(f"[1-9][0-9]{{0,{digits - 1}}}{fraction}")
    first_nonzero = (f"{'0' * i}[1-9][0-9]{{0,{places - 1 - i}}}" for i in range(places))
    parts.append(f"0\\.(?:{'|'.join(first_nonzero)})")
    if not below_limit:
        parts.append(f"{limit}(?:\\.0{{1,{places}}})?")
    return "|".join(parts)


class Changes(BaseModel):
    """A PATCH body: the fields to change. A field left out keeps its value; a field
    declared ``X = None`` may be left out but not sent as null, one declared ``X | None =
    None`` may be sent as null to clear it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
