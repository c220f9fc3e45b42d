"""The catalog's HTTP API: thin routes that turn a request into a command and call a handler.

Changes use optimistic concurrency: a GET answers with ``ETag: "<version>"`` and a change
must send it back in ``If-Match``; the handler re-checks the version in SQL when writing.
Every error answer has the shape of :class:`ErrorOut`.
"""

import base64
import binascii
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockwire.catalog import handlers
from stockwire.catalog.domain.commands import (
    RetireItem,
    RetireLocation,
    UpdateItem,
    UpdateLocation,
)
from stockwire.catalog.domain.errors import (
    Conflict,
    DomainError,
    ImportRejected,
    NotFound,
    VersionMismatch,
)
from stockwire.catalog.domain.model import (
    Category,
    ItemStatus,
    LocationKind,
    TrackingMode,
    is_code,
)
from stockwire.catalog.imports import read_items
from stockwire.catalog.repository import ItemQuery, LocationQuery
from stockwire.catalog.schemas import (
    ErrorOut,
    ImportOut,
    ItemChanges,
    ItemIn,
    ItemOut,
    ItemPage,
    LocationChanges,
    LocationIn,
    LocationOut,
    LocationPage,
    ProblemOut,
    SearchText,
)
from stockwire.catalog.unit_of_work import CatalogUnitOfWork
from stockwire.runtime.auth import require_scope

UnitOfWorkFactory = Callable[[], CatalogUnitOfWork]

MAX_IMPORT_BYTES = 5 * 1024 * 1024
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

READ = [Depends(require_scope("read"))]
WRITE = [Depends(require_scope("write"))]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of a page.")]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The ETag of the version you saw, e.g. "3".'),
]

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 409, 412, 422, 428)
}


class HttpError(Exception):
    """An answer the API gives without asking the domain (missing If-Match, bad cursor...)."""

    def __init__(
        self, status_code: int, error: str, detail: str, problems: list[ProblemOut]
    ) -> None:
        self.status_code = status_code
        self.body = ErrorOut(error=error, detail=detail, problems=problems)


def _invalid(field: str, reason: str) -> HttpError:
    return HttpError(422, "invalid", f"{field}: {reason}", [ProblemOut(field=field, reason=reason)])


def expected_version(if_match: str | None) -> int:
    """The version named by an If-Match header: 428 if absent, 422 if unreadable."""
    if if_match is None:
        raise HttpError(
            HTTPStatus.PRECONDITION_REQUIRED,
            "precondition_required",
            'send If-Match with the ETag of the version you last read, e.g. If-Match: "3"',
            [ProblemOut(field="If-Match", reason="is required")],
        )
    tag = if_match.strip()
    if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit() and len(tag) < 20:
        return int(tag[1:-1])
    raise _invalid("If-Match", f'expected one strong ETag such as "3", not {if_match[:40]!r}')


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if not is_code(key):
        raise _invalid("cursor", "is not a cursor this API returned")
    return key


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def items_router(new_uow: UnitOfWorkFactory) -> APIRouter:
    router = APIRouter(prefix="/items", tags=["items"], responses=ERRORS)

    @router.post("", status_code=201, dependencies=WRITE, summary="Create an equipment model")
    async def create(body: ItemIn, response: Response) -> ItemOut:
        record = await handlers.create_item(body.command(), new_uow())
        _etag(response, record.version)
        response.headers["Location"] = f"/api/v1/items/{quote(record.sku, safe='')}"
        return ItemOut.of(record)

    @router.get("", dependencies=READ, summary="List and search equipment models")
    async def find(
        category: Category | None = None,
        tracking_mode: TrackingMode | None = None,
        status: ItemStatus | None = None,
        manufacturer: SearchText | None = None,
        q: Annotated[SearchText | None, Query(description="Text in SKU or name.")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ItemPage:
        query = ItemQuery(
            category=category,
            tracking_mode=tracking_mode,
            status=status,
            manufacturer=manufacturer,
            text=q,
            after=decode_cursor(cursor),
            limit=limit,
        )
        page = await handlers.find_items(query, new_uow())
        last = page.records[-1].sku if page.has_more else None
        return ItemPage(
            items=[ItemOut.of(record) for record in page.records],
            total=page.total,
            next_cursor=encode_cursor(last) if last else None,
        )

    @router.post(
        "/import",
        dependencies=WRITE,
        summary="Create or replace many models from a CSV file, all or none",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
    )
    async def import_csv(request: Request) -> ImportOut:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in CSV_TYPES:
            raise HttpError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                f"send the file as text/csv, not {media_type or 'no content type'}",
                [ProblemOut(field="Content-Type", reason="must be text/csv")],
            )
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_IMPORT_BYTES:
                raise HttpError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    "too_large",
                    f"an import file may hold at most {MAX_IMPORT_BYTES} bytes; split it",
                    [ProblemOut(field="body", reason="too large")],
                )
        result = await handlers.import_items(read_items(bytes(body)), new_uow())
        return ImportOut(created=result.created, updated=result.updated, unchanged=result.unchanged)

    @router.get("/{sku}", dependencies=READ, summary="One equipment model, with its ETag")
    async def get(sku: str, response: Response) -> ItemOut:
        record = await handlers.get_item(sku, new_uow())
        _etag(response, record.version)
        return ItemOut.of(record)

    @router.patch("/{sku}", dependencies=WRITE, summary="Change fields; needs If-Match")
    async def update(
        sku: str, body: ItemChanges, response: Response, if_match: IfMatch = None
    ) -> ItemOut:
        cmd = UpdateItem(sku, expected_version(if_match), body.changes())
        record = await handlers.update_item(cmd, new_uow())
        _etag(response, record.version)
        return ItemOut.of(record)

    @router.post("/{sku}/retire", dependencies=WRITE, summary="Retire a model; needs If-Match")
    async def retire(sku: str, response: Response, if_match: IfMatch = None) -> ItemOut:
        record = await handlers.retire_item(RetireItem(sku, expected_version(if_match)), new_uow())
        _etag(response, record.version)
        return ItemOut.of(record)

    return router


def locations_router(new_uow: UnitOfWorkFactory) -> APIRouter:
    router = APIRouter(prefix="/locations", tags=["locations"], responses=ERRORS)

    @router.post("", status_code=201, dependencies=WRITE, summary="Create a location")
    async def create(body: LocationIn, response: Response) -> LocationOut:
        record = await handlers.create_location(body.command(), new_uow())
        _etag(response, record.version)
        response.headers["Location"] = f"/api/v1/locations/{quote(record.code, safe='')}"
        return LocationOut.of(record)

    @router.get("", dependencies=READ, summary="List locations")
    async def find(
        kind: LocationKind | None = None,
        region: SearchText | None = None,
        parent: Annotated[SearchText | None, Query(description="Parent's code.")] = None,
        active: bool | None = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> LocationPage:
        query = LocationQuery(
            kind=kind,
            region=region,
            parent_code=parent,
            active=active,
            after=decode_cursor(cursor),
            limit=limit,
        )
        page = await handlers.find_locations(query, new_uow())
        last = page.records[-1].code if page.has_more else None
        return LocationPage(
            locations=[LocationOut.of(record) for record in page.records],
            total=page.total,
            next_cursor=encode_cursor(last) if last else None,
        )

    @router.get("/{code}", dependencies=READ, summary="One location, with its ETag")
    async def get(code: str, response: Response) -> LocationOut:
        record = await handlers.get_location(code, new_uow())
        _etag(response, record.version)
        return LocationOut.of(record)

    @router.patch("/{code}", dependencies=WRITE, summary="Change fields; needs If-Match")
    async def update(
        code: str, body: LocationChanges, response: Response, if_match: IfMatch = None
    ) -> LocationOut:
        cmd = UpdateLocation(code, expected_version(if_match), body.changes())
        record = await handlers.update_location(cmd, new_uow())
        _etag(response, record.version)
        return LocationOut.of(record)

    @router.post("/{code}/retire", dependencies=WRITE, summary="Retire; needs If-Match")
    async def retire(code: str, response: Response, if_match: IfMatch = None) -> LocationOut:
        cmd = RetireLocation(code, expected_version(if_match))
        record = await handlers.retire_location(cmd, new_uow())
        _etag(response, record.version)
        return LocationOut.of(record)

    return router


def _answer(status_code: int, body: ErrorOut, headers: dict[str, str] | None = None) -> Response:
    content = body.model_dump(mode="json", exclude_none=True)
    return JSONResponse(content, status_code=status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors and unreadable requests to answers of one shape."""

    async def on_http_error(_: Request, error: HttpError) -> Response:
        return _answer(error.status_code, error.body)

    async def on_starlette_error(_: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == HTTPStatus.BAD_REQUEST:
            # FastAPI answers 400 for a body it cannot decode at all (e.g. nested too deep);
            # to a client that is one more unreadable body, so it gets the same 422.
            problems = [ProblemOut(field="body", reason=str(error.detail))]
            return _answer(
                422, ErrorOut(error="invalid", detail=str(error.detail), problems=problems)
            )
        code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
        body = ErrorOut(error=code, detail=str(error.detail))
        return _answer(error.status_code, body, headers=error.headers)

    async def on_request_invalid(_: Request, error: RequestValidationError) -> Response:
        problems = []
        for item in error.errors():
            where, *path = item["loc"]
            if item["type"] == "json_invalid":
                path = []
            field = ".".join(str(part) for part in path) or str(where)
            reason = item["msg"].removeprefix("Value error, ")
            problems.append(ProblemOut(field=field, reason=reason))
        detail = "; ".join(f"{p.field}: {p.reason}" for p in problems)
        return _answer(422, ErrorOut(error="invalid", detail=detail, problems=problems))

    async def on_domain_error(_: Request, error: DomainError) -> Response:
        problems = [ProblemOut(field=p.field, reason=p.reason) for p in error.problems]
        return _answer(422, ErrorOut(error="invalid", detail=str(error), problems=problems))

    async def on_import_rejected(_: Request, error: ImportRejected) -> Response:
        problems = [ProblemOut(field=p.field, reason=p.reason, line=p.line) for p in error.problems]
        lines = len({p.line for p in error.problems})
        detail = f"nothing was imported: {lines} line(s) have problems"
        return _answer(422, ErrorOut(error="invalid", detail=detail, problems=problems))

    async def on_not_found(_: Request, error: NotFound) -> Response:
        return _answer(404, ErrorOut(error="not_found", detail=str(error)))

    async def on_conflict(_: Request, error: Conflict) -> Response:
        problems = [ProblemOut(field=error.field, reason=error.reason)]
        return _answer(409, ErrorOut(error="conflict", detail=error.reason, problems=problems))

    async def on_version_mismatch(_: Request, error: VersionMismatch) -> Response:
        body = ErrorOut(
            error="version_mismatch",
            detail=f"{error}; read it again and re-apply your change",
            current_version=error.current,
        )
        return _answer(412, body, headers={"ETag": f'"{error.current}"'})

    app.add_exception_handler(HttpError, on_http_error)
    app.add_exception_handler(StarletteHTTPException, on_starlette_error)
    app.add_exception_handler(RequestValidationError, on_request_invalid)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(ImportRejected, on_import_rejected)
    app.add_exception_handler(NotFound, on_not_found)
    app.add_exception_handler(Conflict, on_conflict)
    app.add_exception_handler(VersionMismatch, on_version_mismatch)
