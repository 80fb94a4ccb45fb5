"""PNG plots for the headless commands, drawn with pyqtgraph on the offscreen Qt platform."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.sweep_stats import ChipResult, summarise_chips
from convsram.qt_figure import save_png


def _number(text: str) -> float:
    """A knob value as the CSV writes it, as a number for the axis (switches: False 0, True 1)."""
    return {"True": 1.0, "False": 0.0}[text] if text in ("True", "False") else float(text)


def seed_ticks(seeds: np.ndarray, most: int = 12) -> list[tuple[float, str]]:
    """Axis ticks for chip seeds: whole numbers only (a chip has no seed 2.5), at most about `most`."""
    first, last = int(seeds.min()), int(seeds.max())
    step = max(1, math.ceil((last - first + 1) / most))
    return [(float(s), str(s)) for s in range(first, last + 1, step)]


def sweep_plot(chips: Sequence[ChipResult], knobs: Sequence[str], path: Path, title: str = "") -> Path:
    """Accuracy mean and 5th-95th percentile band over chips vs the first knob (one curve per value
    of the other knobs); without knobs, each chip's accuracy at its seed (whole numbers on the axis)
    with the mean and the 5th percentile marked."""
    return save_png(lambda: _sweep_widget(chips, knobs, title), path)


def _sweep_widget(chips: Sequence[ChipResult], knobs: Sequence[str], title: str) -> Any:
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
        values = np.array([_number(c.knobs[0]) for c in chips], dtype=float)
        log_x = bool(values.min() > 0 and values.max() / values.min() >= 100)  # decades: a log axis
        combos = list(dict.fromkeys(c.knobs[1:] for c in chips))
        for ci, combo in enumerate(combos):
            rows = sorted(summarise_chips([c for c in chips if c.knobs[1:] == combo]),
                          key=lambda s: _number(s.knobs[0]))
            x = np.array([_number(r.knobs[0]) for r in rows], dtype=float)
            x = np.log10(x) if log_x else x
            mean = np.array([r.mean for r in rows]) * 100
            lo, hi = (np.array([getattr(r, k) for r in rows]) * 100 for k in ("p5", "p95"))
            colour = colours[ci % len(colours)]
            edge = pg.mkPen(pg.mkColor(colour).lighter(150), width=1)
            c_lo, c_hi = plot.plot(x, lo, pen=edge), plot.plot(x, hi, pen=edge)
            fill = pg.mkColor(colour)
            fill.setAlpha(60)
            band = pg.FillBetweenItem(c_lo, c_hi, brush=pg.mkBrush(fill))
            plot.addItem(band)
            name = ", ".join(f"{o}={v}" for o, v in zip(knobs[1:], combo, strict=True)) or "mean"
            plot.plot(x, mean, pen=pg.mkPen(colour, width=3), symbol="o", symbolBrush=colour,
                      name=f"{name} (band: 5th-95th percentile over chips)")
        from convsram.core.config import field_info
        knob = knobs[0]
        if log_x:
            plot.getAxis("bottom").setTicks([[(float(np.log10(v)), f"{v:g}") for v in np.unique(values)]])
        plot.setLabel("bottom", f"{knob} [{field_info(knob)['unit']}]" + (" (log scale)" if log_x else ""))
    else:
        seeds = np.array([c.seed for c in chips])
        acc = np.array([c.accuracy for c in chips]) * 100
        plot.plot(seeds, acc, pen=None, symbol="o", symbolBrush=colours[0], name="one chip")
        p5, average = float(np.percentile(acc, 5)), float(acc.mean())
        dashed = pg.mkPen(colours[1], width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        plot.addItem(pg.InfiniteLine(p5, angle=0, pen=dashed, label=f"5th percentile {p5:.2f} %",
                                     labelOpts={"position": 0.2, "color": colours[1],
                                                "fill": (255, 255, 255, 200)}))
        plot.addItem(pg.InfiniteLine(average, angle=0, pen=pg.mkPen(colours[2], width=2),
                                     label=f"mean {average:.2f} %",
                                     labelOpts={"position": 0.8, "color": colours[2],
                                                "fill": (255, 255, 255, 200)}))
        plot.getAxis("bottom").setTicks([seed_ticks(seeds), []])
        plot.setXRange(float(seeds.min()) - 0.5, float(seeds.max()) + 0.5, padding=0)
        plot.setLabel("bottom", "chip instance (seed)")
    for axis in ("left", "bottom"):
        plain_ticks(plot.getAxis(axis))
    plot.setTitle(f"<span style='font-size:{font_px}pt'>Monte Carlo over chip instances: {title}</span>")
    return w
