"""Inside one invocation: one column's voltages over the 150 ns cycle, from core.waveform (phases and
durations from the energy model's time table): the row lines discharging in the DAC phase, V_P and V_N
settling to their charge-shared averages, and the integrating ADC ramping the lower line one step per
clock until the comparator trips at the code.

Phase shading keeps the dashboard's colours: DAC amber, steering and sharing (the array) blue, the
ADC's sign, ramp and readout green."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from convsram.core.energy import t as phase_ns
from convsram.core.session import Frame, Session
from convsram.core.waveform import Waveform, invocation_waveform
from convsram.gui import theme
from convsram.gui.lab import common
from convsram.gui.lab.labview import LabView
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import Panel, make_plot, set_font, set_size, spacing

PHASE_COLORS = {"DAC": theme.DAC, "share": theme.LINE_P, "sign": theme.CODE_OK, "ramp": theme.CODE_OK,
                "read": theme.CODE_OK}
PHASE_NAMES = {"DAC": "DAC", "share": "steer + share", "sign": "sign", "ramp": "integrating ramp",
               "read": "latch"}


class WaveformView(LabView):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 6, (6, 6, 6, 6))
        self.panel = Panel("Inside one invocation", "", subtitle_lines=2)
        head = QtWidgets.QHBoxLayout()
        spacing(head, 8)
        head.addWidget(QtWidgets.QLabel("column"))
        self.column_box = QtWidgets.QComboBox()
        self.column_box.setToolTip("One of the columns this invocation evaluates (one per ADC group). A "
                                   "column "
                                   "picked in the error view is shown here whenever it is evaluated.")
        self.column_box.currentIndexChanged.connect(self._on_pick)
        set_size(self.column_box, min_w=600)
        head.addWidget(self.column_box)
        head.addStretch(1)
        self.readout = QtWidgets.QLabel("")
        head.addWidget(self.readout)
        self.panel.body.addLayout(head)

        self.rows_plot = make_plot("time (ns)", "row line (V)")
        self.pair_plot = make_plot("time (ns)", "column line (V)")
        self.diff_plot = make_plot("time (ns)", "V_N − V_P (mV)")
        self.rows_curve = pg.PlotCurveItem(pen=pg.mkPen(theme.rgba(theme.DAC, 150), width=1),
                                           connect="finite")
        self.rows_plot.getPlotItem().addItem(self.rows_curve)
        self.vp = pg.PlotCurveItem(pen=pg.mkPen(theme.LINE_P, width=2))
        self.vn = pg.PlotCurveItem(pen=pg.mkPen(theme.LINE_N, width=2))
        self.pair_plot.getPlotItem().addItem(self.vp)
        self.pair_plot.getPlotItem().addItem(self.vn)
        self.diff = pg.PlotCurveItem(pen=pg.mkPen(theme.DIFF_POS, width=2))
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        self.diff_plot.getPlotItem().addItem(self.zero)
        self.diff_plot.getPlotItem().addItem(self.diff)
        self.plots = (self.rows_plot, self.pair_plot, self.diff_plot)
        for plot in self.plots[1:]:
            plot.setXLink(self.rows_plot)
        self.decision: list[pg.InfiniteLine] = []
        for plot in self.plots:
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.IDEAL, width=1.5,
                                                          style=QtCore.Qt.PenStyle.DashLine))
            plot.getPlotItem().addItem(line)
            self.decision.append(line)
        self.regions: list[list[pg.LinearRegionItem]] = [[] for _ in self.plots]
        self.labels: list[pg.TextItem] = []
        self.panel.add(self.rows_plot, 30)
        self.panel.add(self.pair_plot, 35)
        self.panel.add(self.diff_plot, 35)
        lay.addWidget(self.panel)

        self._columns: np.ndarray = np.zeros(0, int)
        self._frame: Frame | None = None
        self._context: Context | None = None
        self._session: Session | None = None
        self.preferred: int | None = None  # the column to show when it is evaluated
        self.wave: Waveform | None = None
        self.column: int | None = None


    def prefer(self, column: int) -> None:
        self.preferred = int(column)
        if self._context is not None and self._frame is not None and column in self._columns:
            self.show_frame(self._frame, self._context)

    def show_frame(self, frame: Frame, context: Context) -> None:
        s = context.session
        self._session, self._frame, self._context = s, frame, context
        cols = frame.place.columns
        if not np.array_equal(cols, self._columns):
            self._columns = cols.copy()
            blocker = QtCore.QSignalBlocker(self.column_box)
            self.column_box.clear()
            per = s.config.columns_per_group
            for j, c in enumerate(cols):
                self.column_box.addItem(f"column {int(c)} · ADC group {int(c) // per} · "
                                        f"{common.owner_text(s, int(c), frame.place.layer)}", j)
            del blocker
        if self.preferred is not None and self.preferred in cols:
            j = int(np.flatnonzero(cols == self.preferred)[0])
        elif self.column is not None and self.column in cols:
            j = int(np.flatnonzero(cols == self.column)[0])
        else:
            j = int(np.argmax(np.abs(frame.codes)))  # the longest ramp is the most telling
        if self.column_box.currentIndex() != j:
            blocker = QtCore.QSignalBlocker(self.column_box)
            self.column_box.setCurrentIndex(j)
            del blocker
        self._draw(s, frame, j)

    @QtCore.Slot(int)
    def _on_pick(self, index: int) -> None:
        if index < 0 or self._session is None or self._frame is None:
            return
        self.preferred = int(self._columns[index])
        self._draw(self._session, self._frame, index)

    def _draw(self, s: Session, f: Frame, j: int) -> None:
        cfg = s.config
        self.column = int(f.place.columns[j])
        code, ideal = int(f.codes[j]), int(f.ideal_codes[j])
        wave = invocation_waveform(cfg, f.v_dac, float(f.v_p[j]), float(f.v_n[j]), code, f.adc_lsb)
        self.wave = wave
        t = wave.t_ns
        n = wave.v_rows.shape[0]
        # the row lines move only in the DAC phase: there every 5th sample, then straight to the end
        # (64 lines of 1,500 samples each would take ten times longer to paint than all the rest)
        keep = np.flatnonzero(t <= phase_ns("dac") + 1e-9)[::5]
        keep = np.append(keep, t.size - 1)
        tk = np.append(t[keep], np.nan)
        xs = np.tile(tk, n)
        ys = np.concatenate([wave.v_rows[:, keep], np.full((n, 1), np.nan)], axis=1).ravel()
        self.rows_curve.setData(xs, ys, connect="finite")
        self.vp.setData(t, wave.v_p)
        self.vn.setData(t, wave.v_n)
        d = (wave.v_n - wave.v_p) * 1e3
        self.diff.setData(t, d)
        self.diff.setPen(pg.mkPen(theme.DIFF_POS if f.v_n[j] >= f.v_p[j] else theme.DIFF_NEG, width=2))
        total = float(t[-1])
        full = cfg.max_input * cfg.dac_lsb
        common.set_range(self.rows_plot, x=(0, total),
                         y=(cfg.v_precharge - full * 1.04, cfg.v_precharge + full * 0.16))  # room for labels
        # the axes fit this invocation (a millivolt difference must fill its plot), in round steps
        pair = np.concatenate([wave.v_p, wave.v_n])
        pad = 0.08 * max(float(np.ptp(pair)), 2e-4)
        common.set_range(self.pair_plot, y=common.nice_range(pair.min() - pad, pair.max() + pad, 6))
        dpad = 0.1 * max(float(np.abs(d).max()), 0.2)
        d_lo, d_hi = min(d.min(), 0) - dpad, max(d.max(), 0) + dpad
        common.set_range(self.diff_plot, y=common.nice_range(d_lo, d_hi, 6))
        for line in self.decision:
            line.setValue(wave.t_decision_ns)
        self._shade(wave)
        step = phase_ns("ramp_step")
        ramp = {"P": "V_P ramps up", "N": "V_N ramps up", "": "no ramp"}[wave.ramped]
        color = theme.CODE_OK if code == ideal else theme.CODE_BAD
        self.readout.setText(
            f"code <b style='color:{color}'>{code}</b> (ideal {ideal}) · {abs(code)} steps × {step:g} ns · "
            f"comparator trips at <b>{wave.t_decision_ns:.1f} ns</b>")
        spec = s.model.layers[f.place.layer]
        self.panel.title.setText(
            f"Inside one invocation: column {self.column}, "
            f"<span style='color:{theme.layer_color(f.place.layer)}'>{spec.name}</span> "
            f"invocation {f.place.layer_step + 1}, image {f.image}"
            + ("" if f.place.invocation else f" · now {f.layer_name}: the array rests, this is its last"))
        self.panel.set_subtitle(
            f"<span style='color:{theme.DAC}'>—</span> the {n} active row lines discharge to their DAC "
            f"voltages · <span style='color:{theme.LINE_P}'>—</span> V<sub>P</sub> "
            f"<span style='color:{theme.LINE_N}'>—</span> V<sub>N</sub> share charge, then the lower line "
            f"is ramped one ADC step ({f.adc_lsb * 1e3:.2f} mV) per {step:g} ns clock ({ramp}) until it "
            f"crosses the other · <b style='color:{theme.IDEAL}'>- -</b> comparator decision · phase "
            "timing [assumed], 150 ns in all [paper]")

    def _shade(self, wave: Waveform) -> None:
        if len(self.regions[0]) != len(wave.phases):
            for plot, regions in zip(self.plots, self.regions, strict=True):
                for r in regions:
                    plot.getPlotItem().removeItem(r)
                regions.clear()
                for k, (name, _, _) in enumerate(wave.phases):
                    alpha = 34 if k % 2 == 0 else 22
                    r = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(theme.rgba(PHASE_COLORS.get(
                        name, theme.TEXT_DIM), alpha)), pen=pg.mkPen(None))
                    r.setZValue(-10)
                    plot.getPlotItem().addItem(r)
                    regions.append(r)
            for label in self.labels:
                self.rows_plot.getPlotItem().removeItem(label)
            self.labels = []
            for name, _, _ in wave.phases:
                label = pg.TextItem(PHASE_NAMES.get(name, name), color=PHASE_COLORS.get(name, theme.TEXT),
                                    anchor=(0.5, 0.0))
                set_font(label, theme.TICK_PX, bold=True)
                self.rows_plot.getPlotItem().addItem(label)
                self.labels.append(label)
        top = self.rows_plot.getPlotItem().vb.viewRange()[1][1]
        for k, (name, t0, t1) in enumerate(wave.phases):
            for regions in self.regions:
                regions[k].setRegion((t0, t1))
            text = PHASE_NAMES.get(name, name)
            if t1 - t0 < 8:  # the short phases: a short label
                text = name
            self.labels[k].setText(text)
            self.labels[k].setPos(0.5 * (t0 + t1), top)
