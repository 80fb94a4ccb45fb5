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
from convsram.gui.views.plotting import Panel, make_plot, set_size, spacing

STOP_WAIT_S = 8.0


class _Cancelled(Exception):
    pass


def _sources_tip(prefixes: tuple[str, ...]) -> str:
    return "\n".join(f"• {k}: {s.nominal:g} {s.unit} (range {s.low:g}-{s.high:g}) — {s.source}"
                     for k, s in BAND_TABLE.items() if k.split("_")[0] in prefixes)


class ScalingView(QtWidgets.QWidget):
    finished = QtCore.Signal()
    _progress = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 6, (6, 6, 6, 6))
        controls = QtWidgets.QHBoxLayout()
        spacing(controls, 8)

        def spin(lo: int, hi: int, value: int, tip: str, step: int = 1) -> QtWidgets.QSpinBox:
            s = QtWidgets.QSpinBox()
            s.setRange(lo, hi)
            s.setSingleStep(step)
            s.setValue(value)
            s.setToolTip(tip)
            set_size(s, min_w=70)
            return s
        self.input_bits = spin(1, 12, 7, "Input (DAC) bits at every node; the DAC step keeps the same "
                                         "full-scale fraction of the precharge")
        self.adc_bits = spin(1, 12, 7, "ADC bits at every node")
        self.rows = spin(1, 64, 50, "Rows averaged at the paper's operating point (energy per invocation, "
                                    "TOPS/W); the network keeps its own tiles for accuracy")
        self.chips = spin(1, 200, 3, "Monte Carlo chips per node (this chip's seed and the next ones)")
        self.images = spin(20, 10000, 300, "MNIST test images per chip", step=100)
        self.run_button = QtWidgets.QPushButton("Run scaling")
        self.run_button.setToolTip("Move this chip to each node and evaluate the chips in the background")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setFormat("%v / %m chips")
        for w in (QtWidgets.QLabel("input bits"), self.input_bits, QtWidgets.QLabel("ADC bits"),
                  self.adc_bits, QtWidgets.QLabel("rows"), self.rows, QtWidgets.QLabel("chips"), self.chips,
                  QtWidgets.QLabel("images"), self.images, self.run_button, self.cancel_button):
            controls.addWidget(w)
        controls.addWidget(self.progress_bar, 1)
        lay.addLayout(controls)

        self.panel = Panel("This design at other technology nodes", "", subtitle_lines=2)
        self.energy_plot = make_plot("technology node", "energy per inference (nJ)")
        energy_keys = ("vdd", "digital", "zigzag", "murmann", "walden", "line")
        self.energy_plot.setToolTip("Band: lowest to highest of three ADC energy models and the digital "
                                    "factor's range; line: nominal.\n" + _sources_tip(energy_keys))
        self.acc_plot = make_plot("technology node", "accuracy (%)")
        self.acc_plot.setToolTip("Mean over chips with its 95 % interval, and the 5th percentile; the chip "
                                 "at each node has the node's supply, DAC step, line capacitance (kT/C) and "
                                 "Pelgrom-scaled mismatch.\n" + _sources_tip(("avt", "cap", "line")))
        row = QtWidgets.QHBoxLayout()
        spacing(row, 6)
        row.addWidget(self.energy_plot, 1)
        row.addWidget(self.acc_plot, 1)
        self.panel.body.addLayout(row, 1)
        self.summary = QtWidgets.QLabel("Run to see energy, TOPS/W and accuracy of this chip at 65, 45, 28, "
                                        "22 and 7 nm.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.panel.add(self.summary, 0)
        self.panel.set_subtitle(
            f"<span style='color:{theme.HIST}'>━</span> nominal, shaded: band over the ADC models · "
            f"<span style='color:{theme.IDEAL}'>●</span> mean accuracy with 95 % interval, ▼ 5th percentile")
        lay.addWidget(self.panel, 1)

        self.run_button.clicked.connect(lambda: self.start())
        self.cancel_button.clicked.connect(self.cancel)
        self._progress.connect(self._on_progress)
        self.worker: FunctionWorker | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self.source: Any = None  # callable -> (config, seed, model path or Model, mnist dir)
        self.points: list[scaling.Point] = []
        self.state = "idle"  # idle, running, cancelling, done, cancelled, failed
        self.data: Any = None

    @property
    def running(self) -> bool:
        return self.worker is not None

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
        self._cancel = threading.Event()
        self._done = threading.Event()
        self.worker = FunctionWorker(self._work, config, seed, model, mnist, grid, n_chips, n_images)
        self.worker.returned.connect(self._on_result)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.progress_bar.setRange(0, len(grid.points()) * n_chips)
        self.progress_bar.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.state = "running"
        self.summary.setText(f"Evaluating {n_chips} chips x {n_images} images at each of "
                             f"{len(grid.points())} nodes…")
        self.worker.start()

    def _work(self, config: Any, seed: int, model: Any, mnist: Any, grid: scaling.Grid, chips: int,
              images: int) -> list[scaling.Point]:
        """In the worker thread: core.scaling.run, cancelled between chips."""
        from convsram.core.mnist import load
        from convsram.core.network import load_model

        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            self._progress.emit(done[0])
            if self._cancel.is_set():
                raise _Cancelled

        try:
            net = model if isinstance(model, Model) else load_model(Path(model))
            data = load("test", mnist, limit=images)
            return scaling.run(config, net, data.images, data.labels, grid, chips, seed, progress)
        except _Cancelled:
            return []
        finally:
            self._done.set()

    def cancel(self) -> None:
        if self.running and self.state == "running":
            self._cancel.set()
            self.state = "cancelling"
            self.cancel_button.setEnabled(False)
            self.summary.setText("Cancelling: stopping after the chip being evaluated…")

    @QtCore.Slot(int)
    def _on_progress(self, n: int) -> None:
        self.progress_bar.setValue(n)

    @QtCore.Slot(object)
    def _on_result(self, points: list[scaling.Point]) -> None:
        if points:
            self.points = points
            self._redraw()

    @QtCore.Slot(object)
    def _on_error(self, exc: object) -> None:
        self.state = "failed"
        self.summary.setText(f"The what-if failed: {type(exc).__name__}: {exc}")

    @QtCore.Slot()
    def _on_finished(self, *_: object) -> None:
        self.worker = None
        if self.state == "cancelling":
            self.state = "cancelled"
            self.summary.setText("Cancelled.")
        elif self.state == "running":
            self.state = "done"
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.finished.emit()

    def stop(self) -> None:
        """Cancel and wait for the worker (window closing), at most STOP_WAIT_S seconds."""
        self._cancel.set()
        if self.worker is not None:
            self._done.wait(STOP_WAIT_S)

    def show_frame(self, frame: object, context: object) -> None:
        """The session moved: nothing to redraw (the what-if is of the chip it was run for)."""

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
