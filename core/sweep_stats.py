"""A sweep's aggregates, computed from its rows alone (so ``convsram sweep --aggregate FILE`` recomputes
them at any time): each chip's accuracy and energy from its shards, then per knob setting the mean
over chips with its 95 % confidence interval (core.stats.accuracy_interval, Student t),
the 5th and 95th percentiles and the worst chip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from convsram.core.stats import accuracy_interval
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
