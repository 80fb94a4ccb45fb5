"""Scaling what-if in the chip lab: this chip's knobs moved to 65/45/28/22/7 nm (core.scaling), with
the input bits, ADC bits and rows averaged of the tab's fields; a worker thread runs the Monte Carlo
chips, the window stays live. Left: energy per inference (band over the three ADC models); right:
accuracy over chips (mean with 95 % interval, 5th percentile). Every coefficient's source is in the
hover text of the plots (core.energy.BAND_TABLE)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt.utils import FunctionWorker

from convsram.core import scaling
from convsram.core.energy import BAND_TABLE
from convsram.core.network import Model
from convsram.gui import theme
from convsram.gui.lab.background import BackgroundView, Cancelled, spin_box
from convsram.gui.views.plotting import Panel, make_plot, spacing


def _sources_tip(prefixes: tuple[str, ...]) -> str:
    return "\n".join(f"• {k}: {s.nominal:g} {s.unit} (range {s.low:g}-{s.high:g}) — {s.source}"
                     for k, s in BAND_TABLE.items() if k.split("_")[0] in prefixes)


class ScalingView(BackgroundView):
    """The lab's Scaling what-if tab."""

    failed_what = "The what-if"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Run scaling", "Move this chip to each node and evaluate the chips in the "
                         "background", parent)
        self.input_bits = spin_box(1, 12, 7, "Input (DAC) bits at every node; the DAC step keeps the same "
                                   "full-scale fraction of the precharge")
        self.adc_bits = spin_box(1, 12, 7, "ADC bits at every node")
        self.rows = spin_box(1, 64, 50, "Rows averaged at the paper's operating point (energy per "
                             "invocation, TOPS/W); the network keeps its own tiles for accuracy")
        self.chips = spin_box(1, 200, 3, "Monte Carlo chips per node (this chip's seed and the next ones)")
        self.images = spin_box(20, 10000, 300, "MNIST test images per chip", step=100)
        self.control_row(QtWidgets.QLabel("input bits"), self.input_bits, QtWidgets.QLabel("ADC bits"),
                         self.adc_bits, QtWidgets.QLabel("rows"), self.rows, QtWidgets.QLabel("chips"),
                         self.chips, QtWidgets.QLabel("images"), self.images)

        self.panel = Panel("This design at other technology nodes", "", subtitle_lines=2)
        self.energy_plot = make_plot("technology node", "energy per inference (nJ)")
        energy_keys = ("vdd", "digital", "zigzag", "murmann", "walden", "line")
        self.energy_plot.setToolTip("Band: lowest to highest of three ADC energy models and the digital "
                                    "factor's range; line: nominal.\n" + _sources_tip(energy_keys))
        self.acc_plot = make_plot("technology node", "accuracy (%)")
        self.acc_plot.setToolTip("Mean over chips; bars: 95 % Wilson interval of the accuracy with every "
                                 "chip's images pooled (image sampling only: the spread between chips shows "
                                 "in the 5th percentile). The chip "
                                 "at each node has the node's supply, DAC step, line capacitance (kT/C) and "
                                 "Pelgrom-scaled mismatch.\n" + _sources_tip(("avt", "cap", "line")))
        row = QtWidgets.QHBoxLayout()
        spacing(row, 6)
        row.addWidget(self.energy_plot, 1)
        row.addWidget(self.acc_plot, 1)
        self.panel.body.addLayout(row, 1)
        self.add_summary(self.panel, "Run to see energy, TOPS/W and accuracy of this chip at 65, 45, 28, 22 "
                         "and 7 nm.")
        self.panel.set_subtitle(
            f"<span style='color:{theme.HIST}'>━</span> nominal, shaded: band over the ADC models · "
            f"<span style='color:{theme.IDEAL}'>●</span> mean accuracy (bars: 95 %, images pooled), "
            "▼ 5th percentile")
        self.lay.addWidget(self.panel, 1)
        self.source: Any = None  # callable -> (config, seed, model path or Model, mnist dir)
        self.points: list[scaling.Point] = []

    def start(self, chips: int | None = None, images: int | None = None) -> None:
        """Run the what-if (arguments default to the tab's fields)."""
        if self.running or self.source is None:
            return
        if chips:
            self.chips.setValue(chips)
        if images:
            self.images.setValue(images)
        try:
            config, seed, model, mnist = self.source()
            grid = scaling.Grid(scaling.NODES, (self.input_bits.value(),), (self.adc_bits.value(),),
                                (min(self.rows.value(), config.rows),))
            grid.check(config)
        except ValueError as exc:  # one line, the window keeps running
            self.state = "failed"
            self.summary.setText(f"Cannot run: {exc}")
            return
        n_chips, n_images = self.chips.value(), self.images.value()
        cancel, done = self.new_run()
        worker = FunctionWorker(self._work, config, seed, model, mnist, grid, n_chips, n_images, cancel, done)
        worker.returned.connect(self._on_result)
        self.launch(worker, len(grid.points()) * n_chips)
        self.summary.setText(f"Evaluating {n_chips} chips x {n_images} images at each of "
                             f"{len(grid.points())} nodes…")

    def _work(self, config: Any, seed: int, model: Any, mnist: Any, grid: scaling.Grid, chips: int,
              images: int, cancel: threading.Event, done_event: threading.Event) -> list[scaling.Point]:
        """In the worker thread: core.scaling.run, cancelled between chips."""
        from convsram.core.mnist import load
        from convsram.core.network import load_model

        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            self.progressed.emit(done[0])
            if cancel.is_set():
                raise Cancelled

        try:
            net = model if isinstance(model, Model) else load_model(Path(model))
            data = load("test", mnist, limit=images)
            return scaling.run(config, net, data.images, data.labels, grid, chips, seed, progress)
        except Cancelled:
            return []
        finally:
            done_event.set()

    @QtCore.Slot(object)
    def _on_result(self, points: list[scaling.Point]) -> None:
        if points:
            self.points = points
            self._redraw()

    def ended(self) -> None:
        if self.state == "cancelled":
            self.summary.setText("Cancelled.")

    def _redraw(self) -> None:
        pts = self.points
        x = np.arange(len(pts), dtype=float)
        ticks = [[(float(i), f"{p.node_nm} nm") for i, p in enumerate(pts)]]
        for plot in (self.energy_plot, self.acc_plot):
            plot.getPlotItem().clear()
            plot.getAxis("bottom").setTicks(ticks)
        ep = self.energy_plot.getPlotItem()
        lo, mid, hi = (np.array([p.energy_per_image_nj[i] for p in pts]) for i in range(3))
        edge = pg.mkPen(theme.rgba(theme.HIST, 120), width=1)
        c_lo, c_hi = ep.plot(x, lo, pen=edge), ep.plot(x, hi, pen=edge)
        ep.addItem(pg.FillBetweenItem(c_lo, c_hi, brush=pg.mkBrush(theme.rgba(theme.HIST, 60))))
        ep.plot(x, mid, pen=pg.mkPen(theme.HIST, width=3), symbol="o", symbolBrush=theme.HIST)
        ap = self.acc_plot.getPlotItem()
        mean = np.array([p.accuracy_mean for p in pts]) * 100
        p5 = np.array([p.accuracy_p5 for p in pts]) * 100
        ci_lo = np.array([p.accuracy_ci95[0] for p in pts]) * 100
        ci_hi = np.array([p.accuracy_ci95[1] for p in pts]) * 100
        ap.addItem(pg.ErrorBarItem(x=x, y=mean, top=ci_hi - mean, bottom=mean - ci_lo, beam=0.15,
                                   pen=pg.mkPen(theme.IDEAL, width=1.5)))
        ap.plot(x, mean, pen=pg.mkPen(theme.IDEAL, width=3), symbol="o", symbolBrush=theme.IDEAL)
        ap.plot(x, p5, pen=pg.mkPen(theme.IDEAL, width=1.5, style=QtCore.Qt.PenStyle.DashLine), symbol="t",
                symbolBrush=theme.IDEAL)
        lines = []
        for p in pts:
            e, t = p.energy_per_image_nj, p.tops_per_w
            lines.append(f"<b>{p.node_nm} nm</b> {p.vdd_v:.2f} V: {e[1]:.1f} nJ ({e[0]:.1f}–{e[2]:.1f}), "
                         f"{t[1]:.0f} TOPS/W, {100 * p.accuracy_mean:.2f} % ({100 * p.accuracy_ci95[0]:.2f}–"
                         f"{100 * p.accuracy_ci95[1]:.2f}), {p.fairest_saving:.2f}×")
        self.summary.setText(" · ".join(lines) + "<br>× : less energy than a weight-stationary binary-weight "
                             "datapath at the same node (same input fetch and periphery on both sides)")
