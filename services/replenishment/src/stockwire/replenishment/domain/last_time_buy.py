"""Last-time buys: stock bought before an item's end of life to replace the installed
units that will fail while they remain in service.

An item whose end of life falls within the horizon (today included, 365 days by default)
and that has an installed base is evaluated. Failures over the remaining service horizon
(the years until that installed base is retired) are Poisson with mean

    λ = installed base * failures per device-year * remaining service years

and the buy is the Poisson quantile of λ at the service level minus the stock already
held (rounded up to whole units); none when that is not above 0. Past its end of life
an item can no longer be bought, so nothing is suggested.
"""

import math
from datetime import date, timedelta

from stockwire.contracts.vocabulary import SuggestionKind
from stockwire.replenishment.domain.explanation import LastTimeBuyExplanation
from stockwire.replenishment.domain.quantities import format_quantity, round_up
from stockwire.replenishment.domain.safety_stock import poisson_quantile
from stockwire.replenishment.domain.suggestions import Suggestion

LAST_TIME_BUY_HORIZON_DAYS = 365
"""How far ahead an end of life is looked for."""


def last_time_buy(
    *,
    sku: str,
    location: str,
    end_of_life: date | None,
    today: date,
    installed_base: int,
    failures_per_device_year: float,
    remaining_service_years: float,
    service_level: float,
    held: float,
    discrete: bool,
    supplier_lead_time_days: int,
    horizon_days: int = LAST_TIME_BUY_HORIZON_DAYS,
) -> LastTimeBuyExplanation | None:
    """The last-time-buy evaluation of ``sku`` bought into ``location`` for the
    ``installed_base`` it serves, ``held`` being the stock already there and on its way;
    None when the item has no end of life within the horizon or no installed base."""
    if installed_base < 0 or remaining_service_years < 0 or held < 0:
        raise ValueError("an installed base, a service horizon and stock are never negative")
    if not math.isfinite(failures_per_device_year) or failures_per_device_year < 0:
        raise ValueError("a failure rate is a finite number, never negative")
    if end_of_life is None or installed_base == 0:
        return None
    days_left = (end_of_life - today).days
    if not 0 <= days_left <= horizon_days:
        return None
    expected = installed_base * failures_per_device_year * remaining_service_years
    quantile = poisson_quantile(expected, service_level)
    shortfall = round_up(quantile - held, discrete)
    suggestion = None
    covered = (
        f"{installed_base} installed failing {failures_per_device_year:g} times a device-year "
        f"for {remaining_service_years:g} more years should fail {expected:g} times; at "
        f"{service_level:g} that is up to {quantile}"
    )
    if shortfall > 0:
        suggestion = Suggestion(
            SuggestionKind.LAST_TIME_BUY,
            sku,
            location,
            shortfall,
            lead_time_days=supplier_lead_time_days,
            expected_arrival=today + timedelta(days=supplier_lead_time_days),
            order_by=end_of_life,
        )
        reason = (
            f"{sku} reaches its end of life on {end_of_life.isoformat()}; {covered}, and "
            f"{format_quantity(held)} are held, so buy {format_quantity(shortfall)}"
        )
    else:
        reason = (
            f"{sku} reaches its end of life on {end_of_life.isoformat()}; {covered}, and "
            f"the {format_quantity(held)} held cover it"
        )
    return LastTimeBuyExplanation(
        evaluated_on=today,
        sku=sku,
        location=location,
        end_of_life=end_of_life,
        days_to_end_of_life=days_left,
        horizon_days=horizon_days,
        installed_base=installed_base,
        failures_per_device_year=failures_per_device_year,
        remaining_service_years=remaining_service_years,
        expected_failures=expected,
        service_level=service_level,
        failures_quantile=quantile,
        held=held,
        shortfall=shortfall,
        suggestion=suggestion,
        reason=reason,
    )
