"""Assets' reports and firmware minimums over HTTP.

Reports (``read`` scope, one snapshot per request): firmware compliance per model and
region, reconciliation with the network per region and its mismatches, utilization
(installed / owned) per model and region, and the models nearing their end of sale or
life. They are computed when asked, as of the request; the alerts on the same conditions
follow at the next sweep.

Firmware minimums: listed with ``read``, set and removed with ``write``. A request may
carry an ``Idempotency-Key``: a repeat with the same key and body gets the first answer
without being applied again (a repeated DELETE answers 204, not 404).
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.assets import handlers, report_queries
from stockwire.assets.api_queries import Code
from stockwire.assets.domain.firmware import VERSION_PATTERN, SetMinimum, compliance
from stockwire.assets.domain.kpi import ratio
from stockwire.assets.domain.reconciliation import Mismatch
from stockwire.assets.domain.sweeps import Windows
from stockwire.assets.report_queries import MinimumRow, MismatchRow, ModelEnd
from stockwire.assets.repository import FirmwareMinimum
from stockwire.assets.unit_of_work import AssetsUnitOfWork
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.bodies import Body
from stockwire.runtime.http.idempotency import (
    Answer,
    IdempotencyKey,
    IdempotencyKeys,
    reply,
    request_key,
)
from stockwire.runtime.http.pages import PageParams, decode_cursor, next_cursor
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.query import QueryParams
from stockwire.runtime.http.reads import path_id, snapshots
from stockwire.runtime.http.text import NO_NUL
from stockwire.runtime.settings import ApiToken

UnitOfWorkFactory = Callable[[], AssetsUnitOfWork]

SKU_MAX = 64
MAX_WINDOW_DAYS = 3650

Version = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=VERSION_PATTERN,
        description="Starts with a letter or digit; letters, digits and . _ + ( ) ~ - only. "
        "Compared part by part: 3.2.10 is above 3.2.9, R21.10a above R21.4b, 3.2.0-rc1 "
        "below 3.2.0 (docs/assets.md gives the whole rule).",
    ),
]
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------- firmware minimums


class FirmwareMinimumIn(Body):
    minimum_version: Version
    reason: Reason | None = Field(default=None, description="Why, e.g. the vendor advisory.")


class FirmwareMinimumOut(BaseModel):
    sku: str
    minimum_version: str
    reason: str | None
    set_by: str
    set_at: datetime

    @classmethod
    def of(cls, row: MinimumRow | FirmwareMinimum) -> "FirmwareMinimumOut":
        return cls(
            sku=row.sku,
            minimum_version=row.minimum_version,
            reason=row.reason,
            set_by=row.set_by,
            set_at=row.set_at,
        )


class FirmwareMinimumPage(BaseModel):
    minimums: list[FirmwareMinimumOut] = Field(description="By SKU.")
    next_cursor: str | None


def _minimum_answer(minimum: FirmwareMinimum) -> Answer:
    return Answer(HTTPStatus.OK, FirmwareMinimumOut.of(minimum).model_dump(mode="json"))


def minimums_router(
    new_uow: UnitOfWorkFactory, keys: IdempotencyKeys, engine: AsyncEngine
) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    Writer = Annotated[ApiToken, Depends(require_scope("write"))]
    router = APIRouter(
        prefix="/firmware-minimums",
        tags=["firmware"],
        responses=error_responses(401, 403, 404, 422),
    )

    @router.get(
        "",
        dependencies=[Depends(require_scope("read"))],
        summary="Every model's minimum firmware",
    )
    async def list_minimums(
        params: Annotated[PageParams, Query()], conn: Snapshot
    ) -> FirmwareMinimumPage:
        after = decode_cursor(params.cursor, "firmware-minimums", (str,))
        page = await report_queries.minimum_page(conn, after=after, limit=params.limit)
        return FirmwareMinimumPage(
            minimums=[FirmwareMinimumOut.of(row) for row in page.rows],
            next_cursor=next_cursor("firmware-minimums", page, lambda row: (row.sku,)),
        )

    @router.put(
        "/{sku}",
        response_model=FirmwareMinimumOut,
        responses=error_responses(409),
        summary="Set a model's minimum firmware",
    )
    async def set_minimum(
        sku: str,
        body: FirmwareMinimumIn,
        request: Request,
        token: Writer,
        key: IdempotencyKey = None,
    ) -> Response:
        """Installed devices of the model below it raise firmware_below_minimum at the next
        sweep and count as below minimum in the compliance report. The model must be in
        the catalog (404 otherwise). A 409 is an Idempotency-Key used for another
        request."""
        sku = path_id(sku, f"model {sku!r}", SKU_MAX)
        cmd = SetMinimum(sku, body.minimum_version, body.reason, f"api:{token.name}")
        answer = await handlers.set_firmware_minimum(
            cmd, new_uow(), keys, request_key(request, token, key, body), _minimum_answer
        )
        return reply(answer)

    @router.delete(
        "/{sku}",
        status_code=HTTPStatus.NO_CONTENT,
        response_class=Response,
        responses=error_responses(409),
        summary="Remove a model's minimum firmware",
    )
    async def remove_minimum(
        sku: str, request: Request, token: Writer, key: IdempotencyKey = None
    ) -> Response:
        """Its firmware alerts resolve at the next sweep. 404 when the model has no
        minimum."""
        sku = path_id(sku, f"firmware minimum {sku!r}", SKU_MAX)
        answer = await handlers.remove_firmware_minimum(
            sku,
            new_uow(),
            keys,
            request_key(request, token, key, None),
            Answer(HTTPStatus.NO_CONTENT, None),
        )
        return reply(answer)

    return router


# -------------------------------------------------------------------------------- reports


class ModelRegionParams(QueryParams):
    sku: Code | None = None
    region: Code | None = None


class RegionParams(QueryParams):
    region: Code | None = None


class MismatchParams(PageParams):
    region: Code | None = None
    mismatch: Mismatch | None = None


class EndOfLifeParams(PageParams):
    within_days: int | None = Field(
        default=None,
        ge=0,
        le=MAX_WINDOW_DAYS,
        description="Days ahead; default STOCKWIRE_ASSETS_END_OF_LIFE_ALERT_DAYS (180).",
    )


class ComplianceOut(BaseModel):
    sku: str
    region: str | None
    minimum_version: str
    installed: int
    compliant: int
    below_minimum: int = Field(description="Including versions that cannot be compared.")
    unknown_firmware: int
    share_compliant: Decimal | None = Field(description="compliant / installed, 4 places.")


class ComplianceReport(BaseModel):
    as_of: datetime
    models: list[ComplianceOut] = Field(
        description="Per model with a minimum, and region; by SKU, then region."
    )


class RegionOut(BaseModel):
    region: str | None
    installed: int
    confirmed: int = Field(description="Installed, seen at the recorded site in the window.")
    misplaced: int = Field(description="Devices of the region (any state) seen elsewhere.")
    ghosts: int
    unrecorded: int = Field(description="Sightings at the region's sites of unknown serials.")
    agreement_ratio: Decimal | None = Field(description="confirmed / installed, 4 places.")


class ReconciliationReport(BaseModel):
    as_of: datetime
    window_days: int
    regions: list[RegionOut]


class MismatchOut(BaseModel):
    serial: str
    mismatch: Mismatch
    sku: str | None = Field(description="Null for an unrecorded device.")
    state: str | None
    region: str | None
    recorded_location: str | None
    installed_since: datetime | None
    seen_as: str | None = Field(description="The serial the network reported.")
    seen_site: str | None
    mac: str | None
    source: str | None
    seen_at: datetime | None = Field(description="For a ghost: its last sighting, if any.")

    @classmethod
    def of(cls, row: MismatchRow) -> "MismatchOut":
        return cls(
            serial=row.serial,
            mismatch=Mismatch(row.mismatch),
            sku=row.sku,
            state=row.state,
            region=row.region,
            recorded_location=row.location,
            installed_since=row.installed_since,
            seen_as=row.seen_as,
            seen_site=row.site,
            mac=row.mac,
            source=row.source,
            seen_at=row.seen_at,
        )


class MismatchPage(BaseModel):
    mismatches: list[MismatchOut] = Field(description="By serial.")
    next_cursor: str | None


class UtilizationOut(BaseModel):
    sku: str
    region: str | None
    installed: int
    owned: int = Field(description="Every device not disposed of.")
    utilization: Decimal | None = Field(description="installed / owned, 4 places.")


class UtilizationReport(BaseModel):
    models: list[UtilizationOut] = Field(description="By SKU, then region.")


class ModelEndOut(BaseModel):
    sku: str
    name: str | None
    category: str | None
    end_of_sale: date | None
    end_of_life: date | None
    days_to_end_of_sale: int | None = Field(description="Negative once past.")
    days_to_end_of_life: int | None = Field(description="Negative once past.")
    installed: int
    owned: int

    @classmethod
    def of(cls, row: ModelEnd, today: date) -> "ModelEndOut":
        return cls(
            sku=row.sku,
            name=row.name,
            category=row.category,
            end_of_sale=row.end_of_sale,
            end_of_life=row.end_of_life,
            days_to_end_of_sale=(row.end_of_sale - today).days if row.end_of_sale else None,
            days_to_end_of_life=(row.end_of_life - today).days if row.end_of_life else None,
            installed=row.installed,
            owned=row.owned,
        )


class ModelEndPage(BaseModel):
    within_days: int
    models: list[ModelEndOut] = Field(description="By SKU.")
    next_cursor: str | None


def reports_router(engine: AsyncEngine, windows: Windows) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    router = APIRouter(
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(401, 403, 422),
    )

    @router.get(
        "/reports/firmware-compliance",
        tags=["reports"],
        summary="Installed devices against their model's minimum firmware",
    )
    async def firmware_compliance(
        params: Annotated[ModelRegionParams, Query()], conn: Snapshot
    ) -> ComplianceReport:
        """Per model with a minimum and region: installed devices, those at or above the
        minimum, those below it (or whose version cannot be compared with it), those
        whose firmware is not known, and the share compliant."""
        minimums = await report_queries.minimums(conn, params.sku)
        counts = await report_queries.firmware_counts(conn, sku=params.sku, region=params.region)
        return ComplianceReport(
            as_of=_now(),
            models=[
                ComplianceOut(
                    sku=c.sku,
                    region=c.region,
                    minimum_version=c.minimum_version,
                    installed=c.installed,
                    compliant=c.compliant,
                    below_minimum=c.below_minimum,
                    unknown_firmware=c.unknown_firmware,
                    share_compliant=c.share_compliant,
                )
                for c in compliance(counts, minimums)
            ],
        )

    @router.get(
        "/reports/reconciliation",
        tags=["reports"],
        summary="How far the installed base agrees with the network, per region",
    )
    async def reconciliation(
        params: Annotated[RegionParams, Query()], conn: Snapshot
    ) -> ReconciliationReport:
        """Per region: installed devices, those the network saw at their recorded site
        within the window (confirmed), misplaced devices, ghosts, unrecorded sightings,
        and the agreement ratio confirmed / installed."""
        now = _now()
        regions = await report_queries.reconciliation(
            conn, now - windows.ghost_window, params.region
        )
        return ReconciliationReport(
            as_of=now,
            window_days=windows.ghost_days,
            regions=[
                RegionOut(
                    region=r.region,
                    installed=r.installed,
                    confirmed=r.confirmed,
                    misplaced=r.misplaced,
                    ghosts=r.ghosts,
                    unrecorded=r.unrecorded,
                    agreement_ratio=ratio(r.confirmed, r.installed),
                )
                for r in regions
            ],
        )

    @router.get(
        "/reports/reconciliation/mismatches",
        tags=["reports"],
        summary="Misplaced devices, ghosts and unrecorded sightings",
    )
    async def mismatches(
        params: Annotated[MismatchParams, Query()], conn: Snapshot
    ) -> MismatchPage:
        after = decode_cursor(params.cursor, "mismatches", (str,))
        page = await report_queries.mismatches(
            conn,
            _now() - windows.ghost_window,
            region=params.region,
            mismatch=params.mismatch,
            after=after,
            limit=params.limit,
        )
        return MismatchPage(
            mismatches=[MismatchOut.of(row) for row in page.rows],
            next_cursor=next_cursor("mismatches", page, lambda row: (row.serial,)),
        )

    @router.get(
        "/reports/utilization",
        tags=["reports"],
        summary="Installed / owned serialized devices, per model and region",
    )
    async def utilization(
        params: Annotated[ModelRegionParams, Query()], conn: Snapshot
    ) -> UtilizationReport:
        rows = await report_queries.utilization(conn, sku=params.sku, region=params.region)
        return UtilizationReport(
            models=[
                UtilizationOut(
                    sku=row.sku,
                    region=row.region,
                    installed=row.installed,
                    owned=row.owned,
                    utilization=ratio(row.installed, row.owned),
                )
                for row in rows
            ]
        )

    @router.get(
        "/models/end-of-life",
        tags=["reports"],
        summary="Models whose end of sale or life is near or past, with their counts",
    )
    async def models_ending(
        params: Annotated[EndOfLifeParams, Query()], conn: Snapshot
    ) -> ModelEndPage:
        """Serialized models whose end of sale or end of life falls within the window
        (or has passed), with how many are installed and owned."""
        within = windows.end_of_life_days if params.within_days is None else params.within_days
        today = _now().date()
        after = decode_cursor(params.cursor, "models-ending", (str,))
        page = await report_queries.models_ending(
            conn, today + timedelta(days=within), after=after, limit=params.limit
        )
        return ModelEndPage(
            within_days=within,
            models=[ModelEndOut.of(row, today) for row in page.rows],
            next_cursor=next_cursor("models-ending", page, lambda row: (row.sku,)),
        )

    return router
