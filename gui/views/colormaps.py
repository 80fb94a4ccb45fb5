"""Lookup tables for code images: index 0 means "not computed yet", 1..255 the code scale."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from convsram.gui import theme

NOT_YET = theme.hex_rgb("#232b38")


def code_lut(name: str = "inferno") -> np.ndarray:
    """(256, 3) uint8: entry 0 the not-computed grey, 1..255 the colormap from dark to bright."""
    cmap = pg.colormap.get(name)
    lut = cmap.getLookupTable(0.0, 1.0, 255, alpha=False)
    out = np.zeros((256, 3), np.ubyte)
    out[0] = NOT_YET
    out[1:] = lut[:, :3]
    return out


def grey_lut() -> np.ndarray:
    ramp = np.linspace(0, 255, 255).astype(np.ubyte)
    out = np.zeros((256, 3), np.ubyte)
    out[0] = NOT_YET
    out[1:] = ramp[:, None]
    return out


def to_index(values: np.ndarray, vmax: float) -> np.ndarray:
    """Codes 0..vmax -> 1..255 (uint8), NaN -> 0."""
    v = np.asarray(values, float)
    idx = np.zeros(v.shape, np.ubyte)
    ok = ~np.isnan(v)
    idx[ok] = (1 + np.clip(v[ok] / max(vmax, 1e-9), 0, 1) * 254).astype(np.ubyte)
    return idx
