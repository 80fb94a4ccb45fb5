"""The analog signals of one invocation, column by column: line voltages, their difference, ADC codes,
and the layer's pre-ADC histogram against the ADC range.

The x axis of the column plots is the evaluated column (labelled with its array column number); the
y ranges are fixed per (image, layer) from everything that layer did, so the bars move and the axes
stay still.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from convsram.core.events import layer_saturation, saturating
from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.views.context import Context
from convsram.gui.views.layer_stats import Histogram, LayerRanges
from convsram.gui.views.plotting import Panel, Segments, bars, make_plot, marker, set_text

BAR_W = 0.62
TICK_HALF = 0.42
CENTRE_STEP = 0.35  # the line window's centre moves on a grid of this many half-heights


def _group_axis(plot: pg.PlotWidget, groups: int) -> None:
    """x = ADC group: each invocation evaluates at most one column per group, so the axis never moves
    (the column numbers themselves change every invocation; they are in the panel note and tooltips)."""
    per = 0.85 * plot.width() / max(groups, 1)
    step = 1 if per >= 24 else 2 if per >= 12 else 4
    plot.getPlotItem().getAxis("bottom").setTicks(
        [[(g, str(g)) for g in range(0, groups, step)], [(g, "") for g in range(groups) if g % step]])
    plot.getPlotItem().setXRange(-0.6, groups - 0.4, padding=0)


def resting_note(what: str) -> str:
    """The note of an analog panel on a digital step (a pool, an add, a tile sum, a requantisation):
    nothing converts now; it shows the last invocation's `what` (if named: a short title has no room)."""
    return f"<span style='color:{theme.AXIS}'>array at rest{f': its last {what}' if what else ''}</span>"


def _columns_note(frame: Frame) -> str:
    cols = frame.place.columns
    shown = ", ".join(str(int(c)) for c in cols[:3])
    return f"cols {shown}{' …' if cols.size > 3 else ''}"


def _slots(frame: Frame, session: Session) -> np.ndarray:
    """x position (ADC group) of each evaluated column."""
    return (frame.place.columns // session.config.columns_per_group).astype(float)


def _ticks(item: Segments, x: np.ndarray, y: np.ndarray) -> None:
    item.set_segments(x - TICK_HALF, y, x + TICK_HALF, y)


def _set_bars(item: pg.BarGraphItem, x: np.ndarray, h: np.ndarray) -> None:
    item.setOpts(x=x, height=h, width=BAR_W)


class LinesView(Panel):
    """V_P (blue) and V_N (red) of every evaluated column after charge sharing, volts."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Line pair V_P, V_N", "", parent)
        self.plot = make_plot("ADC group  (its evaluated column)", "line voltage (V)")
        p = self.plot.getPlotItem()
        self.link = Segments(theme.TEXT_DIM, width=1, alpha=160)
        p.addItem(self.link)
        self.vp = marker("o", 12, theme.LINE_P)
        self.vn = marker("s", 11, theme.LINE_N)
        p.addItem(self.vp)
        p.addItem(self.vn)
        self.add(self.plot)
        self.set_subtitle(f"<span style='color:{theme.LINE_P}'>●</span> V<sub>P</sub> &nbsp; "
                          f"<span style='color:{theme.LINE_N}'>■</span> V<sub>N</sub> after charge sharing · "
                          "the window follows the lines, its height fixed per layer")
        self._range: tuple | None = None
        self._centre: float | None = None
        self._half = 0.0

    def show_frame(self, frame: Frame, context: Context) -> None:
        session, ranges = context.session, context.stats.ranges
        j = _slots(frame, session)
        self.vp.setData(x=j, y=frame.v_p)
        self.vn.setData(x=j, y=frame.v_n)
        self.link.set_segments(j, frame.v_p, j, frame.v_n)
        if frame.place.invocation:
            self.set_note(_columns_note(frame), theme.TEXT_DIM)
        else:  # a digital step: no conversion now; these are the last ones
            self.set_note(resting_note("lines"), theme.AXIS)
        if self._range != (session.config.adc_groups, self.plot.width()):
            self._range = (session.config.adc_groups, self.plot.width())
            _group_axis(self.plot, session.config.adc_groups)
        # the window follows the lines in steps on a fixed grid, so the axis is redrawn only now and then
        # and the picture depends on the frame alone (not on the frames shown before it)
        step = CENTRE_STEP * ranges.v_half
        centre = round(float(np.concatenate([frame.v_p, frame.v_n]).mean()) / step) * step
        if centre != self._centre or self._half != ranges.v_half:
            self._centre, self._half = centre, ranges.v_half
            self.ranges.set(self.plot.getPlotItem(), y=(centre - ranges.v_half, centre + ranges.v_half))


class DiffView(Panel):
    """V_N - V_P per evaluated column in mV, with the ideal chip's difference marked."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Line difference V_N − V_P", "", parent)
        self.plot = make_plot("ADC group  (its evaluated column)", "V_N − V_P (mV)")
        p = self.plot.getPlotItem()
        self.pos_bars = bars(theme.DIFF_POS)
        self.neg_bars = bars(theme.DIFF_NEG)
        self.ideal = Segments(theme.IDEAL, width=2.5)
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        for item in (self.zero, self.pos_bars, self.neg_bars, self.ideal):
            p.addItem(item)
        self.add(self.plot)
        self._range: tuple | None = None
        self._width: tuple | None = None

    def show_frame(self, frame: Frame, context: Context) -> None:
        session, ranges = context.session, context.stats.ranges
        mv = frame.diff * 1e3
        j = _slots(frame, session)
        up = mv >= 0
        _set_bars(self.pos_bars, j[up], mv[up])
        _set_bars(self.neg_bars, j[~up], mv[~up])
        _ticks(self.ideal, j, frame.ideal_diff * 1e3)
        self.set_note("" if frame.place.invocation else resting_note(""), theme.AXIS)
        if self._width != (session.config.adc_groups, self.plot.width()):
            self._width = (session.config.adc_groups, self.plot.width())
            _group_axis(self.plot, session.config.adc_groups)
        if self._range != (ranges, len(frame.x)):
            self._range = (ranges, len(frame.x))
            top = max(ranges.diff_mv, 2 * frame.adc_lsb * 1e3) * 1.15
            self.ranges.set(self.plot.getPlotItem(), y=(-top, top))
            cfg = session.config
            n = len(frame.x)
            unit_uv = cfg.dac_lsb / n * 1e6
            ktc_mv = cfg.ktc_sigma(n) * 1e3 * np.sqrt(2)
            self.set_subtitle(
                f"<span style='color:{theme.DIFF_POS}'>■</span> &gt; 0 "
                f"<span style='color:{theme.DIFF_NEG}'>■</span> &lt; 0 &nbsp; "
                f"<b style='color:{theme.IDEAL}'>—</b> ideal · 1 ADC code = {frame.adc_lsb * 1e3:.2f} mV · "
                f"Σw·x unit = {unit_uv:.0f} µV · kT/C σ ≈ {ktc_mv:.2f} mV")
            self.setToolTip(f"V_N − V_P = dac_lsb / N · Σ w·x for an ideal chip (white marks). At N = "
                            f"{n} rows one unit of Σ w·x is {unit_uv:.1f} µV, comparable to the kT/C noise "
                            f"of the pair ({ktc_mv:.2f} mV rms): the central precision limit of charge-"
                            f"domain computing. One ADC code of this layer is {frame.adc_lsb * 1e3:.3f} mV.")


class CodesView(Panel):
    """ADC output codes, green where they equal the ideal chip's, orange where not; ideal marked."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("ADC output codes", "", parent)
        self.plot = make_plot("ADC group  (its evaluated column)", "ADC code (LSB)")
        p = self.plot.getPlotItem()
        self.ok = bars(theme.CODE_OK)
        self.bad = bars(theme.CODE_BAD)
        self.ideal = Segments(theme.IDEAL, width=2.5)
        self.clipped = Segments(theme.SATURATED, width=3)  # outlines the bars of saturating columns
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        for item in (self.zero, self.ok, self.bad, self.ideal, self.clipped):
            p.addItem(item)
        self.add(self.plot)
        self.set_subtitle(f"<span style='color:{theme.CODE_OK}'>■</span> equals ideal &nbsp; "
                          f"<span style='color:{theme.CODE_BAD}'>■</span> differs from ideal &nbsp; "
                          f"<b style='color:{theme.IDEAL}'>—</b> ideal chip's code &nbsp; "
                          f"<span style='color:{theme.SATURATED}'>□</span> saturates (largest code)")
        self._range: LayerRanges | None = None
        self._width: tuple | None = None
        self.mismatches = 0
        self.saturating = np.zeros(0, int)  # ADC groups (x) of the columns at the largest code

    def show_frame(self, frame: Frame, context: Context) -> None:
        session, ranges = context.session, context.stats.ranges
        c = frame.codes.astype(float)
        j = _slots(frame, session)
        same = frame.codes == frame.ideal_codes
        _set_bars(self.ok, j[same], c[same])
        _set_bars(self.bad, j[~same], c[~same])
        _ticks(self.ideal, j, frame.ideal_codes.astype(float))
        self.mismatches = int((~same).sum())
        color = theme.CODE_BAD if self.mismatches else theme.CODE_OK
        sat = saturating(frame.codes, session.config.max_code)
        self.saturating = j[sat].astype(int)
        if sat.any():
            edge = BAR_W / 2 + 0.08
            self.clipped.set_rects(j[sat] - edge, np.minimum(c[sat], 0), 2 * edge, np.abs(c[sat]))
        else:
            self.clipped.clear_segments()
        text = f"<span style='color:{color}'>{self.mismatches} of {len(c)} differ"
        text += "</span>" if sat.any() else " from ideal</span>"  # room for the saturation count
        if sat.any():
            text += f" · <span style='color:{theme.SATURATED}'>{int(sat.sum())} saturate</span>"
        if not frame.place.invocation:  # a digital step: no conversion now; these are the last ones
            text = resting_note("codes")
        set_text(self.note, text)
        if self._width != (session.config.adc_groups, self.plot.width()):
            self._width = (session.config.adc_groups, self.plot.width())
            _group_axis(self.plot, session.config.adc_groups)
        if self._range != ranges:
            self._range = ranges
            lo, hi = min(0, ranges.code_lo), max(2, ranges.code_hi)
            pad = 0.08 * (hi - lo)
            self.ranges.set(self.plot.getPlotItem(), y=(lo - (pad if lo < 0 else 0), hi + pad))


LOG_FLOOR = -0.3  # log10 axis floor: a bin with one conversion still shows as a stub
LAYER_ALPHA = 90  # the whole layer's bars, behind the bright ones up to now
RELU_GREY = "#56627a"


class HistogramView(Panel):
    """The ADC inputs of the layer for this image, in codes, against the ADC's range (log counts, so
    the few saturating conversions in the tails stay visible): bright, the conversions up to now; dim
    behind them, the whole layer (the subtitle says so). In ReLU mode the negative inputs read 0 by
    design (the activation), shown apart from saturation (inputs beyond the largest code)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Pre-ADC values vs ADC range", "", parent)
        self.plot = make_plot("ADC input (V_N − V_P) / LSB  (codes)", "conversions (log)")
        p = self.plot.getPlotItem()
        p.getAxis("left").setTicks([[(k, f"{10 ** k:,}") for k in range(0, 7)], []])
        self.inside = bars(theme.HIST, alpha=LAYER_ALPHA)
        self.relu = bars(RELU_GREY, alpha=LAYER_ALPHA)
        self.outside = bars(theme.SATURATED, alpha=LAYER_ALPHA)
        self.so_far = bars(theme.HIST)  # up to now: one item, updated per frame
        self.limits = Segments(theme.SATURATED, width=2, style=QtCore.Qt.PenStyle.DashLine)
        self.current = Segments(theme.DAC, width=2)
        for item in (self.inside, self.relu, self.outside, self.so_far, self.limits, self.current):
            p.addItem(item)
        self.add(self.plot)
        self._key: tuple | None = None
        self.levels = np.zeros(0)
        self.counts = np.zeros(0)  # the whole layer's (dim)
        self.counts_now = np.zeros(0)  # up to and including this invocation (bright)
        self._histogram: Histogram | None = None
        self.saturated = 0.0  # fraction of conversions beyond the ADC's range
        self.saturating = 0  # conversions of the layer at the largest code (this image)
        self.rectified = 0.0  # ReLU mode: fraction below zero (read as 0)
        self._top = 1.0

    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        layer = frame.place.layer
        key = (frame.image, layer, session.generation)
        if key != self._key:
            self._key = key
            h = context.stats.histogram
            self._histogram = h
            lo, hi, relu = h.lo, h.hi, h.relu
            self.levels, self.counts = h.levels, h.counts
            centres = h.centres
            above = centres > hi + 0.5
            below = centres < lo - 0.5
            sat = above | (below & (not relu))
            rect = below & relu
            some = h.counts > 0
            logc = np.log10(np.maximum(h.counts, 1)) - LOG_FLOOR
            for item, sel in ((self.inside, some & ~sat & ~rect), (self.outside, some & sat),
                              (self.relu, some & rect)):
                item.setOpts(x=centres[sel], y0=LOG_FLOOR, height=logc[sel], width=h.width * 0.92)
            self._top = float(np.log10(max(h.counts.max(), 1))) + 0.35
            p = self.plot.getPlotItem()
            x_range = (centres[0] - h.width / 2, centres[-1] + h.width / 2)
            self.ranges.set(p, x=x_range, y=(LOG_FLOOR, self._top))
            self.limits.set_segments(np.array([lo - 0.5, hi + 0.5]), np.full(2, LOG_FLOOR),
                                     np.array([lo - 0.5, hi + 0.5]), np.full(2, self._top))
            self.saturated, self.rectified = h.saturated, h.rectified
            spec = session.model.layers[layer]
            relu_text = (f"<span style='color:{RELU_GREY}'>■</span> &lt; 0 reads 0 (ReLU) · " if relu else "")
            self.set_subtitle(
                f"{spec.name}, this image: bright up to now, dim all {h.levels.size:,} conversions · "
                f"<span style='color:{theme.SATURATED}'>┆</span> range {lo}…{hi} · {relu_text}"
                f"<span style='color:{theme.SATURATED}'>■</span> saturates · "
                f"<span style='color:{theme.DAC}'>|</span> now")
            self.setToolTip(f"Every ADC input (V_N − V_P in units of one ADC step) of {spec.name} for this "
                            f"image. The ADC ({spec.mode} mode) outputs {lo}…{hi}; inputs beyond the "
                            "largest code saturate (clip), which with range use explains most accuracy "
                            "loss." + (f" {self.rectified * 100:.0f} % are negative and read 0: that is "
                                       "the ReLU, by design." if relu else ""))
            # counts, not a percentage: 3 of 9,216 is what F6 jumps to, and reads 0.0 %
            n_sat, n_conv = layer_saturation(session.run_image(frame.image), layer, session.config.max_code)
            self.saturating = n_sat
            self.set_note(f"{n_sat:,} of {n_conv:,} saturate", theme.SATURATED if n_sat else theme.CODE_OK)
        hist = self._histogram
        assert hist is not None
        self.counts_now = hist.up_to(frame.place.layer_step)
        some = self.counts_now > 0
        self.so_far.setOpts(x=hist.centres[some], y0=LOG_FLOOR, width=hist.width * 0.55,
                            height=np.log10(self.counts_now[some]) - LOG_FLOOR)
        if not frame.place.invocation:  # a digital step converts nothing: no "now" marks
            self.current.clear_segments()
            return
        now = frame.diff / frame.adc_lsb
        span = self._top - LOG_FLOOR
        base = np.full(now.size, LOG_FLOOR)
        self.current.set_segments(now, base, now, base + 0.18 * span)
