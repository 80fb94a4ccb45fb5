"""core/stats.py, the project's confidence intervals: Wilson's for an accuracy on N images, Student t
for a mean over chips, and when two accuracies are told apart."""

from __future__ import annotations

import math

import pytest

from convsram.core.stats import accuracy_interval, mean_interval, overlap, t_quantile, wilson


def test_wilson_interval_of_500_images_is_about_half_a_point() -> None:
    lo, hi = wilson(495, 500)
    assert lo < 0.99 < hi and 0.005 < hi - lo < 0.03
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(20, 20)[1] == 1.0 and wilson(20, 20)[0] > 0.8  # stays inside [0, 1] at 100 %


def test_student_t_interval() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-3)
    assert t_quantile(0.975, 7) == pytest.approx(2.3646, abs=1e-4)
    assert t_quantile(0.975, 1000) == pytest.approx(1.9623, abs=1e-3)
    low, high = mean_interval([0.9, 0.92, 0.94])
    assert low == pytest.approx(0.92 - 4.3027 * 0.02 / 3 ** 0.5, abs=1e-4) and high > 0.94
    assert all(math.isnan(v) for v in mean_interval([0.9]))
    assert accuracy_interval([0.99, 1.0, 1.0])[1] == 1.0  # clipped: an accuracy cannot pass 100 %


def test_two_chips_on_100_images_two_points_apart_are_not_told_apart() -> None:
    assert overlap(wilson(90, 100), wilson(92, 100))
    assert not overlap(wilson(50, 100), wilson(95, 100))
    assert overlap((0.1, 0.2), (0.2, 0.3))  # a shared end point counts
