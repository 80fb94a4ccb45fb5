"""Depth in the chip lab: per weight layer, how far this chip is from the bit-exact path (core.depth),
the layer's own error (exact inputs) and the accumulated one (the chip's own inputs), recomputed in a
worker whenever the chip changes (a knob, a seed). Left: SQNR of the pre-ADC values; right: the
fraction of outputs that differ from the exact path's."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt.utils import FunctionWorker

from convsram.core import depth
from convsram.core.session import Frame
from convsram.gui import theme
from convsram.gui.lab.labview import LabView
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import Panel, make_plot, range_with_room, set_size, spacing

RUN_COLOURS = {"own": theme.IDEAL, "accumulated": theme.CODE_BAD}


class DepthView(LabView):
    """Error against depth for the session's chip and model, live with the knobs."""

    computed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 6, (6, 6, 6, 6))
        controls = QtWidgets.QHBoxLayout()
        self.images = QtWidgets.QSpinBox()
        self.images.setRange(10, 2000)
        self.images.setSingleStep(10)
        self.images.setValue(40)
        self.images.setSuffix(" images")
        self.images.setToolTip("MNIST test images measured on this chip (from image 0); more is steadier "
                               "and slower")
        set_size(self.images, min_w=110)
        self.images.valueChanged.connect(lambda _v: self._recompute())
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("hint")
        controls.addWidget(QtWidgets.QLabel("measure on"))
        controls.addWidget(self.images)
        controls.addWidget(self.status, 1)
        lay.addLayout(controls)
        self.panel = Panel("Error against depth, this chip", "dashed: the layer's own error (exact inputs) "
                           "· solid: accumulated (the chip's own inputs) · from `convsram depth`",
                           subtitle_lines=1)
        row = QtWidgets.QHBoxLayout()
        self.sqnr_plot = make_plot("weight layer (depth)", "SQNR of pre-ADC values (dB)")
        self.differ_plot = make_plot("weight layer (depth)", "outputs unlike the exact path (%)")
        for p in (self.sqnr_plot, self.differ_plot):
            p.addLegend(offset=(-10, 10))
            row.addWidget(p, 1)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        self.panel.add(holder)
        lay.addWidget(self.panel, 1)
        self.worker: FunctionWorker | None = None
        self._key: tuple[Any, ...] | None = None
        self._pending: tuple[Any, ...] | None = None
        self._session: Any = None
        self.result: list[depth.LayerDepth] = []

    @property
    def running(self) -> bool:
        return self.worker is not None or self._pending is not None

    def show_frame(self, frame: Frame | None, context: Context) -> None:
        s = context.session
        self._session = s
        key = (s.uid, s.generation, self.images.value())
        if key != self._key:
            self._key = key
            self._recompute()

    def _recompute(self) -> None:
        s = self._session
        if s is None:
            return
        job = (s.model, s.data.images[:self.images.value()], s.config, s.seed)
        if self.worker is not None:  # one at a time: the latest request runs when this one ends
            self._pending = job
            return
        self.status.setText(f"measuring {len(job[1])} images on chip {s.seed} …")
        self.worker = FunctionWorker(depth.measure, job[0], job[1], job[2], [job[3]], 20)
        self.worker.returned.connect(self._on_result)
        self.worker.errored.connect(lambda exc: self.status.setText(f"failed: {exc}"))
        self.worker.finished.connect(lambda *_: self._on_finished())
        self.worker.start()

    def _on_finished(self) -> None:
        self.worker = None
        if self._pending is not None:
            self._pending = None
            self._recompute()

    def _on_result(self, rows: list[depth.LayerDepth]) -> None:
        self.result = rows
        names = [d.layer for d in rows if d.run == "own"]
        ticks = [[(i + 1, n) for i, n in enumerate(names)]]
        panels = ((self.sqnr_plot, "sqnr_db", 1.0), (self.differ_plot, "fraction_differ", 100.0))
        for plot, key, scale in panels:
            item = plot.getPlotItem()
            item.clear()
            for run in depth.RUNS:
                sel = [d for d in rows if d.run == run]
                style = QtCore.Qt.PenStyle.DashLine if run == "own" else QtCore.Qt.PenStyle.SolidLine
                colour = RUN_COLOURS[run]
                item.plot([d.index + 1 for d in sel], [getattr(d, key) * scale for d in sel],
                          pen=pg.mkPen(colour, width=2.5, style=style), symbol="o", symbolBrush=colour,
                          name=f"{run} error")
            item.getAxis("bottom").setTicks(ticks)
            # the legend sits top right: a free band above the data keeps it off the points
            item.setXRange(0.6, len(names) + 0.4, padding=0)
            item.setYRange(*range_with_room([getattr(d, key) * scale for d in rows], top=0.3), padding=0)
        first = next((d.layer for d in rows if d.run == "accumulated" and d.fraction_differ > 0.01), None)
        self.status.setText("first layer with over 1 % of its outputs unlike the exact path: "
                            f"{first or 'none'}")
        self.computed.emit()
