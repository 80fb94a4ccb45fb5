"""Confidence intervals for accuracies measured on a finite sample of images, and Monte Carlo summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (95 % by default) of a proportion `correct` / `n` (Wilson, JASA 1927):
    unlike the normal approximation it stays inside [0, 1] and behaves near 100 %."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def chips_summary(accuracies: Sequence[float]) -> dict[str, float]:
    """Mean, 5th percentile (numpy's linear interpolation), min and max of per-chip accuracies."""
    a = np.asarray(accuracies, dtype=float)
    return {"chips": int(a.size), "mean": float(a.mean()), "p5": float(np.percentile(a, 5)),
            "min": float(a.min()), "max": float(a.max())}
