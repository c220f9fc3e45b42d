"""Error answers: one shape for every error of every service, and one way to raise it.

Every error answer is an :class:`ErrorOut`: a stable ``error`` code, a human ``detail``
and the ``problems`` that name each field at fault. A route raises :class:`ApiError` (or
lets a :mod:`stockwire.runtime.domain_errors` error escape); :func:`install_error_handlers`,
which :func:`stockwire.runtime.http.app.create_app` installs on every app, turns those, bad
requests, unknown routes and methods, an unreachable database and crashes into that shape.
"""

import functools
import logging
import re
import time
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockwire.runtime.domain_errors import Conflict, Invalid, NotFound, VersionMismatch
from stockwire.runtime.plain_text import RULES
from stockwire.runtime.telemetry import one_line
from stockwire.runtime.transient import DATABASE_ERRORS, CommitOutcomeUnknown, is_transient

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
"""What a 503 asks the client to wait before trying again."""


class ProblemOut(BaseModel):
    field: str = Field(description="The field, parameter or header at fault.")
    reason: str
    line: int | None = Field(default=None, description="The line of an uploaded file, if any.")


class ErrorOut(BaseModel):
    """Every error answer has this shape (some add a field, e.g. ``current_version``)."""

    error: str = Field(description="A stable code: invalid, not_found, conflict, ...")
    detail: str
    problems: list[ProblemOut] = Field(default_factory=list)


class VersionMismatchOut(ErrorOut):
    """A 412: the record changed since the caller read it."""

    current_version: int = Field(description="The version now; its ETag is in the ETag header.")


class ApiError(Exception):
    """An answer a route gives instead of its result."""

    def __init__(
        self,
        status_code: int,
        error: str,
        detail: str,
        problems: Sequence[ProblemOut] = (),
        *,
        headers: dict[str, str] | None = None,
        body: ErrorOut | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.body = body or ErrorOut(error=error, detail=detail, problems=list(problems))
        self.headers = headers

    def response(self) -> Response:
        content = self.body.model_dump(mode="json")
        for problem in content["problems"]:
            if problem["line"] is None:
                del problem["line"]
        return JSONResponse(content, status_code=self.status_code, headers=self.headers)


def invalid(field: str, reason: str) -> ApiError:
    """A 422 naming one field."""
    return ApiError(422, "invalid", f"{field}: {reason}", [ProblemOut(field=field, reason=reason)])


def not_found(what: str) -> ApiError:
    """A 404 for ``what`` (e.g. "SKU 'X'")."""
    return ApiError(404, "not_found", f"{what} is not known")


def problems_of(errors: Iterable[Any], within: Sequence[str] = ()) -> list[ProblemOut]:
    """Pydantic or FastAPI validation errors as problems, each naming its field.

    ``within`` prefixes each field (e.g. ``("payload",)`` for a nested model); a FastAPI
    error's first location part (``body``, ``query``, ``header``) is dropped.
    """
    problems = []
    for item in errors:
        location = [str(part) for part in item["loc"]]
        if location and location[0] in ("body", "query", "header", "path", "cookie"):
            where, *location = location
        else:
            where = "body"
        if item["type"] == "json_invalid":
            problems.append(ProblemOut(field="body", reason=f"is not JSON: {item['msg']}"))
            continue
        if item["type"] == "extra_forbidden" and where == "query":
            reason = "is not a parameter of this endpoint"
        elif item["type"] == "missing":
            reason = "is required"
        elif item["type"] == "string_pattern_mismatch":
            pattern = item.get("ctx", {}).get("pattern", "")
            reason = RULES.get(pattern, f"must match {pattern}")
        else:
            reason = item["msg"].removeprefix("Value error, ")
        field = ".".join([*within, *location]) or where
        problems.append(ProblemOut(field=field, reason=reason))
    return problems


def invalid_request(problems: list[ProblemOut]) -> ApiError:
    detail = "; ".join(f"{p.field}: {p.reason}" for p in problems)
    return ApiError(422, "invalid", detail, problems)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a router or route: each code answers an :class:`ErrorOut`."""
    return {code: {"model": ErrorOut, "description": HTTPStatus(code).phrase} for code in codes}


def _domain_answer(error: Exception) -> ApiError:
    match error:
        case Invalid():
            problems = [
                ProblemOut(field=p.field, reason=p.reason, line=p.line) for p in error.problems
            ]
            return ApiError(422, "invalid", error.detail, problems)
        case NotFound():
            return ApiError(404, "not_found", str(error))
        case Conflict():
            problems = [ProblemOut(field=error.field, reason=error.reason)]
            return ApiError(409, "conflict", error.reason, problems)
        case VersionMismatch():
            detail = f"{error}; read it again and re-apply your change"
            body = VersionMismatchOut(
                error="version_mismatch", detail=detail, current_version=error.current
            )
            headers = {"ETag": f'"{error.current}"'}
            return ApiError(412, "version_mismatch", detail, headers=headers, body=body)
    raise TypeError(f"no answer for {type(error).__name__}")


def _http_answer(request: Request, error: StarletteHTTPException) -> ApiError:
    if error.status_code == HTTPStatus.BAD_REQUEST:
        # FastAPI answers 400 for a body it cannot decode at all (e.g. nested too deep): to
        # a client that is one more unreadable body, so it gets the same 422.
        return invalid("body", str(error.detail))
    if error.status_code == HTTPStatus.NOT_FOUND and error.detail == "Not Found":
        return ApiError(404, "not_found", "no such endpoint; see /docs for the API")
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
    headers = dict(error.headers or {})
    problems = []
    if error.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        headers["Allow"] = ", ".join(sorted(_methods_at(request))) or headers.get("Allow", "")
    elif error.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        problems = [ProblemOut(field="body", reason="too large")]
    return ApiError(error.status_code, code, str(error.detail), problems, headers=headers)


def _methods_at(request: Request) -> set[str]:
    """The methods the OpenAPI document gives the request's path (Starlette names only
    those of the first route that matched it). Where several templates match, the most
    specific wins: ``/items/import`` is not ``/items/{sku}``."""
    matches = [
        (template.count("{"), operations)
        for template, operations in request.app.openapi()["paths"].items()
        if _template(template).fullmatch(request.url.path)
    ]
    fewest = min((params for params, _ in matches), default=0)
    return {
        method.upper()
        for params, operations in matches
        if params == fewest
        for method in operations
        if method in OPERATIONS
    }


OPERATIONS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@functools.lru_cache(maxsize=256)
def _template(path: str) -> re.Pattern[str]:
    """``/items/{sku}/retire`` as a regular expression matching its paths."""
    return re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)))


class OutageLog:
    """Logs a database outage once when it starts and then a summary a minute, instead of
    a traceback per request, while every request answers 503."""

    QUIET_AFTER_S = 30.0
    """No 503 for this long: the next one starts a new outage."""
    SUMMARY_EVERY_S = 60.0

    def __init__(self) -> None:
        self._last_seen = -float("inf")
        self._last_logged = -float("inf")
        self._since_logged = 0

    def seen(self, error: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_seen > self.QUIET_AFTER_S:
            log.warning("database unavailable, answering 503 until it is back: %s", one_line(error))
            self._last_logged, self._since_logged = now, 0
        else:
            self._since_logged += 1
            if now - self._last_logged >= self.SUMMARY_EVERY_S:
                log.warning(
                    "database still unavailable: %d more requests answered 503 (%s)",
                    self._since_logged,
                    one_line(error),
                )
                self._last_logged, self._since_logged = now, 0
        self._last_seen = now


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as an :class:`ErrorOut`.

    A database error that :func:`is_transient` calls transient (the database is down,
    failing over or overloaded) is a 503 with Retry-After, logged once per outage, not a
    500 with a traceback per request.
    """
    outage = OutageLog()

    async def on_api_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error.response()

    async def on_domain_error(_: Request, error: Exception) -> Response:
        return _domain_answer(error).response()

    async def on_request_invalid(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return invalid_request(problems_of(error.errors())).response()

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        return _http_answer(request, error).response()

    async def on_database_error(_: Request, error: Exception) -> Response:
        if not is_transient(error):
            raise error
        outage.seen(error)
        return ApiError(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable; try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ).response()

    async def on_outcome_unknown(request: Request, error: Exception) -> Response:
        log.warning("%s %s: %s", request.method, request.url.path, one_line(error))
        return ApiError(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "outcome_unknown",
            f"{error}: look before you send it again, or send it again with the same "
            "Idempotency-Key, which is always safe",
        ).response()

    async def on_crash(_: Request, error: Exception) -> Response:
        return ApiError(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed on this request; the failure is logged",
        ).response()

    app.add_exception_handler(ApiError, on_api_error)
    for domain_error in (Invalid, NotFound, Conflict, VersionMismatch):
        app.add_exception_handler(domain_error, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_request_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(CommitOutcomeUnknown, on_outcome_unknown)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, on_database_error)
    app.add_exception_handler(Exception, on_crash)
