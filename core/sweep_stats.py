"""A sweep's aggregates, computed from its rows alone (so ``convsram sweep --aggregate FILE`` recomputes
them at any time): each chip's accuracy and energy from its shards, then per knob setting the mean
over chips with its 95 % confidence interval (Student t: chips are a small sample of the process),
the 5th and 95th percentiles and the worst chip."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from convsram.core.sweep_rows import Row


@dataclass(frozen=True)
class ChipResult:
    """One chip instance (knob setting and seed) over all its shards. Energy per image in pJ includes
    the chip's one-time weight write spread over its images (as ``convsram eval`` reports it)."""

    knobs: tuple[str, ...]
    seed: int
    images: int
    correct: int
    energy_per_image_pj: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.images


def chip_results(rows: Sequence[Row], images: int | None = None) -> tuple[list[ChipResult], int]:
    """(complete chips in row order, how many chips are incomplete). A chip is complete when its shards
    cover `images` images (default: as many as the most complete chip of the file)."""
    groups: dict[tuple[tuple[str, ...], int], list[Row]] = {}
    for row in sorted(rows, key=lambda r: r.index):
        groups.setdefault((row.knobs, row.seed), []).append(row)
    chips = []
    for (knobs, seed), shards in groups.items():
        n = sum(r.images for r in shards)
        correct = sum(r.correct for r in shards)
        energy = sum(r.energy_per_image_pj * r.images for r in shards) + shards[0].weight_write_pj
        chips.append(ChipResult(knobs, seed, n, correct, energy / n))
    full = images if images is not None else max((c.images for c in chips), default=0)
    complete = [c for c in chips if c.images == full]
    return complete, len(chips) - len(complete)


@dataclass(frozen=True)
class SettingSummary:
    """Accuracy over the chips of one knob setting (fractions, not %); energy mean in pJ per image."""

    knobs: tuple[str, ...]
    chips: int
    images: int
    mean: float
    ci_low: float  # 95 % confidence interval of the mean over chips, within [0, 1] (nan for one chip)
    ci_high: float
    p5: float
    p95: float
    worst: float
    energy_per_image_pj: float


def summarise_chips(chips: Sequence[ChipResult]) -> list[SettingSummary]:
    """One summary per knob setting, in the order the settings first appear."""
    groups: dict[tuple[str, ...], list[ChipResult]] = {}
    for c in chips:
        groups.setdefault(c.knobs, []).append(c)
    out = []
    for knobs, group in groups.items():
        acc = np.array([c.accuracy for c in group])
        low, high = accuracy_interval(acc)
        out.append(SettingSummary(knobs, len(group), group[0].images, float(acc.mean()), low, high,
                                  float(np.percentile(acc, 5)), float(np.percentile(acc, 95)),
                                  float(acc.min()), float(np.mean([c.energy_per_image_pj for c in group]))))
    return out


def mean_interval(x: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of `x` (nan, nan for fewer than 2 values)."""
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    half = t_quantile(0.5 + level / 2, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return float(x.mean()) - half, float(x.mean()) + half


def accuracy_interval(accuracies: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """95 % interval of the mean accuracy over chips, clipped to [0, 1] (an accuracy cannot leave it)."""
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
