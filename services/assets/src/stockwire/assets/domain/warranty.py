"""A device's warranty: from its receipt for the model's warranty months, unless set by
hand for that device."""

import calendar
from datetime import date, datetime


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, on the last day of a shorter month."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def warranty_end(received_at: datetime, months: int | None, override: date | None) -> date | None:
    """The last day of the device's warranty; None when neither the model nor the device
    says (no warranty known)."""
    if override is not None:
        return override
    if months is None:
        return None
    return add_months(received_at.date(), months)
