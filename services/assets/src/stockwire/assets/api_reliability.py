"""Assets' fleet reads: reliability figures per model (and per model and region), and the
installed base per model and region or location.

Every route needs the ``read`` scope and reads one snapshot. Reliability figures are
computed at the request, the way the reliability job computes what it publishes (the
same records, validated by the contract), so they may be a little ahead of the topic's.
"""

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockwire.assets import fleet
from stockwire.assets.api_queries import Code
from stockwire.assets.domain.reliability import reliability
from stockwire.assets.fleet import InstalledCount
from stockwire.assets.reliability import ReliabilityPolicy, computed
from stockwire.runtime.auth import require_scope
from stockwire.runtime.http.pages import PageParams, decode_cursor, next_cursor
from stockwire.runtime.http.problems import error_responses
from stockwire.runtime.http.reads import snapshots


class ReliabilityParams(PageParams):
    sku: Code | None = Field(default=None, description="One model only.")
    region: Code | None = Field(
        default=None, description="That region's figures only (no model-wide ones)."
    )


class ReliabilityOut(BaseModel):
    """A model's figures, as the reliability topic carries them."""

    sku: str
    region: str | None = Field(description="null for the model everywhere.")
    installed_base: int = Field(description="Devices installed now.")
    operating_hours: Decimal = Field(
        description="Total operating time T of every device, failed or not."
    )
    device_years: Decimal = Field(description="operating_hours / 8766.")
    failures: int
    failures_per_device_year: Decimal | None = Field(
        description="failures / device_years; null without operating time."
    )
    mtbf_hours: Decimal | None = Field(description="T / failures; null without failures.")
    mtbf_lower_hours: Decimal = Field(
        description="2T / chi2(1 - a/2, 2r + 2), or T / ln(1/a) without failures."
    )
    mtbf_upper_hours: Decimal | None = Field(
        description="2T / chi2(a/2, 2r); null without failures."
    )
    confidence: Decimal = Field(description="Two-sided confidence of the interval, 1 - a.")
    as_of: datetime


class ReliabilityPage(BaseModel):
    figures: list[ReliabilityOut] = Field(
        description="By model, its figure everywhere first, then one per region."
    )
    next_cursor: str | None


class Grouping(StrEnum):
    REGION = "region"
    LOCATION = "location"


class InstalledBaseParams(PageParams):
    sku: Code | None = None
    location: Code | None = None
    region: Code | None = None
    by: Grouping = Field(
        default=Grouping.REGION, description="Count per model and region, or per location."
    )


class InstalledOut(BaseModel):
    sku: str
    region: str | None = Field(
        description="null for devices at a location the catalog copy does not know."
    )
    location: str | None = Field(description="With by=location; null with by=region.")
    installed: int

    @classmethod
    def of(cls, count: InstalledCount) -> "InstalledOut":
        return cls(
            sku=count.sku, region=count.region, location=count.location, installed=count.installed
        )


class InstalledBasePage(BaseModel):
    installed_base: list[InstalledOut]
    next_cursor: str | None


def reliability_router(engine: AsyncEngine, policy: ReliabilityPolicy) -> APIRouter:
    Snapshot = Annotated[AsyncConnection, Depends(snapshots(engine))]
    router = APIRouter(
        tags=["fleet"],
        dependencies=[Depends(require_scope("read"))],
        responses=error_responses(401, 403, 422),
    )

    @router.get("/reliability", summary="Failure rate and MTBF per model, and per region")
    async def get_reliability(
        params: Annotated[ReliabilityParams, Query()], conn: Snapshot
    ) -> ReliabilityPage:
        """Each model's failures per device-year and MTBF with its two-sided chi-square
        interval, everywhere and in each region, computed now. A page holds up to
        ``limit`` models, each with all its figures."""
        after = decode_cursor(params.cursor, "reliability", (str,))
        page = await fleet.fleet_skus(
            conn, sku=params.sku, region=params.region, after=after, limit=params.limit
        )
        now = datetime.now(UTC)
        found = await fleet.fleets(conn, now, skus=page.rows, region=params.region)
        return ReliabilityPage(
            figures=[
                ReliabilityOut(**computed(reliability(f, policy.confidence), now).model_dump())
                for f in found
            ],
            next_cursor=next_cursor("reliability", page, lambda sku: (sku,)),
        )

    @router.get("/installed-base", summary="Installed devices per model and region or location")
    async def get_installed_base(
        params: Annotated[InstalledBaseParams, Query()], conn: Snapshot
    ) -> InstalledBasePage:
        """How many devices are installed now, per model and region (``by=region``) or
        per model and location (``by=location``), by model."""
        by_location = params.by is Grouping.LOCATION
        tag = f"installed-base-{params.by.value}"
        page = await fleet.installed_base(
            conn,
            by_location=by_location,
            sku=params.sku,
            location=params.location,
            region=params.region,
            after=decode_cursor(params.cursor, tag, (str, str)),
            limit=params.limit,
        )
        return InstalledBasePage(
            installed_base=[InstalledOut.of(count) for count in page.rows],
            next_cursor=next_cursor(tag, page, lambda row: fleet.sort_key(row, by_location)),
        )

    return router
