"""JSON request bodies are held to exactly what the OpenAPI document says.

FastAPI validates a body leniently: after parsing the JSON it lets pydantic turn ``"5"``
into 5, ``12345`` into a date and ``1`` into true, so a request the document calls
invalid would be accepted. :func:`require_exact_json` (on every app) validates the raw
body once more, in pydantic's strict JSON mode, against the route's body model before the
route runs: a JSON type other than the documented one is a 422 naming the field.

Decimals travel as JSON numbers or as strings; :class:`Decimals` makes one whose
document states its range and places exactly, for both forms.
"""

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from stockwire.runtime.http.openapi import not_nullable
from stockwire.runtime.http.problems import invalid_request, problems_of


def _is_json(media_type: str) -> bool:
    """What FastAPI parses as JSON (and, without a content type at all, it does too)."""
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def require_exact_json(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and not _is_json(media_type):
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
        annotation = route.body_field.field_info.annotation
        assert annotation is not None, "a body field always has a type"
        adapter = _ADAPTERS[id(route)] = TypeAdapter(annotation)
    return adapter


@dataclass(frozen=True)
class Decimals:
    """The decimals from ``minimum`` to ``maximum`` (excluding either with
    ``above_minimum``, ``below_maximum``, and 0 with ``nonzero``) with at most ``places``
    decimal places, as a JSON number or a plain decimal string (no exponent, sign only
    when negative, no leading zeros): ``Annotated[Decimal, Decimals(3, 10**6)]``.

    ``maximum`` and ``-minimum`` must be 0 or powers of ten: the string form's pattern
    is built from their digit counts.
    """

    places: int
    maximum: int
    below_maximum: bool = False
    minimum: int = 0
    above_minimum: bool = False
    nonzero: bool = False

    @property
    def rule(self) -> str:
        return (
            f"must be a decimal number {'above' if self.above_minimum else 'from'} "
            f"{self.minimum} {'below' if self.below_maximum else 'to'} {self.maximum}"
            f"{', not 0,' if self.nonzero else ''} with at most {self.places} decimal places"
        )

    @property
    def pattern(self) -> str:
        zero = self.minimum < 0 or (self.minimum == 0 and not self.above_minimum)
        return _decimal_pattern(
            self.places,
            self.maximum,
            self.below_maximum,
            self.minimum,
            zero and not self.nonzero,
        )

    def exact(self, value: object) -> object:
        """A decimal from a JSON number or a string in :attr:`pattern`, within the range
        and places, or the rule in words; anything else is left for pydantic to refuse.
        (Converted here: strict validation takes only Decimals.)"""
        if isinstance(value, bool):
            raise ValueError(self.rule)
        if isinstance(value, str):
            if _compiled(self.pattern).fullmatch(value) is None:
                raise ValueError(self.rule)
            number = Decimal(value)
        elif isinstance(value, int | float):
            number = Decimal(repr(value))
        else:
            return value
        if not number.is_finite():
            raise ValueError(self.rule)
        low = self.minimum < number if self.above_minimum else self.minimum <= number
        high = number < self.maximum if self.below_maximum else number <= self.maximum
        places = -int(number.as_tuple().exponent)
        if not (low and high) or (self.nonzero and number == 0) or places > self.places:
            raise ValueError(self.rule)
        return number

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.exact, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        number: dict[str, Any] = {
            "type": "number",
            "multipleOf": 10**-self.places,
            ("exclusiveMaximum" if self.below_maximum else "maximum"): self.maximum,
            ("exclusiveMinimum" if self.above_minimum else "minimum"): self.minimum,
        }
        if self.nonzero:
            number["not"] = {"const": 0}
        return {"anyOf": [number, {"type": "string", "pattern": self.pattern}]}


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


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


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


T = TypeVar("T")

Omittable = Annotated[
    T | None, BeforeValidator(_refuse_null), Field(json_schema_extra=not_nullable)
]
"""A field that may be left out (None, then) but not sent as null: a PATCH field that keeps
its value when left out, or a create field with no default value. The document offers no
null for it."""


class Body(BaseModel):
    """A request body: unknown fields refused (strict writer, as for events)."""

    model_config = ConfigDict(extra="forbid")


class Changes(Body):
    """A PATCH body: the fields to change. A field left out keeps its value; one declared
    ``Omittable[X] = None`` may be left out but not sent as null, one declared ``X | None =
    None`` may be sent as null to clear it."""

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
