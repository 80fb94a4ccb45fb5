"""Tiling a stack of feature maps (H, W, C) into one 2-D picture with gaps, and locating cells in it."""

from __future__ import annotations

import math

import numpy as np

GAP = 1


def grid_columns(channels: int, aspect: float = 1.0) -> int:
    """Columns of the tile grid so the mosaic's shape approaches `aspect` (width / height), preferring a
    full last row."""
    ideal = math.sqrt(channels * aspect)
    divisors = [c for c in range(1, channels + 1) if channels % c == 0 and 0.6 * ideal <= c <= 1.6 * ideal]
    if divisors:
        return min(divisors, key=lambda c: abs(math.log(c / ideal)))
    return max(1, min(channels, round(ideal)))


def fit_columns(channels: int, h: int, w: int, box_w: float, box_h: float) -> int:
    """Columns of the tile grid that show `channels` maps of h x w largest in a box_w x box_h box (any
    unit, e.g. pixels), a full last row preferred unless a ragged one shows them over 5 % larger."""
    best, best_size = 1, 0.0
    for cols in range(1, channels + 1):
        rows = -(-channels // cols)
        size = min(box_w / (cols * (w + GAP)), box_h / (rows * (h + GAP))) * (1.0 if channels % cols == 0
                                                                               else 1 / 1.05)
        if size > best_size * (1 + 1e-9):
            best, best_size = cols, size
    return best


def mosaic(maps: np.ndarray, cols: int, fill: float = np.nan) -> np.ndarray:
    """(H, W, C) -> (rows*(H+GAP)-GAP, cols*(W+GAP)-GAP) with channel c at grid cell (c // cols, c % cols)."""
    h, w, c = maps.shape
    rows = -(-c // cols)
    out = np.full((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP), fill, dtype=float)
    for ch in range(c):
        gy, gx = divmod(ch, cols)
        out[gy * (h + GAP):gy * (h + GAP) + h, gx * (w + GAP):gx * (w + GAP) + w] = maps[:, :, ch]
    return out


def cell_origin(channel: int, y: int, x: int, h: int, w: int, cols: int) -> tuple[int, int]:
    """(row, col) in the mosaic of pixel (y, x) of `channel`."""
    gy, gx = divmod(channel, cols)
    return gy * (h + GAP) + y, gx * (w + GAP) + x


def cell_rects(mask: np.ndarray, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Mosaic (x, y) corners of every True pixel of an (H, W, C) mask."""
    h, w, _ = mask.shape
    ys, xs, cs = np.nonzero(mask)
    gy, gx = np.divmod(cs, cols)
    return gx * (w + GAP) + xs, gy * (h + GAP) + ys
