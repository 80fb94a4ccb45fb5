"""PNG figures of the scaling what-if, the baselines and the report, drawn with pyqtgraph offscreen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convsram.qt_figure import application, png_bytes

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _layout(width: int, height: int) -> Any:
    application()
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    w = pg.GraphicsLayoutWidget()
    w.resize(width, height)
    return w


def _style(plot: Any, left: str, bottom: str, title: str) -> None:
    import pyqtgraph as pg

    for axis in ("left", "bottom"):
        plot.getAxis(axis).label.setFont(pg.QtGui.QFont("DejaVu Sans", 11))
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setTitle(f"<span style='font-size:12pt'>{title}</span>")


def _band(plot: Any, x: np.ndarray, lo: np.ndarray, mid: np.ndarray, hi: np.ndarray, colour: str,
          name: str) -> None:
    import pyqtgraph as pg

    edge = pg.mkPen(pg.mkColor(colour).lighter(150), width=1)
    c_lo, c_hi = plot.plot(x, lo, pen=edge), plot.plot(x, hi, pen=edge)
    fill = pg.mkColor(colour)
    fill.setAlpha(60)
    plot.addItem(pg.FillBetweenItem(c_lo, c_hi, brush=pg.mkBrush(fill)))
    plot.plot(x, mid, pen=pg.mkPen(colour, width=3), symbol="o", symbolBrush=colour, name=name)


def scaling_png(rows: Sequence[dict[str, Any]]) -> bytes:
    """Energy per inference (band), TOPS/W at the paper's point (band) and accuracy (mean, 5th
    percentile) against the node, one curve per (input bits, ADC bits, rows) combination."""
    return png_bytes(lambda: _scaling_widget(rows))


def _scaling_widget(rows: Sequence[dict[str, Any]]) -> Any:
    import pyqtgraph as pg

    w = _layout(1500, 560)
    nodes = sorted({int(r["node_nm"]) for r in rows}, reverse=True)
    pos = {n: i for i, n in enumerate(nodes)}
    ticks = [[(i, f"{n} nm") for n, i in pos.items()]]
    combos = sorted({(r["input_bits"], r["adc_bits"], r["rows"]) for r in rows})
    p_e = w.addPlot(row=0, col=0)
    p_t = w.addPlot(row=0, col=1)
    p_a = w.addPlot(row=0, col=2)
    _style(p_e, "energy per inference [nJ] (log)", "technology node",
           "Energy per inference (band: 3 ADC models)")
    _style(p_t, "TOPS/W (log)", "technology node", "TOPS/W at the paper's point")
    _style(p_a, "MNIST accuracy [%]", "technology node", "Accuracy over Monte Carlo chips")
    for p in (p_e, p_t):
        p.setLogMode(y=True)
    for p in (p_e, p_t, p_a):
        p.getAxis("bottom").setTicks(ticks)
        p.addLegend(offset=(-10, 10) if p is not p_a else (10, -10), labelTextSize="9pt")
    for ci, combo in enumerate(combos):
        sub = sorted((r for r in rows if (r["input_bits"], r["adc_bits"], r["rows"]) == combo),
                     key=lambda r: pos[int(r["node_nm"])])
        x = np.array([pos[int(r["node_nm"])] for r in sub], dtype=float)
        colour = COLOURS[ci % len(COLOURS)]
        label = f"{combo[0]}-b in, {combo[1]}-b ADC, {combo[2]} rows"

        def col(key: str, s: list[dict[str, Any]] = sub) -> np.ndarray:
            return np.array([float(r[key]) for r in s])
        _band(p_e, x, col("energy_per_image_nj_low"), col("energy_per_image_nj_nominal"),
              col("energy_per_image_nj_high"), colour, label)
        _band(p_t, x, col("tops_per_w_low"), col("tops_per_w_nominal"), col("tops_per_w_high"), colour, label)
        p_a.plot(x, 100 * col("accuracy_mean"), pen=pg.mkPen(colour, width=3), symbol="o", symbolBrush=colour,
                 name=f"{label}: mean")
        dashed = pg.mkPen(colour, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        p_a.plot(x, 100 * col("accuracy_p5"), pen=dashed, symbol="t", symbolBrush=colour,
                 name="5th percentile")
        mean = 100 * col("accuracy_mean")
        lo, hi = 100 * col("accuracy_ci95_low"), 100 * col("accuracy_ci95_high")
        err = pg.ErrorBarItem(x=x + 0.05, y=mean, top=hi - mean, bottom=mean - lo, beam=0.08,
                              pen=pg.mkPen(colour, width=1))
        p_a.addItem(err)
    return w


def baselines_png(chip_nj: float, rows: Sequence[dict[str, Any]], chip: str = "this chip") -> bytes:
    """Energy per inference of the chip and each baseline (bars, log scale, whiskers = range)."""
    return png_bytes(lambda: _baselines_widget(chip_nj, rows, chip))


def _baselines_widget(chip_nj: float, rows: Sequence[dict[str, Any]], chip: str = "this chip") -> Any:
    import pyqtgraph as pg

    w = _layout(1400, 520)
    p = w.addPlot(row=0, col=0)
    _style(p, "energy per inference [nJ] (log)", "",
           "Energy per MNIST inference: the chip and digital baselines")
    names = [chip, *[r["name"] for r in rows]]
    vals = np.array([chip_nj, *[r["energy_per_image_pj"] / 1e3 for r in rows]])
    lo = np.array([chip_nj, *[r["energy_range_pj"][0] / 1e3 for r in rows]])
    hi = np.array([chip_nj, *[r["energy_range_pj"][1] / 1e3 for r in rows]])
    y = np.arange(len(names), dtype=float)
    p.setLogMode(x=True)
    bars = pg.BarGraphItem(x0=np.zeros_like(vals), x1=np.log10(vals), y=y, height=0.6,
                           brushes=[COLOURS[1], *[COLOURS[0]] * len(rows)])
    p.addItem(bars)
    p.addItem(pg.ErrorBarItem(x=np.log10(vals), y=y, left=np.log10(vals) - np.log10(lo),
                              right=np.log10(hi) - np.log10(vals), beam=0.2, pen=pg.mkPen("k", width=1.5)))
    for yi, v, name in zip(y, vals, names, strict=True):
        t = pg.TextItem(f"{v:,.0f} nJ  {name}", color="k", anchor=(0, 0.5))
        t.setPos(float(np.log10(hi[int(yi)])) + 0.05, yi)
        p.addItem(t)
    p.getAxis("left").setTicks([[]])
    p.setLabel("left", "")
    p.setLabel("bottom", "energy per inference [nJ] (log scale; whiskers: range of the sources)")
    p.invertY(True)
    p.getAxis("bottom").enableAutoSIPrefix(False)
    p.setXRange(0, float(np.log10(hi.max())) + 3.4)
    return w


def per_layer_png(by_layer: dict[str, dict[str, float]]) -> bytes:
    """Energy per layer by component (stacked bars)."""
    return png_bytes(lambda: _per_layer_widget(by_layer))


def _per_layer_widget(by_layer: dict[str, dict[str, float]]) -> Any:
    import pyqtgraph as pg

    w = _layout(900, 420)
    p = w.addPlot(row=0, col=0)
    _style(p, "energy per image [nJ]", "layer", "Energy per layer")
    names = list(by_layer)
    bottom = np.zeros(len(names))
    p.addLegend(offset=(-10, 10))
    for ci, comp in enumerate(("dac", "array", "adc", "digital")):
        h = np.array([by_layer[n][comp] / 1e3 for n in names])
        p.addItem(pg.BarGraphItem(x=np.arange(len(names)), y0=bottom, height=h, width=0.6,
                                  brush=COLOURS[ci], name=comp))
        bottom = bottom + h
    p.getAxis("bottom").setTicks([[(float(i), n) for i, n in enumerate(names)]])
    return w
