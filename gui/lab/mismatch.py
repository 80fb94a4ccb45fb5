"""Where the chip is off: a map over the rows x columns array of one of this chip's static mismatches
(every capacitor of the P or N line, the per-row DAC gain, offset and INL, the per-column charge
injection, the per-ADC offset and gain), switchable; a histogram of the draws against the Gaussian
the knob sets; and a profile along the array (per row for DAC errors, per column otherwise).

Colours: violet below nominal, green above (as V_N - V_P below / above zero on the dashboard), dark at
nominal; a strip above the array shows which layer owns each column (layer hues); white triangles
mark the columns evaluated in the current invocation."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from convsram.core import analysis
from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.lab import common
from convsram.gui.lab.labview import LabView
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import (
    Panel,
    Segments,
    bars,
    label_axis,
    make_plot,
    marker,
    set_size,
    spacing,
    style_axis,
)

DEFAULT_KIND = "cap_p"  # the per-cell map shows first
STRIP = (-3.2, -1.2)  # y extent of the layer strip above the array (rows grow downwards)
MARK_Y = -4.4


class MismatchView(LabView):
    """The array map (top), histogram and profile (bottom)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 6, (6, 6, 6, 6))

        self.map_panel = Panel("Static mismatch over the array", "", subtitle_lines=2)
        head = QtWidgets.QHBoxLayout()
        spacing(head, 8)
        head.addWidget(QtWidgets.QLabel("show"))
        self.kind = QtWidgets.QComboBox()
        for name, k in analysis.MAPS.items():
            self.kind.addItem(f"{k.title} ({k.unit}, per {k.per})", name)
        self.kind.setToolTip("Which of this chip's static draws to map. Per-row, per-column and per-ADC "
                             "quantities are painted over every cell they affect.")
        self.kind.setCurrentIndex(list(analysis.MAPS).index(DEFAULT_KIND))
        self.kind.currentIndexChanged.connect(self._redraw)
        head.addWidget(self.kind)
        head.addStretch(1)
        self.map_panel.body.addLayout(head)
        self.plot = make_plot("array column  (filter tile)", "array row  (one DAC each)", grid=False)
        p = self.plot.getPlotItem()
        p.vb.invertY(True)
        p.vb.setDefaultPadding(0.0)
        p.showAxis("top")
        style_axis(p.getAxis("top"), "ADC group  (16 adjacent columns share one ADC)")
        self.image = pg.ImageItem(axisOrder="row-major")
        p.addItem(self.image)
        self.strip = pg.ImageItem(axisOrder="row-major")
        p.addItem(self.strip)
        self.groups = Segments("#c9d3e3", width=1, alpha=90)
        p.addItem(self.groups)
        self.marks = marker("t", 11, theme.IDEAL)
        p.addItem(self.marks)
        self.cbar = common.colorbar(self.plot, self.image, common.diverging_cmap(), "deviation")
        self.map_panel.add(self.plot, 1)
        lay.addWidget(self.map_panel, 60)

        low = QtWidgets.QHBoxLayout()
        spacing(low, 6)
        self.hist_panel = Panel("Draws against the knob's Gaussian", "", subtitle_lines=2)
        self.hist_plot = make_plot("deviation", "draws")
        hp = self.hist_plot.getPlotItem()
        self.hist_neg = bars(common.style.DIVERGING_NEG)
        self.hist_pos = bars(common.style.DIVERGING_POS)
        self.gauss = pg.PlotCurveItem(pen=pg.mkPen(theme.IDEAL, width=2, style=QtCore.Qt.PenStyle.DashLine))
        for item in (self.hist_neg, self.hist_pos, self.gauss):
            hp.addItem(item)
        self.hist_panel.add(self.hist_plot)
        self.profile_panel = Panel("Profile along the array", "", subtitle_lines=2)
        self.profile_plot = make_plot("array column", "deviation")
        pp = self.profile_plot.getPlotItem()
        self.prof_neg = bars(common.style.DIVERGING_NEG)
        self.prof_pos = bars(common.style.DIVERGING_POS)
        self.prof_zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        for item in (self.prof_zero, self.prof_neg, self.prof_pos):
            pp.addItem(item)
        self.profile_panel.add(self.profile_plot)
        low.addWidget(self.hist_panel, 1)
        low.addWidget(self.profile_panel, 2)
        lay.addLayout(low, 40)
        set_size(self.kind, min_w=360)

        self._session: Session | None = None
        self._key: tuple | None = None
        self._strip_key: tuple | None = None
        self.values = np.zeros((0, 0))  # the map on screen (tests read it)

    def current_kind(self) -> str:
        return str(self.kind.currentData())

    def set_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex(list(analysis.MAPS).index(kind))

    def show_frame(self, frame: Frame | None, context: Context) -> None:
        session = context.session
        key = (session.uid, session.generation, self.current_kind())
        self._session = session
        if key != self._key:
            self._key = key
            self._draw(session)
        # the layer strip: what the columns hold in the frame's phase (a network run in phases holds
        # other layers in the same columns at other times)
        phase = 0 if frame is None else session.amap.phase_of(frame.place.layer, frame.place.tile)
        if (session.uid, session.generation, phase) != self._strip_key:
            self._strip_key = (session.uid, session.generation, phase)
            self._draw_strip(session, phase)
        if frame is not None:
            cols = frame.place.columns
            self.marks.setData(x=cols + 0.5, y=np.full(cols.size, MARK_Y))

    @QtCore.Slot()
    def _redraw(self) -> None:
        s = self._session
        if s is not None:
            self._key = (s.uid, s.generation, self.current_kind())
            self._draw(s)

    def _draw_strip(self, s: Session, phase: int) -> None:
        """The layer strip above the map: which layer each column holds in `phase` (macro 0's)."""
        cols = s.config.columns
        owner = s.amap.owner(phase, 0)[:, 0]
        strip = np.zeros((1, cols, 3), np.ubyte)
        strip[:] = theme.hex_rgb("#1b202a")
        for li in range(len(s.model.layers)):
            strip[0, owner == li] = theme.hex_rgb(theme.layer_color(li))
        self.strip.setImage(strip, levels=(0, 255), autoLevels=False)
        self.strip.setRect(QtCore.QRectF(0, STRIP[0], cols, STRIP[1] - STRIP[0]))

    def _draw(self, s: Session) -> None:
        kind = self.current_kind()
        k = analysis.MAPS[kind]
        cfg = s.config
        chip = s.chip
        values = analysis.mismatch_map(chip, kind)
        self.values = values
        draws = analysis.mismatch_values(chip, kind)
        sigma = analysis.expected_sigma(cfg, kind)
        center = float(np.mean(draws)) if kind == "dac_inl" else 0.0
        span = max(3.0 * sigma, float(np.abs(draws - center).max()) if draws.size else 0.0, 1e-9)
        rows, cols = cfg.rows, cfg.columns
        self.image.setImage(values, autoLevels=False)
        self.image.setRect(QtCore.QRectF(0, 0, cols, rows))
        self.cbar.setLevels((center - span, center + span))
        label_axis(self.cbar.getAxis("right"), f"{k.title} ({k.unit})")
        per = cfg.columns_per_group
        gx = np.arange(0, cols + 1, per, dtype=float)
        self.groups.set_segments(gx, np.full(gx.size, STRIP[0]), gx, np.full(gx.size, rows))
        common.set_ticks(self.plot, "top", [[(g * per + per / 2, str(g)) for g in range(cfg.adc_groups)], []])
        common.set_ticks(self.plot, "bottom", [[(c + 0.5, str(c)) for c in range(0, cols, 32)], []])
        common.set_ticks(self.plot, "left", [[(r + 0.5, str(r)) for r in range(0, rows, 8)], []])
        common.set_range(self.plot, x=(0, cols), y=(MARK_Y - 1.0, rows))
        names = "  ".join(f"<span style='color:{theme.layer_color(i)}'>■</span> {sp.name}"
                          for i, sp in enumerate(s.model.layers))
        knob_value = getattr(cfg, k.knob)
        self.map_panel.title.setText(f"{k.title} of this chip (seed {s.seed}), per {k.per}")
        self.map_panel.set_subtitle(
            f"<span style='color:{common.style.DIVERGING_NEG}'>■</span> below nominal &nbsp;"
            f"<span style='color:{common.style.DIVERGING_POS}'>■</span> above &nbsp;(colour bar in "
            f"{k.unit}) · knob {k.label} ({k.knob}) = {knob_value * k.scale:g} {k.unit} · "
            f"strip above: columns of {names} · "
            f"▼ columns evaluated now")
        self.map_panel.setToolTip(analysis_tip(kind))
        # histogram of the independent draws against the Gaussian
        if draws.size and np.ptp(draws) > 0:
            nb = int(np.clip(np.sqrt(draws.size) * 2, 12, 90))
            counts, edges = np.histogram(draws, nb, range=(center - span, center + span))
            centres = 0.5 * (edges[:-1] + edges[1:])
            width = edges[1] - edges[0]
            below = centres < center
            self.hist_neg.setOpts(x=centres[below], height=counts[below], width=width * 0.9)
            self.hist_pos.setOpts(x=centres[~below], height=counts[~below], width=width * 0.9)
            if sigma > 0:
                xs = np.linspace(center - span, center + span, 200)
                g = (draws.size * width / (sigma * np.sqrt(2 * np.pi))
                     * np.exp(-0.5 * ((xs - center) / sigma) ** 2))
                self.gauss.setData(xs, g)
            else:
                self.gauss.setData([], [])
            common.set_range(self.hist_plot, x=(center - span, center + span),
                             y=common.nice_range(0, max(counts.max(), 1) * 1.05, 6), padding=0.0)
        else:
            for item in (self.hist_neg, self.hist_pos):
                item.setOpts(x=[], height=[], width=1)
            self.gauss.setData([], [])
        common.set_axis_label(self.hist_plot, "bottom", f"{k.title} ({k.unit})")
        spread = float(draws.std()) if draws.size else 0.0
        self.hist_panel.set_subtitle(
            f"{draws.size:,} draws (one per {k.per}) · spread {spread:.3g} {k.unit}, knob σ {sigma:.3g} "
            f"{k.unit} "
            f"· extremes {draws.min():+.3g} … {draws.max():+.3g} {k.unit} · "
            f"<b style='color:{theme.IDEAL}'>- -</b> Gaussian of the knob")
        # profile along the array
        if k.per == "row":
            x = np.arange(rows, dtype=float)
            y = values[:, 0]
            xlabel = "array row  (its DAC)"
            what = "per row: each row's DAC error, seen by every column"
        else:
            x = np.arange(cols, dtype=float)
            y = values.mean(axis=0) if k.per == "cell" else values[0]
            xlabel = "array column"
            what = (f"per column: the mean deviation of its {rows} capacitors" if k.per == "cell"
                    else f"per column: the {k.per}'s value")
        up = y - center >= 0
        self.prof_neg.setOpts(x=x[~up], y0=center, height=(y - center)[~up], width=0.8)
        self.prof_pos.setOpts(x=x[up], y0=center, height=(y - center)[up], width=0.8)
        self.prof_zero.setValue(center)
        lim = max(float(np.abs(y - center).max()) * 1.1, 1e-9)
        common.set_range(self.profile_plot, x=(-0.5, x.size - 0.5),
                         y=common.nice_range(center - lim, center + lim, 6))
        common.set_axis_label(self.profile_plot, "bottom", xlabel)
        mean = "mean " if k.per == "cell" else ""
        common.set_axis_label(self.profile_plot, "left", f"{mean}deviation ({k.unit})")
        self.profile_panel.set_subtitle(what)


def analysis_tip(kind: str) -> str:
    k = analysis.MAPS[kind]
    return f"{k.title}, drawn once per chip (knob {k.knob}, {k.label}). {k.effect}"
