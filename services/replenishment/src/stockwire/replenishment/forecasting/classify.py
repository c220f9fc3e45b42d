"""Syntetos-Boylan demand classes, and the demand statistics they rest on.

A series is summed up by its ADI, the average number of periods between two periods with
demand (periods / periods with demand), and by CV², the squared coefficient of variation
of its non-zero demand sizes. Syntetos, Boylan and Croston (2005) cut both where SBA
starts to beat plain exponential smoothing:

=============  ===========  ============
               CV² < 0.49   CV² >= 0.49
=============  ===========  ============
ADI < 1.32     smooth       erratic
ADI >= 1.32    intermittent lumpy
=============  ===========  ============

A series that never had demand gets a class of its own, ``no_demand``: it has neither an
ADI nor a CV².

The statistics are computed over any contiguous run of a frame's rows at once (prefix
sums), because the forecasting engine needs them both over each series' whole history
and over the history before each holdout cutoff.
"""

from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

ADI_CUT = 1.32
CV2_CUT = 0.49


class DemandClass(StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NO_DEMAND = "no_demand"


def demand_class(adi: float, cv2: float) -> DemandClass:
    """The class of a series with this ADI and CV² (an infinite ADI: no demand at all)."""
    if not np.isfinite(adi):
        return DemandClass.NO_DEMAND
    if adi < ADI_CUT:
        return DemandClass.SMOOTH if cv2 < CV2_CUT else DemandClass.ERRATIC
    return DemandClass.INTERMITTENT if cv2 < CV2_CUT else DemandClass.LUMPY


def classify_series(y: npt.ArrayLike) -> DemandClass:
    """The class of one series of per-period demand (non-negative, every period present)."""
    values = np.asarray(y, dtype=np.float64)
    stats = demand_stats(values, np.array([0]), np.array([values.size]))
    return DemandClass(stats["demand_class"].iloc[0])


def demand_stats(
    y: npt.NDArray[np.float64], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> pd.DataFrame:
    """Demand statistics of the row ranges ``y[starts[i]:ends[i]]``, one row per range.

    Columns: ``periods``, ``demand_periods``, ``mean`` (per period), ``dispersion_index``
    (variance over mean of the per-period demand, at least 1: under-dispersed demand is
    treated as Poisson; 1 for a series without demand), ``adi``, ``cv2`` and
    ``demand_class``. Variances are population variances (divided by the count).
    """
    zero = np.zeros(1)
    demand = y > 0
    cum_y = np.concatenate([zero, np.cumsum(y)])
    cum_y2 = np.concatenate([zero, np.cumsum(y * y)])
    cum_nz = np.concatenate([zero, np.cumsum(demand, dtype=np.float64)])
    periods = (ends - starts).astype(np.float64)
    total = cum_y[ends] - cum_y[starts]
    squares = cum_y2[ends] - cum_y2[starts]
    demand_periods = cum_nz[ends] - cum_nz[starts]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / periods
        variance = np.maximum(squares / periods - mean * mean, 0.0)
        dispersion = np.where(mean > 0, np.maximum(variance / mean, 1.0), 1.0)
        adi = np.where(demand_periods > 0, periods / demand_periods, np.inf)
        size_mean = total / demand_periods
        size_variance = np.maximum(squares / demand_periods - size_mean * size_mean, 0.0)
        cv2 = np.where(demand_periods > 0, size_variance / (size_mean * size_mean), np.nan)
    frequent = np.where(cv2 < CV2_CUT, DemandClass.SMOOTH.value, DemandClass.ERRATIC.value)
    rare = np.where(cv2 < CV2_CUT, DemandClass.INTERMITTENT.value, DemandClass.LUMPY.value)
    classes = np.where(
        np.isfinite(adi), np.where(adi < ADI_CUT, frequent, rare), DemandClass.NO_DEMAND.value
    )
    return pd.DataFrame(
        {
            "periods": periods.astype(np.int64),
            "demand_periods": demand_periods.astype(np.int64),
            "mean": mean,
            "dispersion_index": dispersion,
            "adi": adi,
            "cv2": cv2,
            "demand_class": classes,
        }
    )
