"""Pieces the lab's views share: the diverging colour map (violet below, green above, as V_N - V_P
is coloured on the dashboard), colour bars, density images, kernel pictures, and the per-layer
analysis cache (computed on the GUI thread on demand: a few milliseconds per layer)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from convsram.core import analysis
from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.lab import style
from convsram.gui.views.mosaic import grid_columns, mosaic
from convsram.gui.views.plotting import design, font, label_axis

DARK_MID = "#1a1f2a"


def diverging_cmap() -> pg.ColorMap:
    return pg.ColorMap(pos=np.array([0.0, 0.5, 1.0]),
                       color=[theme.hex_rgb(style.DIVERGING_NEG), theme.hex_rgb(DARK_MID),
                              theme.hex_rgb(style.DIVERGING_POS)])


def density_cmap() -> pg.ColorMap:
    return pg.ColorMap(pos=np.array([0.0, 0.35, 1.0]),
                       color=[theme.hex_rgb(theme.PLOT_BG), theme.hex_rgb(theme.HIST), (255, 255, 255)])


def colorbar(plot: pg.PlotWidget, image: pg.ImageItem, cmap: pg.ColorMap, label: str,
             values: tuple[float, float] = (-1.0, 1.0)) -> pg.ColorBarItem:
    """A fixed (not draggable) colour bar right of `plot`, labelled with the unit."""
    bar = pg.ColorBarItem(values=values, colorMap=cmap, interactive=False,
                          width=theme.px(14))
    bar.setImageItem(image, insert_in=plot.getPlotItem())
    axis = bar.getAxis("right")
    axis.setStyle(tickFont=font(theme.TICK_PX))
    axis.setTextPen(pg.mkPen(theme.TEXT_DIM))
    axis.setPen(pg.mkPen(theme.AXIS))
    label_axis(axis, label)
    return bar


def log_index(counts: np.ndarray) -> np.ndarray:
    """Counts -> 0..1 on a log scale (0 stays 0), for density images."""
    c = np.asarray(counts, float)
    top = np.log1p(c.max()) if c.size and c.max() > 0 else 1.0
    return np.log1p(c) / top


def hint(text: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    label.setTextFormat(QtCore.Qt.TextFormat.RichText)
    return label


# --- kernel picture -------------------------------------------------------------------------------


def kernel_rgb(weights: np.ndarray, mask: np.ndarray, aspect: float = 2.0) -> tuple[np.ndarray, int]:
    """(H, W, C) +/-1 weights -> an RGB mosaic: +1 blue (steers to P), -1 red (to N); the rows outside
    the column's tile dimmed; gaps in the panel colour. Returns (rgb, mosaic columns)."""
    h, w, c = weights.shape
    cols = grid_columns(c, aspect * h / w)
    wm = mosaic(weights, cols, fill=0.0)
    mm = mosaic(mask.astype(float), cols, fill=0.0) > 0.5
    rgb = np.zeros((*wm.shape, 3))
    rgb[:] = theme.hex_rgb(theme.PANEL)
    plus, minus = np.array(theme.hex_rgb(theme.LINE_P), float), np.array(theme.hex_rgb(theme.LINE_N), float)
    rgb[wm > 0] = plus
    rgb[wm < 0] = minus
    dim = (wm != 0) & ~mm
    rgb[dim] = rgb[dim] * 0.28 + np.array(theme.hex_rgb(theme.PANEL)) * 0.72
    return rgb.astype(np.ubyte), cols


# --- per-layer analysis, cached --------------------------------------------------------------------


@dataclass(frozen=True)
class LayerAnalysis:
    signals: analysis.LayerSignals
    static: analysis.StaticLevels
    stats: analysis.ColumnStats
    layer_start: int


class LabData:
    """What the lab's views compute from a session, cached per (session, chip generation, image,
    layer); plus the ideal twin."""

    KEEP = 6

    def __init__(self) -> None:
        self.twin = analysis.IdealTwin()
        self._layers: OrderedDict[tuple, LayerAnalysis] = OrderedDict()

    def layer(self, session: Session, image: int, layer: int) -> LayerAnalysis:
        key = (session.uid, session.generation, image, layer)
        hit = self._layers.get(key)
        if hit is not None:
            self._layers.move_to_end(key)
            return hit
        run = session.run_image(image)
        sig = analysis.layer_signals(run, layer, session.config)
        static = analysis.static_levels(session.chip, sig)
        out = LayerAnalysis(sig, static, analysis.column_stats(sig, static), run.layer_start[layer])
        self._layers[key] = out
        while len(self._layers) > self.KEEP:
            self._layers.popitem(last=False)
        return out

    def ideal_session(self, session: Session) -> Session:
        return self.twin.session_for(session)

    def ideal_frame(self, session: Session, frame: Frame) -> Frame:
        return self.twin.frame(session, frame.image, frame.index)


def column_owner(session: Session, column: int, layer: int) -> tuple[int, int, int]:
    """(layer, tile, filter) that array `column` holds while `layer` runs: the tile of `layer` placed on
    it, else what the column holds in the phase and macro of the layer's first tile (a network run in
    phases holds other layers in the same columns at other times); -1s for an unused column."""
    amap = session.amap
    for tile, cols in enumerate(amap.columns[layer]):
        hit = np.flatnonzero(np.asarray(cols) == column)
        if hit.size:
            return layer, tile, int(hit[0])
    owner = amap.owner(amap.phase_of(layer, 0), amap.macro_of(layer, 0))[column]
    return int(owner[0]), int(owner[1]), int(owner[2])


def owner_text(session: Session, column: int, layer: int) -> str:
    """'conv2 filter 5, tile 2/3 (filter rows 48-95)' for an array column while `layer` runs, or
    'unused column'."""
    layer, tile, filt = column_owner(session, column, layer)
    if layer < 0:
        return "unused column"
    spec = session.model.layers[layer]
    r0, r1 = spec.tiles[tile]
    return f"{spec.name} filter {filt}, tile {tile + 1}/{spec.n_tiles} (filter rows {r0}–{r1 - 1})"


def ints(values: Any) -> list[int]:
    return [int(v) for v in np.asarray(values).ravel()]


def set_axis_label(plot: pg.PlotWidget, side: str, text: str) -> None:
    """Change an axis title (and what restyle re-applies when the window rescales)."""
    axis = plot.getPlotItem().getAxis(side)
    d = design(axis)
    if d.axis != (text,):
        d.axis = (text,)
        label_axis(axis, text)


def nice_range(lo: float, hi: float, steps: int = 8) -> tuple[float, float]:
    """(lo, hi) widened outwards to whole multiples of a round step (about span / steps), so that data
    moving a little keeps the same axis (a changed axis costs a re-render of its tick labels)."""
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        span = abs(hi) * 0.1 or 1.0
        lo, hi = lo - span / 2, hi + span / 2
    raw = span / steps
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


def set_range(plot: pg.PlotWidget, x: tuple[float, float] | None = None, y: tuple[float, float] | None = None,
              padding: float = 0.0) -> None:
    """setXRange / setYRange only when the range differs from the last one set here."""
    last = getattr(plot, "_lab_range", {})
    p = plot.getPlotItem()
    if x is not None and last.get("x") != (x, padding):
        p.setXRange(*x, padding=padding)
        last["x"] = (x, padding)
    if y is not None and last.get("y") != (y, padding):
        p.setYRange(*y, padding=padding)
        last["y"] = (y, padding)
    plot._lab_range = last


def set_ticks(plot: pg.PlotWidget, side: str, ticks: list | None) -> None:
    """AxisItem.setTicks only when the ticks differ from the last ones set here (each call re-renders
    the axis)."""
    axis = plot.getPlotItem().getAxis(side)
    if getattr(axis, "_lab_ticks", False) != ticks:
        axis._lab_ticks = ticks
        axis.setTicks(ticks)


def set_title(plot: pg.PlotWidget, text: str) -> None:
    """PlotItem.setTitle only when the text changed (a new title re-lays out the plot)."""
    if getattr(plot, "_lab_title", None) != text:
        plot._lab_title = text
        plot.getPlotItem().setTitle(text, color=theme.TEXT, size=f"{theme.px(theme.TICK_PX)}px")
