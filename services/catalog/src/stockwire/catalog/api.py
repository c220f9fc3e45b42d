"""The catalog's HTTP API: thin routes that turn a request into a command and call a handler.

Changes use optimistic concurrency: a GET answers with ``ETag: "<version>"`` and a change
must send it back in ``If-Match``; the handler re-checks the version in SQL when writing.
Errors, pagination and request limits are the shared HTTP layer's
(:mod:`stockwire.runtime.http`).
"""

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import Field

from stockwire.catalog import handlers
from stockwire.catalog.domain.commands import (
    RetireItem,
    RetireLocation,
    UpdateItem,
    UpdateLocation,
)
from stockwire.catalog.imports import read_items
from stockwire.catalog.repository import ItemQuery, LocationQuery
from stockwire.catalog.schemas import (
    ImportOut,
    ItemChanges,
    ItemIn,
    ItemOut,
    ItemPage,
    LocationChanges,
    LocationIn,
    LocationOut,
    LocationPage,
    SearchText,
)
from stockwire.catalog.unit_of_work import CatalogUnitOfWork
from stockwire.contracts.vocabulary import Category, ItemStatus, LocationKind, TrackingMode
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.openapi import not_nullable
from stockwire.runtime.http.pages import PageParams, decode_cursor, next_cursor
from stockwire.runtime.http.problems import (
    ApiError,
    ProblemOut,
    VersionMismatchOut,
    error_responses,
)

UnitOfWorkFactory = Callable[[], CatalogUnitOfWork]

CSV_TYPES = ("text/csv", "application/csv", "text/plain")

READ = [Depends(require_scope("read"))]
WRITE = [Depends(require_scope("write"))]

ETAG_PATTERN = '^"[0-9]{1,18}"$'
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=ETAG_PATTERN,
        description='Required: the ETag of the version you last read, e.g. "3" (428 without).',
        json_schema_extra=not_nullable,
    ),
]

ERRORS = error_responses(401, 403, 404, 422)
CHANGE_ERRORS = {
    **error_responses(409, 428),
    412: {"model": VersionMismatchOut, "description": "Changed since you read it"},
}


def expected_version(if_match: str | None) -> int:
    """The version named by an If-Match header (its pattern is checked already); 428 if
    absent."""
    if if_match is None:
        raise ApiError(
            HTTPStatus.PRECONDITION_REQUIRED,
            "precondition_required",
            'send If-Match with the ETag of the version you last read, e.g. If-Match: "3"',
            [ProblemOut(field="If-Match", reason="is required")],
        )
    return int(if_match.strip('"'))


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


class ItemParams(PageParams):
    category: Category | None = None
    tracking_mode: TrackingMode | None = None
    status: ItemStatus | None = None
    manufacturer: SearchText | None = None
    q: SearchText | None = Field(default=None, description="Text in SKU or name.")


class LocationParams(PageParams):
    kind: LocationKind | None = None
    region: SearchText | None = None
    parent: SearchText | None = Field(default=None, description="Parent's code.")
    active: bool | None = None


def items_router(new_uow: UnitOfWorkFactory) -> APIRouter:
    router = APIRouter(prefix="/items", tags=["items"], responses=ERRORS)

    @router.post(
        "",
        status_code=201,
        dependencies=WRITE,
        responses=error_responses(409),
        summary="Create an equipment model",
    )
    async def create(body: ItemIn, response: Response) -> ItemOut:
        record = await handlers.create_item(body.command(), new_uow())
        _etag(response, record.version)
        response.headers["Location"] = f"/api/v1/items/{quote(record.sku, safe='')}"
        return ItemOut.of(record)

    @router.get("", dependencies=READ, summary="List and search equipment models")
    async def find(params: Annotated[ItemParams, Query()]) -> ItemPage:
        query = ItemQuery(
            category=params.category,
            tracking_mode=params.tracking_mode,
            status=params.status,
            manufacturer=params.manufacturer,
            text=params.q,
            after=decode_cursor(params.cursor, "items", (str,)),
            limit=params.limit,
        )
        page, total = await handlers.find_items(query, new_uow())
        return ItemPage(
            items=[ItemOut.of(record) for record in page.rows],
            total=total,
            next_cursor=next_cursor("items", page, lambda record: (record.sku,)),
        )

    @router.post(
        "/import",
        dependencies=WRITE,
        responses=error_responses(409, 413, 415),
        summary="Create or replace many models from a CSV file, all or none",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {media: {"schema": {"type": "string"}} for media in CSV_TYPES},
            }
        },
    )
    async def import_csv(request: Request) -> ImportOut:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in CSV_TYPES:
            raise ApiError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                f"send the file as text/csv, not {media_type or 'no content type'}",
                [ProblemOut(field="Content-Type", reason="must be text/csv")],
            )
        result = await handlers.import_items(read_items(await request.body()), new_uow())
        return ImportOut(created=result.created, updated=result.updated, unchanged=result.unchanged)

    @router.get("/{sku}", dependencies=READ, summary="One equipment model, with its ETag")
    async def get(sku: str, response: Response) -> ItemOut:
        record = await handlers.get_item(sku, new_uow())
        _etag(response, record.version)
        return ItemOut.of(record)

    @router.patch(
        "/{sku}",
        dependencies=WRITE,
        responses=CHANGE_ERRORS,
        summary="Change fields; needs If-Match",
    )
    async def update(
        sku: str, body: ItemChanges, response: Response, if_match: IfMatch = None
    ) -> ItemOut:
        cmd = UpdateItem(sku, expected_version(if_match), body.changes())
        record = await handlers.update_item(cmd, new_uow())
        _etag(response, record.version)
        return ItemOut.of(record)

    @router.post(
        "/{sku}/retire",
        dependencies=WRITE,
        responses=CHANGE_ERRORS,
        summary="Retire a model; needs If-Match",
    )
    async def retire(sku: str, response: Response, if_match: IfMatch = None) -> ItemOut:
        record = await handlers.retire_item(RetireItem(sku, expected_version(if_match)), new_uow())
        _etag(response, record.version)
        return ItemOut.of(record)

    return router


def locations_router(new_uow: UnitOfWorkFactory) -> APIRouter:
    router = APIRouter(prefix="/locations", tags=["locations"], responses=ERRORS)

    @router.post(
        "",
        status_code=201,
        dependencies=WRITE,
        responses=error_responses(409),
        summary="Create a location",
    )
    async def create(body: LocationIn, response: Response) -> LocationOut:
        record = await handlers.create_location(body.command(), new_uow())
        _etag(response, record.version)
        response.headers["Location"] = f"/api/v1/locations/{quote(record.code, safe='')}"
        return LocationOut.of(record)

    @router.get("", dependencies=READ, summary="List locations")
    async def find(params: Annotated[LocationParams, Query()]) -> LocationPage:
        query = LocationQuery(
            kind=params.kind,
            region=params.region,
            parent_code=params.parent,
            active=params.active,
            after=decode_cursor(params.cursor, "locations", (str,)),
            limit=params.limit,
        )
        page, total = await handlers.find_locations(query, new_uow())
        return LocationPage(
            locations=[LocationOut.of(record) for record in page.rows],
            total=total,
            next_cursor=next_cursor("locations", page, lambda record: (record.code,)),
        )

    @router.get("/{code}", dependencies=READ, summary="One location, with its ETag")
    async def get(code: str, response: Response) -> LocationOut:
        record = await handlers.get_location(code, new_uow())
        _etag(response, record.version)
        return LocationOut.of(record)

    @router.patch(
        "/{code}",
        dependencies=WRITE,
        responses=CHANGE_ERRORS,
        summary="Change fields; needs If-Match",
    )
    async def update(
        code: str, body: LocationChanges, response: Response, if_match: IfMatch = None
    ) -> LocationOut:
        cmd = UpdateLocation(code, expected_version(if_match), body.changes())
        record = await handlers.update_location(cmd, new_uow())
        _etag(response, record.version)
        return LocationOut.of(record)

    @router.post(
        "/{code}/retire",
        dependencies=WRITE,
        responses=CHANGE_ERRORS,
        summary="Retire; needs If-Match",
    )
    async def retire(code: str, response: Response, if_match: IfMatch = None) -> LocationOut:
        cmd = RetireLocation(code, expected_version(if_match))
        record = await handlers.retire_location(cmd, new_uow())
        _etag(response, record.version)
        return LocationOut.of(record)

    return router
