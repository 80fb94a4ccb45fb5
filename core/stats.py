"""Confidence intervals, the project's one home for them: Wilson's for an accuracy measured on a finite
sample of images (a proportion), Student's t for a mean accuracy over a few chips; and a Monte Carlo
summary of per-chip accuracies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np

# two-sided 95 % quantile of the normal distribution (1.95996...), to the three figures every interval
# of the project has been computed with
Z95 = 1.96


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (95 % by default) of a proportion `correct` / `n` (Wilson, JASA 1927):
    unlike the normal approximation it stays inside [0, 1] and behaves near 100 %. (0, 1) for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two intervals share a point: two accuracies whose 95 % intervals overlap are not told
    apart by the measurement (a conservative test: disjoint intervals always are)."""
    return a[0] <= b[1] and b[0] <= a[1]


def mean_interval(x: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of `x` (nan, nan for fewer than 2 values)."""
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    half = t_quantile(0.5 + level / 2, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return float(x.mean()) - half, float(x.mean()) + half


def accuracy_interval(accuracies: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """95 % interval of the mean accuracy over chips (chips are a small sample of the process: Student
    t), clipped to [0, 1] (an accuracy cannot leave it)."""
    low, high = mean_interval(accuracies)
    return (low, high) if math.isnan(low) else (max(low, 0.0), min(high, 1.0))


@cache
def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t distribution (p in (0.5, 1)): bisection on its CDF, integrated
    numerically (Simpson, error below 1e-6 for df >= 1 at p <= 0.999)."""
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 < p < 1 and df >= 1, got {p}, {df}")
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def cdf(t: float) -> float:
        x = np.linspace(0.0, t, 4001)
        f = scale * (1 + x * x / df) ** (-(df + 1) / 2)
        h = t / 4000
        return 0.5 + h / 3 * float(f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())

    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return 0.5 * (lo + hi)


def chips_summary(accuracies: Sequence[float]) -> dict[str, float]:
    """Mean, 5th percentile (numpy's linear interpolation), min and max of per-chip accuracies."""
    a = np.asarray(accuracies, dtype=float)
    return {"chips": int(a.size), "mean": float(a.mean()), "p5": float(np.percentile(a, 5)),
            "min": float(a.min()), "max": float(a.max())}
