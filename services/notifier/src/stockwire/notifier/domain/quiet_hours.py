"""Quiet hours: a daily local-time window, in an IANA zone, when a rule sends nothing
non-critical.

A window is computed as real periods (an instant where it starts, an instant where it ends)
for the local days around ``now``, so a window that crosses midnight and the days clocks
change behave: a wall time that does not exist (spring forward) means the moment the clocks
jump; one that happens twice (fall back) means its first occurrence, so the repeated hour
does not reopen a period that already ended.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stockwire.runtime.domain_errors import Invalid


def load_zone(name: str, field_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise Invalid(field_name, f"unknown IANA time zone {name!r}") from error


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant the local wall time ``wall`` of ``day`` is reached in ``zone``."""
    first = datetime.combine(day, wall, tzinfo=zone)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == first.replace(tzinfo=None):
        return utc
    # A gap: the wall time is skipped. It is reached when the clocks jump, somewhere between
    # the readings with the offsets after (earlier instant) and before (later) the change.
    low = datetime.combine(day, wall, tzinfo=zone).replace(fold=1).astimezone(UTC)
    high = utc
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= datetime.combine(day, wall):
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: str

    def __post_init__(self) -> None:
        load_zone(self.timezone, "quiet_hours.timezone")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise Invalid("quiet_hours", "start and end are local wall times, without a zone")
        if self.start == self.end:
            raise Invalid("quiet_hours.end", "must differ from start (the window would be empty)")

    def _periods(self, now: datetime) -> list[tuple[datetime, datetime]]:
        zone = ZoneInfo(self.timezone)
        today = now.astimezone(zone).date()
        crosses = self.end <= self.start
        periods = []
        for offset in (-1, 0, 1):
            day = today + timedelta(days=offset)
            end_day = day + timedelta(days=1) if crosses else day
            periods.append((_instant(day, self.start, zone), _instant(end_day, self.end, zone)))
        return periods

    def period_end(self, now: datetime) -> datetime | None:
        """When the quiet period covering ``now`` ends; None if ``now`` is not quiet."""
        for start, end in self._periods(now):
            if start <= now < end:
                return end
        return None

    def covers(self, now: datetime) -> bool:
        return self.period_end(now) is not None
