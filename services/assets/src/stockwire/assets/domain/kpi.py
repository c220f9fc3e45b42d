"""Ratios the reports give: a share of a whole, to four places."""

from decimal import ROUND_HALF_EVEN, Decimal

PLACES = Decimal("0.0001")


def ratio(part: int, whole: int) -> Decimal | None:
    """``part / whole`` to four places; None when there is no whole to share."""
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(PLACES, rounding=ROUND_HALF_EVEN)
