"""The SRAM array (all rows x columns of +/-1 weights) beside the row DACs that drive it.

Colours: each layer's columns carry the layer's hue (bright +1, dark -1), unprogrammed cells are
near-black. During an invocation the rows in use glow amber in proportion to their DAC drop, and the
evaluated columns show which way each cell steers its row voltage: blue to the P line (+1), red to
the N line (-1). White triangles above the array mark the evaluated columns; vertical lines mark the
ADC groups (16 adjacent columns share one integrating ADC).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import (
    Panel,
    Segments,
    add_grid,
    caption_lines,
    make_plot,
    marker,
    set_axis_height,
    set_size,
    style_axis,
)

UNPROGRAMMED = np.array(theme.hex_rgb("#1b202a"), float)
AXIS_TOP_H = 44
AXIS_BOTTOM_H = 48
MARK_Y = -1.6  # where the evaluated-column triangles sit (rows grow downwards)


def _rgb(color: str) -> np.ndarray:
    return np.array(theme.hex_rgb(color), float)


class ArrayView(Panel):
    """Row DAC voltages (left) and the weight array (right), sharing the row axis."""

    hovered = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("SRAM array and row DACs", "", parent, subtitle_lines=0)
        row = QtWidgets.QWidget()
        lay = QtWidgets.QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)

        # --- DAC bars -------------------------------------------------------------------------
        self.dac_plot = make_plot("V_DAC (V), bar = drop", "array row  (one input each)", grid=False)
        dp = self.dac_plot.getPlotItem()
        add_grid(dp, "bottom", 0.2)
        dp.vb.invertY(True)
        dp.showAxis("top")
        style_axis(dp.getAxis("top"), "row DAC voltage")
        dp.getAxis("top").setStyle(showValues=False)
        self.dac_bars = pg.BarGraphItem(x0=[], width=[], y=[], height=0.78,
                                        brush=pg.mkBrush(theme.DAC), pen=pg.mkPen(None))
        dp.addItem(self.dac_bars)
        self.precharge_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.TEXT_DIM, width=1,
                                                                      style=QtCore.Qt.PenStyle.DashLine))
        dp.addItem(self.precharge_line)
        set_size(self.dac_plot, fixed_w=230)

        # --- the array ------------------------------------------------------------------------
        self.array_plot = make_plot("array column  (filter tile, one per column)", None, grid=False)
        ap = self.array_plot.getPlotItem()
        ap.hideAxis("left")
        ap.showAxis("top")
        style_axis(ap.getAxis("top"), "ADC group  (16 adjacent columns share one ADC)")
        ap.vb.invertY(True)
        ap.vb.setDefaultPadding(0.0)
        self.image = pg.ImageItem(axisOrder="row-major")
        ap.addItem(self.image)
        self.groups = Segments("#c9d3e3", width=1, alpha=110)
        ap.addItem(self.groups)
        self.active_edge = Segments(theme.DAC, width=1.5, style=QtCore.Qt.PenStyle.DashLine)
        ap.addItem(self.active_edge)
        self.marks = marker("t", 11, theme.IDEAL)
        ap.addItem(self.marks)
        dp.setYLink(ap)

        for plot in (dp, ap):
            set_axis_height(plot.getAxis("top"), AXIS_TOP_H)
            set_axis_height(plot.getAxis("bottom"), AXIS_BOTTOM_H)
        lay.addWidget(self.dac_plot)
        lay.addWidget(self.array_plot, 1)
        self.add(row)

        self.legend = QtWidgets.QLabel()
        self.legend.setObjectName("subtitle")
        self.legend.setWordWrap(True)
        caption_lines(self.legend, 2)
        self.add(self.legend, 0)

        self._session: Session | None = None
        self._key: tuple | None = None
        self._frame: Frame | None = None
        self._base = np.zeros((1, 1, 3))
        self._owner = np.zeros((0, 3), int)
        self._weights = np.zeros((0, 0), np.int8)
        self._bases: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._layout: tuple | None = None  # what the static picture was drawn for (see set_session)
        self._dac: tuple[np.ndarray, float] | None = None  # the DAC bars' data now
        self.rgb = np.zeros((1, 1, 3), np.uint8)  # what is on screen (tests read it)
        ap.scene().sigMouseMoved.connect(self._on_mouse)
        dp.scene().sigMouseMoved.connect(self._on_dac_mouse)

    # --- static layout of one programmed chip ---------------------------------------------------
    def set_session(self, session: Session) -> None:
        """Colour the programmed weights (once per chip) and set axes, ticks and group lines."""
        self._session = session
        cfg = session.config
        layout = (session.uid, cfg.rows, cfg.columns, cfg.adc_groups, cfg.macros, cfg.v_precharge,
                  cfg.dac_lsb, cfg.max_input)
        if layout == self._layout:  # the same weights, axes and scales (a knob of the analog chip moved)
            self._key = None
            return
        self._layout = layout
        rows, cols, per = cfg.rows, cfg.columns, cfg.columns_per_group
        amap = session.amap
        # one picture per (phase, macro): a network larger than the array rewrites its weights
        self._bases = {}
        held = {(amap.phase_of(li, t), amap.macro_of(li, t)) for li in range(len(amap.layers))
                for t in range(amap.layers[li].n_tiles)}
        for key in sorted(held):
            owner = amap.owner(*key)
            w = amap.contents(session.model, *key)
            base = np.broadcast_to(UNPROGRAMMED, (rows, cols, 3)).copy()
            for li in amap.phase_layers(*key):
                hue = _rgb(theme.layer_color(li))
                in_layer = owner[:, 0] == li
                base[(w == 1) & in_layer[None, :]] = hue * 0.78
                base[(w == -1) & in_layer[None, :]] = hue * 0.26
            self._bases[key] = (base, owner, w)
        self._base, self._owner, self._weights = self._bases[(0, 0)]
        ap = self.array_plot.getPlotItem()
        self.image.setImage(base.astype(np.ubyte), levels=(0, 255), autoLevels=False)
        self.image.setRect(QtCore.QRectF(0, 0, cols, rows))
        ap.setXRange(0, cols, padding=0)
        ap.setYRange(MARK_Y - 1.0, rows, padding=0)
        gx = np.arange(0, cols + 1, per, dtype=float)
        self.groups.set_segments(gx, np.full(gx.size, MARK_Y - 0.6), gx, np.full(gx.size, rows))
        ap.getAxis("top").setTicks([[(g * per + per / 2, str(g)) for g in range(cfg.adc_groups)], []])
        step = 32 if cols >= 128 else 8
        ap.getAxis("bottom").setTicks([[(c + 0.5, str(c)) for c in range(0, cols, step)], []])
        dp = self.dac_plot.getPlotItem()
        dp.getAxis("left").setTicks([[(r + 0.5, str(r)) for r in range(0, rows, 8)], []])
        self.precharge_line.setValue(cfg.v_precharge)
        span = cfg.max_input * cfg.dac_lsb * 1.04  # full scale: bars compare across layers
        dp.setXRange(cfg.v_precharge - span, cfg.v_precharge, padding=0)
        names = "  ".join(f"<span style='color:{theme.layer_color(i)}'>■</span> {s.name}"
                          for i, s in enumerate(session.model.layers))
        self.legend.setText(
            f"{names} &nbsp;·&nbsp; bright = weight +1, dark = −1 &nbsp;·&nbsp; "
            f"<span style='color:{theme.DAC}'>■</span> rows in use, glow = DAC drop &nbsp;·&nbsp; "
            f"evaluated columns: <span style='color:{theme.LINE_P}'>■</span> +1 steers to line P, "
            f"<span style='color:{theme.LINE_N}'>■</span> −1 to line N")
        self._key = None

    # --- per frame ---------------------------------------------------------------------------------
    def show_frame(self, frame: Frame, context: Context | None = None) -> None:
        s = self._session
        if s is None:
            return
        key = (frame.image, frame.index, s.generation)
        if key == self._key:
            return
        self._key, self._frame = key, frame
        cfg = s.config
        n = len(frame.v_dac)
        full = cfg.max_input * cfg.dac_lsb
        drop = np.clip((cfg.v_precharge - frame.v_dac) / full, 0.0, 1.0)
        amap = s.amap
        where = (amap.phase_of(frame.place.layer, frame.place.tile),
                 amap.macro_of(frame.place.layer, frame.place.tile))
        self._base, self._owner, self._weights = self._bases[where]
        # everything not in this invocation recedes; this layer's columns a little less
        in_layer = self._owner[:, 0] == frame.place.layer
        img = self._base * np.where(in_layer, 0.62, 0.36)[None, :, None]
        a = (0.06 + 0.34 * drop)[:, None, None]
        img[:n] = img[:n] * (1 - a) + _rgb(theme.DAC) * a
        cols = frame.place.columns
        w = self._weights[:n, cols]
        bright = (0.78 + 0.22 * drop)[:, None, None]
        steer = np.where((w == 1)[..., None], _rgb(theme.LINE_P), _rgb(theme.LINE_N))
        img[:n, cols] = steer * bright
        rgb = img.astype(np.ubyte)
        if not np.array_equal(rgb, self.rgb):  # a knob that leaves the picture alone costs no repaint
            self.rgb = rgb
            self.image.setImage(self.rgb, levels=(0, 255), autoLevels=False)
            self.marks.setData(x=cols + 0.5, y=np.full(cols.size, MARK_Y))
            self.active_edge.set_segments(np.array([0.0]), np.array([float(n)]),
                                          np.array([float(cfg.columns)]), np.array([float(n)]))
        dac = (frame.v_dac, cfg.v_precharge)
        if self._dac is None or self._dac[1] != dac[1] or not np.array_equal(self._dac[0], dac[0]):
            self._dac = dac
            self.dac_bars.setOpts(x0=frame.v_dac, width=cfg.v_precharge - frame.v_dac,
                                  y=np.arange(n) + 0.5, height=0.78)

        spec = s.model.layers[frame.place.layer]
        r0, r1 = frame.place.rows
        held = (f"macro {where[1]} · " if amap.macros_used > 1 else "") + (
            f"phase {where[0] + 1}/{amap.phases} · " if amap.phases > 1 else "")
        tail = f"{cols.size} columns" if held else f"{cols.size} columns evaluated"  # room for the phase
        if not frame.place.invocation:  # a digital step: nothing is driven now
            self.set_note(f"array at rest: its last invocation ({spec.name}, rows 0–{n - 1})", theme.AXIS)
            return
        self.set_note(f"{held}{spec.name}: rows 0–{n - 1} carry filter rows {r0}–{r1 - 1}, {tail}",
                      theme.layer_color(frame.place.layer))

    # --- hover ---------------------------------------------------------------------------------------
    def cell_info(self, row: int, col: int) -> str:
        """What the hover tooltip says about the cell at (row, col)."""
        s = self._session
        if s is None:
            return ""
        cfg = s.config
        w = int(self._weights[row, col])
        group, slot = divmod(col, cfg.columns_per_group)
        lines = [f"row {row}, column {col}  (ADC group {group}, slot {slot})"]
        layer, tile, filt = (int(v) for v in self._owner[col])
        if layer < 0:
            lines.append("unused column (no weights programmed)")
        else:
            spec = s.model.layers[layer]
            r0, r1 = spec.tiles[tile]
            lines.append(f"weight {w:+d}" if w else "weight: not programmed (row beyond the tile)")
            lines.append(f"layer {spec.name}, filter {filt}, tile {tile + 1}/{spec.n_tiles} "
                         f"(filter rows {r0}–{r1 - 1})")
        f = self._frame
        if f is not None and row < len(f.v_dac):
            lines.append(f"now: input code {int(f.x[row])} → V_DAC {f.v_dac[row]:.4f} V")
            hit = np.nonzero(f.place.columns == col)[0]
            if hit.size:
                j = int(hit[0])
                lines.append(f"evaluated: V_P {f.v_p[j]:.5f} V, V_N {f.v_n[j]:.5f} V, code {int(f.codes[j])} "
                             f"(ideal {int(f.ideal_codes[j])})")
        return "\n".join(lines)

    def dac_info(self, row: int) -> str:
        f, s = self._frame, self._session
        if f is None or s is None or not 0 <= row < len(f.v_dac):
            return f"row {row}: not driven in this invocation (V = precharge)" if s else ""
        drop = s.config.v_precharge - f.v_dac[row]
        return (f"row {row}: input code {int(f.x[row])} → V_DAC {f.v_dac[row]:.4f} V "
                f"(drop {drop * 1e3:.1f} mV; ideal {int(f.x[row]) * s.config.dac_lsb * 1e3:.1f} mV)")

    @QtCore.Slot(object)
    def _on_mouse(self, pos: QtCore.QPointF) -> None:
        if self._session is None:
            return
        p = self.array_plot.getPlotItem().vb.mapSceneToView(pos)
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        cfg = self._session.config
        if 0 <= row < cfg.rows and 0 <= col < cfg.columns:
            self._show_tip(self.cell_info(row, col), self.array_plot)

    @QtCore.Slot(object)
    def _on_dac_mouse(self, pos: QtCore.QPointF) -> None:
        if self._session is None:
            return
        p = self.dac_plot.getPlotItem().vb.mapSceneToView(pos)
        row = int(np.floor(p.y()))
        if 0 <= row < self._session.config.rows:
            self._show_tip(self.dac_info(row), self.dac_plot)

    def _show_tip(self, text: str, widget: QtWidgets.QWidget) -> None:
        widget.setToolTip(text)
        QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), text, widget)
        self.hovered.emit(text.replace("\n", " · "))
