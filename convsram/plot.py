"""PNG plots for the headless commands, drawn with pyqtgraph on the offscreen Qt platform."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from convsram.core.sweep import Point, summarise


def _app():
    if "QT_QPA_PLATFORM" not in os.environ and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication([])


def sweep_plot(points: Sequence[Point], knobs: Sequence[str], path: Path, title: str = "") -> Path:
    """Accuracy mean and 5th-95th percentile band over chips vs the first knob (one curve per value
    of the other knobs); without knobs, each chip's accuracy with the 5th percentile marked."""
    app = _app()
    import pyqtgraph as pg

    from convsram.gui.views.plotting import plain_ticks

    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    w = pg.PlotWidget()
    w.resize(1100, 650)
    plot = w.getPlotItem()
    plot.showGrid(x=True, y=True, alpha=0.3)
    plot.addLegend(offset=(-10, -10))
    font_px = 16
    for axis in ("left", "bottom"):
        plot.getAxis(axis).label.setFont(pg.QtGui.QFont("DejaVu Sans", 12))
    plot.setLabel("left", "accuracy [%]")
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    if knobs:
        knob, others = knobs[0], list(knobs[1:])
        values = np.array([p.knobs[knob] for p in points], dtype=float)
        log_x = bool(values.min() > 0 and values.max() / values.min() >= 100)  # decades: a log axis
        combos = sorted({tuple(p.knobs[o] for o in others) for p in points})
        for ci, combo in enumerate(combos):
            subset = [p for p in points if tuple(p.knobs[o] for o in others) == combo]
            rows = summarise(subset, knob)
            x = np.array([r["value"] for r in rows], dtype=float)
            x = np.log10(x) if log_x else x
            mean = np.array([r["mean"] for r in rows]) * 100
            lo, hi = (np.array([r[k] for r in rows]) * 100 for k in ("p5", "p95"))
            colour = colours[ci % len(colours)]
            edge = pg.mkPen(pg.mkColor(colour).lighter(150), width=1)
            c_lo, c_hi = plot.plot(x, lo, pen=edge), plot.plot(x, hi, pen=edge)
            fill = pg.mkColor(colour)
            fill.setAlpha(60)
            band = pg.FillBetweenItem(c_lo, c_hi, brush=pg.mkBrush(fill))
            plot.addItem(band)
            name = ", ".join(f"{o}={v}" for o, v in zip(others, combo, strict=True)) or "mean"
            plot.plot(x, mean, pen=pg.mkPen(colour, width=3), symbol="o", symbolBrush=colour,
                      name=f"{name} (band: 5th-95th percentile over chips)")
        from convsram.core.config import field_info
        if log_x:
            plot.getAxis("bottom").setTicks([[(float(np.log10(v)), f"{v:g}") for v in np.unique(values)]])
        plot.setLabel("bottom", f"{knob} [{field_info(knob)['unit']}]" + (" (log scale)" if log_x else ""))
    else:
        acc = np.sort(np.array([p.accuracy for p in points])) * 100
        plot.plot(np.arange(acc.size), acc, pen=None, symbol="o", symbolBrush=colours[0],
                  name="chips, sorted")
        p5 = float(np.percentile(acc, 5))
        dashed = pg.mkPen(colours[1], width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        plot.addItem(pg.InfiniteLine(p5, angle=0, pen=dashed, label=f"5th percentile {p5:.2f} %",
                                     labelOpts={"position": 0.2, "color": colours[1],
                                                "fill": (255, 255, 255, 200)}))
        plot.setLabel("bottom", "chip instance (sorted by accuracy)")
    for axis in ("left", "bottom"):
        plain_ticks(plot.getAxis(axis))
    plot.setTitle(f"<span style='font-size:{font_px}pt'>Monte Carlo over chip instances: {title}</span>")
    w.show()
    app.processEvents()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not w.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    w.close()
    return path
