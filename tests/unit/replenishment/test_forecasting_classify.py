"""Syntetos-Boylan classes of synthetic series with known ADI and CV², the cut points
themselves, and the statistics over row ranges agreeing with a series taken alone."""

import numpy as np
import pytest

from stockwire.replenishment.forecasting import (
    ADI_CUT,
    CV2_CUT,
    DemandClass,
    classify_series,
    demand_class,
)
from stockwire.replenishment.forecasting.classify import demand_stats


def test_demand_every_period_of_the_same_size_is_smooth():
    assert classify_series([4, 5, 4, 6, 5, 4, 5, 5, 6, 4]) is DemandClass.SMOOTH


def test_demand_every_period_of_wildly_different_sizes_is_erratic():
    # Sizes 1 and 20 alternate: mean 10.5, variance 90.25, CV² 0.82.
    assert classify_series([1, 20] * 10) is DemandClass.ERRATIC


def test_rare_demand_of_one_unit_is_intermittent():
    # One period in four has demand: ADI 4; every size is 1: CV² 0.
    assert classify_series([0, 0, 0, 1] * 12) is DemandClass.INTERMITTENT


def test_rare_demand_of_wildly_different_sizes_is_lumpy():
    assert classify_series([0, 0, 1, 0, 0, 15] * 8) is DemandClass.LUMPY


def test_a_series_that_never_had_demand_has_a_class_of_its_own():
    assert classify_series([0, 0, 0, 0]) is DemandClass.NO_DEMAND


def test_the_cut_points_belong_to_the_rarer_and_the_more_variable_side():
    assert demand_class(ADI_CUT - 1e-9, CV2_CUT - 1e-9) is DemandClass.SMOOTH
    assert demand_class(ADI_CUT - 1e-9, CV2_CUT) is DemandClass.ERRATIC
    assert demand_class(ADI_CUT, CV2_CUT - 1e-9) is DemandClass.INTERMITTENT
    assert demand_class(ADI_CUT, CV2_CUT) is DemandClass.LUMPY
    assert demand_class(float("inf"), float("nan")) is DemandClass.NO_DEMAND


def test_random_series_fall_in_the_class_their_generator_implies():
    rng = np.random.default_rng(3)
    periods = 2_000
    occurs = rng.random(periods) < 0.25  # ADI about 4
    steady_sizes = 1 + rng.poisson(0.2, periods)  # CV² about 0.1
    spiky_sizes = 1 + rng.poisson(3.0, periods) * rng.poisson(1.0, periods)  # CV² > 1

    assert classify_series(np.where(occurs, steady_sizes, 0)) is DemandClass.INTERMITTENT
    assert classify_series(np.where(occurs, spiky_sizes, 0)) is DemandClass.LUMPY
    assert classify_series(3 + rng.poisson(8.0, periods)) is DemandClass.SMOOTH
    assert classify_series(spiky_sizes) is DemandClass.ERRATIC


def test_statistics_of_a_range_of_rows_are_those_of_the_range_alone():
    rng = np.random.default_rng(5)
    y = np.where(rng.random(300) < 0.4, rng.poisson(3.0, 300), 0).astype(np.float64)
    starts = np.array([0, 10, 120, 299])
    ends = np.array([10, 120, 300, 300])

    stats = demand_stats(y, starts, ends)

    for row, (start, end) in enumerate(zip(starts, ends, strict=True)):
        piece = y[start:end]
        sizes = piece[piece > 0]
        assert stats["periods"][row] == end - start
        assert stats["demand_periods"][row] == sizes.size
        assert stats["mean"][row] == pytest.approx(piece.mean())
        assert stats["dispersion_index"][row] == pytest.approx(
            max(piece.var() / piece.mean(), 1.0) if piece.mean() > 0 else 1.0
        )
        if sizes.size:
            assert stats["adi"][row] == pytest.approx(piece.size / sizes.size)
            assert stats["cv2"][row] == pytest.approx(sizes.var() / sizes.mean() ** 2)
        else:
            assert stats["demand_class"][row] == DemandClass.NO_DEMAND.value
