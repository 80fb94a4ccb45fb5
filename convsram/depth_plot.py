"""The depth experiment's PNG: per model (side by side), SQNR of the pre-ADC values and the fraction of
activations that differ from the exact path, against the layer's depth; own error dashed, accumulated
solid. Drawn with pyqtgraph on the offscreen Qt platform."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convsram.core.depth import DepthReport
from convsram.gui.views.plotting import range_with_room
from convsram.qt_figure import save_png


def depth_plot(reports: Sequence[DepthReport], path: Path) -> Path:
    return save_png(lambda: _depth_widget(reports), path)


def _depth_widget(reports: Sequence[DepthReport]) -> Any:
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    w = pg.GraphicsLayoutWidget()
    w.resize(560 * len(reports) + 80, 760)
    colours = {"own": "#1f77b4", "accumulated": "#d62728"}
    for col, rep in enumerate(reports):
        names = [d.layer for d in rep.layers if d.run == "own"]
        ticks = [[(i + 1, n) for i, n in enumerate(names)]]
        panels = (("sqnr_db", "SQNR of pre-ADC values [dB]"),
                  ("fraction_differ", "outputs unlike the exact path [%] (fc: class)"))
        for row, (key, label) in enumerate(panels):
            plot = w.addPlot(row=row, col=col)
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.addLegend(offset=(-10, 10))
            for run in ("own", "accumulated"):
                rows = [d for d in rep.layers if d.run == run]
                xs = [d.index + 1 for d in rows]
                ys = [getattr(d, key) * (100 if key == "fraction_differ" else 1) for d in rows]
                style = pg.QtCore.Qt.PenStyle.DashLine if run == "own" else pg.QtCore.Qt.PenStyle.SolidLine
                plot.plot(xs, ys, pen=pg.mkPen(colours[run], width=3, style=style), symbol="o",
                          symbolBrush=colours[run], name=f"{run} error")
            plot.getAxis("bottom").setTicks(ticks)
            # a free band above the points for the legend (top right) keeps it off them
            values = [getattr(d, key) * (100 if key == "fraction_differ" else 1) for d in rep.layers]
            plot.setYRange(*range_with_room(values, top=0.3), padding=0)
            plot.setXRange(0.6, len(names) + 0.4, padding=0)
            plot.setLabel("left", label)
            plot.setLabel("bottom", "weight layer (depth)")
            if row == 0:
                chips = f"{rep.chips} chip{'s' if rep.chips > 1 else ''}"
                plot.setTitle(f"{rep.model}: {chips} x {rep.images} images")
    return w
