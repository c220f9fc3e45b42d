"""The fleet in aggregate, computed in the database: per model, and per model and
region, the installed base, the operating time and the failures that reliability figures
and failure spikes are made of, and the figures last published per key.

Every figure is a ``GROUP BY`` (``GROUPING SETS``: the model everywhere and the model in
each region in one pass); no device is loaded into Python. A device counts in the region
it is in now (its location's, from the catalog copy); a device whose location the copy
does not know counts for its model everywhere only. A failure counts in the region it was
recorded in.

Operating time in a window (failure spikes) is read from the devices' timelines: each
installation is the span from a state change into ``installed`` to the next state change,
or to now.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from stockwire.assets.domain.reliability import Fleet, Reliability, SpikePolicy, Windows
from stockwire.assets.tables import devices, failures, reliability_published
from stockwire.contracts.topics import reliability_key
from stockwire.contracts.vocabulary import DeviceState
from stockwire.runtime.http.pages import Page, after_key, page_of

Executor = AsyncConnection | AsyncSession
Key = tuple[str, str | None]
"""A model (``sku``, None) or a model in a region (``sku``, region)."""

INSTALLED = DeviceState.INSTALLED.value
ZERO = Decimal(0)


def _moment(now: datetime) -> sa.ColumnElement[datetime]:
    return sa.cast(sa.literal(now), sa.DateTime(timezone=True))


def _key(row: Any) -> Key | None:
    """The key of a ``GROUPING SETS`` row; None for a regional row of devices no region
    is known of."""
    if row.everywhere:
        return row.sku, None
    return None if row.region is None else (row.sku, row.region)


def _grouping(
    sku: sa.ColumnElement[str], region: sa.ColumnElement[Any], everywhere: bool
) -> list[Any]:
    """Group by model and region, and (``everywhere``) by model alone too."""
    if not everywhere:
        return [sku, region]
    return [sa.func.grouping_sets(sa.tuple_(sku), sa.tuple_(sku, region))]


async def fleets(
    conn: Executor,
    now: datetime,
    *,
    skus: Sequence[str] | None = None,
    region: str | None = None,
) -> list[Fleet]:
    """Each model's fleet everywhere and in each region at ``now``, of ``skus`` (None:
    every model), sorted by model, everywhere first; with ``region``, that region's only.

    T counts each device's ended installations and its current one up to ``now``;
    the installed base is the devices installed now."""
    at = _moment(now)
    current = sa.func.greatest(
        0, sa.cast(sa.extract("epoch", at - devices.c.installed_since), sa.Numeric) / 3600
    )
    hours = devices.c.operating_hours + sa.case(
        (devices.c.installed_since.is_not(None), current), else_=0
    )
    device_filter: list[sa.ColumnElement[bool]] = []
    failure_filter: list[sa.ColumnElement[bool]] = []
    if skus is not None:
        device_filter.append(devices.c.sku.in_(skus))
        failure_filter.append(failures.c.sku.in_(skus))
    if region is not None:
        device_filter.append(devices.c.region == region)
        failure_filter.append(failures.c.region == region)
    everywhere = region is None
    device_rows = await conn.execute(
        sa.select(
            devices.c.sku,
            devices.c.region,
            sa.func.grouping(devices.c.region).label("everywhere"),
            sa.func.count().filter(devices.c.state == INSTALLED).label("installed"),
            sa.func.sum(hours).label("hours"),
        )
        .where(*device_filter)
        .group_by(*_grouping(devices.c.sku, devices.c.region, everywhere))
    )
    found: dict[Key, tuple[int, Decimal, int]] = {}
    for row in device_rows:
        if (key := _key(row)) is not None:
            found[key] = (row.installed, row.hours or ZERO, 0)
    failure_rows = await conn.execute(
        sa.select(
            failures.c.sku,
            failures.c.region,
            sa.func.grouping(failures.c.region).label("everywhere"),
            sa.func.count().label("failures"),
        )
        .where(*failure_filter)
        .group_by(*_grouping(failures.c.sku, failures.c.region, everywhere))
    )
    for row in failure_rows:
        if (key := _key(row)) is not None:
            installed, total, _ = found.get(key, (0, ZERO, 0))
            found[key] = (installed, total, row.failures)
    return [
        Fleet(sku, region, installed, total, count)
        for (sku, region), (installed, total, count) in sorted(
            found.items(), key=lambda item: (item[0][0], item[0][1] is not None, item[0][1])
        )
    ]


async def fleet_skus(
    conn: AsyncConnection,
    *,
    sku: str | None,
    region: str | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> Page[str]:
    """A page of the models with devices or failures (in ``region``, if given)."""
    chosen = []
    for table in (devices, failures):
        statement = sa.select(table.c.sku.label("sku"))
        if sku is not None:
            statement = statement.where(table.c.sku == sku)
        if region is not None:
            statement = statement.where(table.c.region == region)
        chosen.append(statement)
    models = sa.union(*chosen).subquery()
    rows = await conn.execute(after_key(sa.select(models.c.sku), [models.c.sku], after, limit))
    return page_of(list(rows.scalars()), limit)


_SPANS = sa.text(
    """
    WITH p AS (
        SELECT CAST(:now AS timestamptz) AS now_at,
               CAST(:recent_start AS timestamptz) AS recent_start,
               CAST(:baseline_start AS timestamptz) AS baseline_start
    ), changes AS (
        SELECT h.serial, h.at,
               h.detail->>'to_state' AS to_state,
               h.detail->>'from_state' AS from_state,
               lead(h.at) OVER w AS next_at,
               row_number() OVER w AS nth
        FROM device_history h, p
        WHERE h.kind = 'state_changed' AND h.at >= p.baseline_start AND h.at < p.now_at
        WINDOW w AS (PARTITION BY h.serial ORDER BY h.at, h.id)
    ), spans AS (
        -- installations that began in the range
        SELECT c.serial, c.at AS since, coalesce(c.next_at, p.now_at) AS until
        FROM changes c, p WHERE c.to_state = :installed
        UNION ALL
        -- installations that began before it and ended in it
        SELECT c.serial, p.baseline_start, c.at
        FROM changes c, p WHERE c.nth = 1 AND c.from_state = :installed
        UNION ALL
        -- installations that began before it and go on
        SELECT d.serial, p.baseline_start, p.now_at
        FROM devices d, p WHERE d.state = :installed AND d.installed_since < p.baseline_start
    )
    SELECT d.sku, d.region, GROUPING(d.region) AS everywhere,
           sum(greatest(0, extract(epoch FROM
               least(s.until, p.now_at) - greatest(s.since, p.recent_start)))) / 3600
               AS recent_hours,
           sum(greatest(0, extract(epoch FROM
               least(s.until, p.recent_start) - greatest(s.since, p.baseline_start)))) / 3600
               AS baseline_hours
    FROM spans s JOIN devices d ON d.serial = s.serial, p
    GROUP BY GROUPING SETS ((d.sku), (d.sku, d.region))
    """
)


async def windows(session: AsyncSession, now: datetime, policy: SpikePolicy) -> list[Windows]:
    """Each model's (and model in a region's) failures and operating hours in the recent
    window before ``now`` and the baseline window before that."""
    recent_start = policy.recent_start(now)
    baseline_start = policy.baseline_start(now)
    spans = await session.execute(
        _SPANS,
        {
            "now": now,
            "recent_start": recent_start,
            "baseline_start": baseline_start,
            "installed": INSTALLED,
        },
    )
    hours = {
        key: (Decimal(row.recent_hours), Decimal(row.baseline_hours))
        for row in spans
        if (key := _key(row)) is not None
    }
    counted = await session.execute(
        sa.select(
            failures.c.sku,
            failures.c.region,
            sa.func.grouping(failures.c.region).label("everywhere"),
            sa.func.count().filter(failures.c.failed_at >= recent_start).label("recent"),
            sa.func.count().filter(failures.c.failed_at < recent_start).label("baseline"),
        )
        .where(failures.c.failed_at >= baseline_start, failures.c.failed_at < now)
        .group_by(*_grouping(failures.c.sku, failures.c.region, True))
    )
    counts = {
        key: (int(row.recent), int(row.baseline))
        for row in counted
        if (key := _key(row)) is not None
    }
    found = []
    for key in hours.keys() | counts.keys():
        recent_hours, baseline_hours = hours.get(key, (ZERO, ZERO))
        recent, baseline = counts.get(key, (0, 0))
        found.append(Windows(*key, recent, recent_hours, baseline, baseline_hours))
    return found


async def published(session: AsyncSession) -> dict[str, Reliability]:
    """The figures last published, by key."""
    rows = await session.execute(
        sa.select(reliability_published.c.key, reliability_published.c.figures)
    )
    return {key: _from_json(figures) for key, figures in rows}


async def save_published(
    session: AsyncSession, figures: Sequence[Reliability], at: datetime
) -> None:
    if not figures:
        return
    statement = insert(reliability_published)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[reliability_published.c.key],
            set_={
                "figures": statement.excluded.figures,
                "published_at": statement.excluded.published_at,
            },
        ),
        [
            {"key": reliability_key(f.sku, f.region), "figures": _to_json(f), "published_at": at}
            for f in figures
        ],
    )


_DECIMALS = (
    "operating_hours",
    "device_years",
    "failures_per_device_year",
    "mtbf_hours",
    "mtbf_lower_hours",
    "mtbf_upper_hours",
    "confidence",
)


def _to_json(figures: Reliability) -> dict[str, Any]:
    document: dict[str, Any] = {
        name: getattr(figures, name) for name in Reliability.__slots__ if name not in _DECIMALS
    }
    for name in _DECIMALS:
        value = getattr(figures, name)
        document[name] = None if value is None else str(value)
    return document


def _from_json(document: dict[str, Any]) -> Reliability:
    values = dict(document)
    for name in _DECIMALS:
        if values[name] is not None:
            values[name] = Decimal(values[name])
    return Reliability(**values)


@dataclass(frozen=True)
class InstalledCount:
    sku: str
    region: str | None
    location: str | None
    installed: int


async def installed_base(
    conn: AsyncConnection,
    *,
    by_location: bool,
    sku: str | None,
    location: str | None,
    region: str | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> Page[InstalledCount]:
    """A page of installed devices counted per model and region (or per model and
    location, with the location's region), in that order. A device whose location the
    catalog copy does not know has no region: its row comes first, with region null."""
    group = devices.c.location if by_location else devices.c.region
    statement = sa.select(
        devices.c.sku,
        sa.func.min(devices.c.region).label("region") if by_location else devices.c.region,
        devices.c.location if by_location else sa.null().label("location"),
        sa.func.count().label("installed"),
    ).where(devices.c.state == INSTALLED)
    for column, value in (
        (devices.c.sku, sku),
        (devices.c.location, location),
        (devices.c.region, region),
    ):
        if value is not None:
            statement = statement.where(column == value)
    statement = statement.group_by(devices.c.sku, group)
    order = [devices.c.sku, sa.func.coalesce(group, "")]
    rows = await conn.execute(after_key(statement, order, after, limit))
    return page_of([InstalledCount(**row._mapping) for row in rows], limit)


def sort_key(count: InstalledCount, by_location: bool) -> tuple[str, str]:
    """The keyset position of a row of :func:`installed_base`."""
    return count.sku, (count.location if by_location else count.region) or ""
