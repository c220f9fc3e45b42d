"""The forecast-accuracy KPI against hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from stockwire.replenishment.forecasting import holdout_accuracy, naive_scale, pinball_loss


def test_pinball_loss_weighs_shortfall_by_the_level_and_excess_by_its_complement():
    losses = pinball_loss(np.array([5.0, 1.0, 3.0]), np.array([3.0, 4.0, 3.0]), 0.9)

    assert losses == pytest.approx([0.9 * 2, 0.1 * 3, 0.0])


def test_the_naive_scale_is_the_mean_change_from_one_season_to_the_next_within_a_series():
    history = pd.DataFrame(
        {
            "unique_id": ["a"] * 5 + ["b"] * 4 + ["c"] * 3,
            "ds": [*range(5), *range(4), *range(3)],
            "y": [0, 2, 2, 5, 1, 1, 0, 1, 0, 4, 4, 4],
        }
    )

    one = naive_scale(history)
    two = naive_scale(history, season_length=2)

    assert one["a"] == pytest.approx((2 + 0 + 3 + 4) / 4)
    assert one["b"] == pytest.approx(1.0)
    assert np.isnan(one["c"])  # a series that never changed has no scale
    assert two["a"] == pytest.approx((2 + 3 + 1) / 3)
    assert np.isnan(two["b"])  # 1, 0, 1, 0 repeats every two periods


def test_holdout_accuracy_per_series():
    holdout = pd.DataFrame(
        {
            "unique_id": ["a", "a", "a", "b", "b"],
            "y": [0.0, 3.0, 1.0, 2.0, 2.0],
            "mean": [1.0, 1.0, 1.0, 2.5, 2.5],
            "dispersion": [1.0, 1.0, 1.0, 1.0, 1.0],
            "level_uncertainty": [0.0, 0.0, 0.0, 0.0, 0.0],
        }
    )
    scale = pd.Series({"a": 2.0, "b": 0.5})

    found = holdout_accuracy(holdout, scale, level=0.9).set_index("unique_id")

    # Poisson(1) at 0.9 is 2; Poisson(2.5) at 0.9 is 5.
    assert found.loc["a", "points"] == 3
    assert found.loc["a", "mase"] == pytest.approx((1 + 2 + 0) / 3 / 2.0)
    assert found.loc["a", "bias"] == pytest.approx((1 - 2 + 0) / 3)
    assert found.loc["a", "pinball"] == pytest.approx((0.1 * 2 + 0.9 * 1 + 0.1 * 1) / 3)
    assert found.loc["a", "coverage"] == pytest.approx(2 / 3)
    assert found.loc["b", "mase"] == pytest.approx(0.5 / 0.5)
    assert found.loc["b", "bias"] == pytest.approx(0.5)
    assert found.loc["b", "pinball"] == pytest.approx(0.1 * 3)
    assert found.loc["b", "coverage"] == 1.0
