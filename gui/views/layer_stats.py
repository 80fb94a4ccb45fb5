"""What the signal plots need about a whole layer of one image: steady axis ranges and the pre-ADC
histogram. Computed once per (session uid, chip generation, image, layer), cached, and thread-safe, so
the prefetch worker can compute them ahead of time (an image change then costs the GUI thread nothing
here)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from convsram.core.chip import detail
from convsram.core.session import Session

CACHE = 64  # (image, layer) entries kept


@dataclass(frozen=True)
class LayerRanges:
    """Robust extents of one layer's signals over a whole image, for steady axes (the rare outlier
    beyond them is cut at the plot's edge)."""

    v_half: float  # half-height of the line-voltage window around each invocation's mean, V
    diff_mv: float  # |V_N - V_P| covering 98 % of the layer's conversions, mV
    code_lo: int
    code_hi: int


@dataclass(frozen=True)
class Histogram:
    """Every ADC input of the layer for the image, in ADC codes, binned, against the ADC's range."""

    levels: np.ndarray
    centres: np.ndarray
    width: float
    counts: np.ndarray
    lo: int
    hi: int
    relu: bool
    saturated: float  # fraction beyond the ADC's range
    rectified: float  # ReLU mode: fraction below zero (they read 0: the activation, by design)
    # (layer invocations + 1, bins): counts of the conversions before each invocation of the layer, so
    # row k + 1 is the histogram up to and including invocation k ("now")
    cumulative: np.ndarray

    def up_to(self, layer_step: int) -> np.ndarray:
        """The counts of the layer's conversions up to and including invocation `layer_step`."""
        return self.cumulative[min(layer_step + 1, len(self.cumulative) - 1)]


@dataclass(frozen=True)
class LayerStats:
    ranges: LayerRanges
    histogram: Histogram


_cache: OrderedDict[tuple[int, int, int, int], LayerStats] = OrderedDict()
_lock = threading.Lock()


def layer_stats(session: Session, image: int, layer: int) -> LayerStats:
    key = (session.uid, session.generation, image, layer)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    stats = LayerStats(_ranges(session, image, layer), _histogram(session, image, layer))
    with _lock:
        _cache[key] = stats
        while len(_cache) > CACHE:
            _cache.popitem(last=False)
    return stats


def warm(session: Session, image: int) -> None:
    """Compute every layer's stats for `image` (called by the prefetch worker)."""
    for layer in range(len(session.model.layers)):
        layer_stats(session, image, layer)


def layer_ranges(session: Session, image: int, layer: int) -> LayerRanges:
    return layer_stats(session, image, layer).ranges


def _ranges(session: Session, image: int, layer: int) -> LayerRanges:
    run = session.run_image(image)
    recs = [r for (li, _, _), r in run.records.items() if li == layer]
    dev = []
    for r in recs:
        v = np.concatenate([detail(r.v_p), detail(r.v_n)], axis=1)
        dev.append(np.abs(v - v.mean(axis=1, keepdims=True)).max(axis=1))
    d = np.concatenate([np.concatenate([r.diff.ravel(), detail(r.ideal_diff).ravel()]) for r in recs])
    c = np.concatenate([np.concatenate([r.codes.ravel(), detail(r.ideal_codes).ravel()]) for r in recs])
    half = float(np.percentile(np.concatenate(dev), 99.5)) * 1.25
    return LayerRanges(max(half, 2e-4), float(np.percentile(np.abs(d), 98) * 1e3),
                       int(np.floor(np.percentile(c, 0.25))), int(np.ceil(np.percentile(c, 99.75))))


def _histogram(session: Session, image: int, layer: int) -> Histogram:
    levels = session.run_image(image).pre_adc(layer)
    lo, hi = session.pre_adc_range(layer)
    relu = session.model.layers[layer].mode == "relu"
    span_lo = min(lo, float(np.floor(levels.min()))) - 2
    span_hi = max(hi, float(np.ceil(levels.max()))) + 2
    width = float(max(1.0, np.ceil((span_hi - span_lo) / 110)))
    counts, edges = np.histogram(levels, np.arange(span_lo, span_hi + width, width))
    run = session.run_image(image)
    end = run.layer_end(layer)  # the layer's invocations (its digital steps come after them)
    # each invocation's conversions binned, one pass per record (a tile's chunk) for all its positions
    steps: dict[tuple[int, int, int], tuple[list[int], list[int]]] = {}  # record -> (rows, positions)
    for step, k in enumerate(range(run.layer_start[layer], end)):
        p = run.places[k]
        rows, positions = steps.setdefault((p.layer, p.tile, p.chunk), ([], []))
        rows.append(step + 1)
        positions.append(p.position)
    n_rows = end - run.layer_start[layer] + 1
    flat = np.zeros(n_rows * counts.size, dtype=np.int64)
    for key, (rows, positions) in steps.items():
        rec = run.records[key]
        now = rec.diff[np.asarray(positions)] / rec.adc_lsb  # (invocations, columns)
        bins = np.clip(np.searchsorted(edges, now, side="right") - 1, 0, counts.size - 1)
        flat += np.bincount((np.asarray(rows)[:, None] * counts.size + bins).ravel(), minlength=flat.size)
    cumulative = np.cumsum(flat.reshape(n_rows, counts.size), axis=0)
    n = max(levels.size, 1)
    beyond = (levels > hi + 0.5) | ((levels < lo - 0.5) & (not relu))
    return Histogram(levels=levels, centres=0.5 * (edges[:-1] + edges[1:]), width=width, counts=counts,
                     lo=lo, hi=hi, relu=relu, saturated=float(beyond.sum() / n),
                     rectified=float(((levels < lo - 0.5) & relu).sum() / n), cumulative=cumulative)
