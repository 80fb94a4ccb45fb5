"""Where the error comes from, for the current layer and image: every conversion ideal against actual
(the pre-ADC difference and the code, as density pictures), the error of every array column the layer
uses with the worst called out (click a bar or a button), and the selected column's detail: its
filter's weights, its V_P / V_N and code over the layer's invocations (click to go there), and its
transfer curve (ideal against actual code, with the chip's noise-free transfer).

The error of a column is split into its static part (the noise-free chip's code minus the ideal code:
this chip's mismatch, the same every time) and the per-operation noise (kT/C and comparator)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from convsram.core import analysis
from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.lab import common, style
from convsram.gui.lab.labview import LabView
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import Panel, Segments, bars, make_plot, marker, set_size, spacing

WORST = 5
SPLIT_MS = 10


class ErrorsView(LabView):
    frameRequested = QtCore.Signal(int)  # a frame of the current image to go to
    columnSelected = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 6, (6, 6, 6, 6))
        self.deviation = QtWidgets.QCheckBox("plot the deviation from ideal (this chip − ideal), not this "
                                             "chip's value")
        self.deviation.setChecked(True)
        self.deviation.setToolTip("Errors are a fraction of the signal: against a y = x line they hide in "
                                  "the "
                                  "line's width; as a deviation they fill the plot")
        self.deviation.toggled.connect(self._redraw)
        lay.addWidget(self.deviation)
        top = QtWidgets.QHBoxLayout()
        spacing(top, 6)

        # --- pre-ADC difference, ideal vs actual -----------------------------------------------
        self.pre_panel = Panel("Pre-ADC difference", "", subtitle_lines=2)
        self.pre_plot = make_plot("ideal V_N − V_P (mV)", "this chip V_N − V_P (mV)")
        self.pre_img = pg.ImageItem(axisOrder="row-major")
        dash = QtCore.Qt.PenStyle.DashLine
        self.pre_diag = pg.PlotCurveItem(pen=pg.mkPen(theme.IDEAL, width=1, style=dash))
        self.pre_now = marker("o", 9, theme.DAC)
        for item in (self.pre_img, self.pre_diag, self.pre_now):
            self.pre_plot.getPlotItem().addItem(item)
        self.pre_img.setLookupTable(common.density_cmap().getLookupTable(0.0, 1.0, 256))
        self.pre_panel.add(self.pre_plot)
        self.pre_panel.set_subtitle(
            "every conversion of the layer in this image · brighter = more conversions (log) · "
            f"<b style='color:{theme.IDEAL}'>- -</b> equal · <span style='color:{theme.DAC}'>●</span> now")
        top.addWidget(self.pre_panel, 1)

        # --- codes, ideal vs actual ---------------------------------------------------------------
        self.code_panel = Panel("ADC codes", "", subtitle_lines=2)
        self.code_plot = make_plot("ideal code (LSB)", "this chip's code (LSB)")
        self.code_img = pg.ImageItem(axisOrder="row-major")
        self.code_now = marker("o", 9, theme.DAC)
        for item in (self.code_img, self.code_now):
            self.code_plot.getPlotItem().addItem(item)
        self.code_panel.add(self.code_plot)
        self.code_panel.set_subtitle(
            f"ideal vs this chip: <span style='color:{theme.CODE_OK}'>■</span> code equals ideal &nbsp;"
            f"<span style='color:{theme.CODE_BAD}'>■</span> differs · brightness = conversions (log) · "
            f"<span style='color:{theme.DAC}'>●</span> now")
        top.addWidget(self.code_panel, 1)

        # --- per column -----------------------------------------------------------------------------
        self.col_panel = Panel("Error per array column", "", subtitle_lines=2)
        self.col_plot = make_plot("array column of the layer", "rms code error (LSB)")
        cp = self.col_plot.getPlotItem()
        self.col_bars = bars(theme.HIST)
        self.col_worst = bars(theme.CODE_BAD)
        self.col_static = Segments(theme.IDEAL, width=2)
        self.col_sel = Segments(style.SELECTED, width=2)
        for item in (self.col_bars, self.col_worst, self.col_static, self.col_sel):
            cp.addItem(item)
        cp.scene().sigMouseClicked.connect(self._on_col_click)
        self.col_plot.setToolTip("Click a bar to open that column's detail below")
        self.col_panel.add(self.col_plot)
        worst_row = QtWidgets.QHBoxLayout()
        spacing(worst_row, 4)
        worst_row.addWidget(common.hint("worst:"))
        self.worst_buttons: list[QtWidgets.QPushButton] = []
        for i in range(WORST):
            b = QtWidgets.QPushButton("")
            # the buttons share the row; their changing text must not resize the panels (a knob drag
            # would re-lay out and repaint the whole row every time)
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
            b.clicked.connect(lambda _=False, i=i: self._pick_worst(i))
            worst_row.addWidget(b, 1)
            self.worst_buttons.append(b)
        self.col_panel.body.addLayout(worst_row)
        self.col_panel.set_subtitle(
            "bar = rms of (code − ideal) over the layer's conversions · <span "
            f"style='color:{theme.CODE_BAD}'>■"
            f"</span> the {WORST} worst · <b style='color:{theme.IDEAL}'>—</b> |static part| (this chip's "
            f"mismatch; the rest is noise) · <span style='color:{style.SELECTED}'>□</span> selected")
        top.addWidget(self.col_panel, 1)
        lay.addLayout(top, 42)

        self.detail = ColumnDetail()
        self.detail.frameRequested.connect(self.frameRequested)
        lay.addWidget(self.detail, 58)

        self._key: tuple | None = None
        self._session: Session | None = None
        self._frame: Frame | None = None
        self._analysis: common.LayerAnalysis | None = None
        self._order = np.zeros(0, int)  # stats index of each bar, left to right (by array column)
        self.selected: int | None = None  # array column in the detail
        self.split = False  # draw the column detail one event-loop turn later (while playing, dragging)
        self._detail_pending = False

    # --- per frame --------------------------------------------------------------------------------
    def show_frame(self, frame: Frame, context: Context) -> None:
        session, data = context.session, self.data
        self._session = session
        layer = frame.place.layer
        key = (session.uid, session.generation, frame.image, layer)
        if key != self._key:
            self._key = key
            self._analysis = data.layer(session, frame.image, layer)
            self._draw_layer(session, frame)
            stats = self._analysis.stats
            if self.selected is None or self.selected not in stats.column:
                self.selected = int(stats.column[stats.worst[0]])
            if self.split:
                # the column detail in a later event-loop turn: two repaints of half the view each
                self._detail_pending = True
                QtCore.QTimer.singleShot(SPLIT_MS, self._finish_detail)
            else:
                self._draw_selection(session)
        self._frame = frame
        self._draw_now(frame)

    @QtCore.Slot()
    def _finish_detail(self) -> None:
        if self._detail_pending and self._session is not None and self._frame is not None:
            self._detail_pending = False
            self._draw_selection(self._session)
            self.detail.show_now(self._frame)

    def _draw_now(self, frame: Frame) -> None:
        a = self._analysis
        assert a is not None
        now = a.signals.frame == frame.index
        x, y = a.signals.ideal_diff[now] * 1e3, a.signals.diff[now] * 1e3
        ci, cc = a.signals.ideal_code[now].astype(float), a.signals.code[now].astype(float)
        if self.deviation.isChecked():
            y, cc = y - x, cc - ci
        self.pre_now.setData(x=x, y=y)
        self.code_now.setData(x=ci, y=cc)
        self.detail.show_now(frame)

    @QtCore.Slot()
    def _redraw(self) -> None:
        if self._analysis is not None and self._session is not None and self._frame is not None:
            self._draw_layer(self._session, self._frame)
            self._draw_selection(self._session)
            self._draw_now(self._frame)

    def select_column(self, column: int) -> None:
        """Open a column's detail (a column of the current layer)."""
        a, s = self._analysis, self._session
        if a is None or s is None or column not in a.stats.column:
            return
        self.selected = int(column)
        self._draw_selection(s)
        self.columnSelected.emit(int(column))

    def _pick_worst(self, i: int) -> None:
        a = self._analysis
        if a is not None and i < a.stats.worst.size:
            self.select_column(int(a.stats.column[a.stats.worst[i]]))

    @QtCore.Slot(object)
    def _on_col_click(self, event: object) -> None:
        a = self._analysis
        if a is None or not self._order.size:
            return
        p = self.col_plot.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        i = int(round(p.x()))
        if 0 <= i < self._order.size:
            self.select_column(int(a.stats.column[self._order[i]]))

    # --- drawing ------------------------------------------------------------------------------------
    def _draw_layer(self, s: Session, frame: Frame) -> None:
        a = self._analysis
        assert a is not None
        sig, stats = a.signals, a.stats
        spec = s.model.layers[sig.layer]
        color = theme.layer_color(sig.layer)
        # pre-ADC density
        dev = self.deviation.isChecked()
        x, y = sig.ideal_diff * 1e3, sig.diff * 1e3
        diff_err = y - x
        lo, hi = np.percentile(np.concatenate([x, y]), [0.2, 99.8])
        pad = 0.05 * (hi - lo or 1.0)
        lo, hi = common.nice_range(lo - pad, hi + pad, 6)
        if dev:
            m = max(float(np.percentile(np.abs(diff_err), 99.8)), 1e-3) * 1.15
            ylo, yhi = common.nice_range(-m, m, 6)
            h = analysis.density(x, diff_err, (lo, hi), (ylo, yhi), bins=(90, 150))
            self.pre_diag.setData([lo, hi], [0.0, 0.0])
            common.set_axis_label(self.pre_plot, "left", "this chip − ideal (mV)")
        else:
            ylo, yhi = lo, hi
            h = analysis.density(x, y, (lo, hi), (lo, hi), bins=150)
            self.pre_diag.setData([lo, hi], [lo, hi])
            common.set_axis_label(self.pre_plot, "left", "this chip V_N − V_P (mV)")
        self.pre_panel.set_subtitle(
            "ideal vs this chip, every conversion of the layer in this image · brighter = more (log) · "
            f"<b style='color:{theme.IDEAL}'>- -</b> {'no error' if dev else 'equal'} · "
            f"<span style='color:{theme.DAC}'>●</span> now")
        self.pre_img.setImage(common.log_index(h), levels=(0, 1), autoLevels=False)
        self.pre_img.setRect(QtCore.QRectF(lo, ylo, hi - lo, yhi - ylo))
        common.set_range(self.pre_plot, x=(lo, hi), y=(ylo, yhi))
        self.pre_panel.set_note(f"<span style='color:{color}'>{spec.name}</span> · {len(sig):,}",
                                theme.TEXT)
        self.pre_panel.setToolTip(
            f"{spec.name}, image {frame.image}: V_N − V_P of every conversion on this chip against the ideal "
            f"chip's for the same inputs. Deviation: mean {diff_err.mean() * 1e3:+.1f} µV, rms "
            f"{np.sqrt(np.mean(diff_err ** 2)) * 1e3:.1f} µV. One ADC code is "
            f"{sig.adc_lsb.mean() * 1e3:.2f} mV.")
        # code density: exact codes green, wrong ones orange
        ci, cc = sig.ideal_code.astype(int), sig.code.astype(int)
        clo, chi = int(ci.min()), int(ci.max())
        if dev:
            err = cc - ci
            m = max(int(np.abs(err).max()), 1)
            ylo, yhi = -m, m
            yv = err
            common.set_axis_label(self.code_plot, "left", "this chip − ideal code (LSB)")
        else:
            clo, chi = int(min(clo, cc.min())), int(max(chi, cc.max()))
            ylo, yhi = clo, chi
            yv = cc
            common.set_axis_label(self.code_plot, "left", "this chip's code (LSB)")
        nx, ny = chi - clo + 1, yhi - ylo + 1
        counts = np.zeros((ny, nx))
        np.add.at(counts, (yv - ylo, ci - clo), 1)
        right = np.zeros((ny, nx), bool)
        if dev:
            right[-ylo] = True
        else:
            right[np.arange(nx) + clo - ylo, np.arange(nx)] = True
        level = common.log_index(counts)
        bg = np.array(theme.hex_rgb(theme.PLOT_BG), float)
        rgb = np.broadcast_to(bg, (ny, nx, 3)).copy()
        lv = (0.3 + 0.7 * level)[..., None]
        for sel, c in ((right, theme.CODE_OK), (~right, theme.CODE_BAD)):
            tint = np.array(theme.hex_rgb(c), float)
            mix = tint * lv + bg * (1 - lv)
            cells = sel & (counts > 0)
            rgb[cells] = mix[cells]
        self.code_img.setImage(rgb.astype(np.ubyte), levels=(0, 255), autoLevels=False)
        self.code_img.setRect(QtCore.QRectF(clo - 0.5, ylo - 0.5, nx, ny))
        common.set_range(self.code_plot, x=(clo - 0.5, chi + 0.5), y=(ylo - 0.5, yhi + 0.5), padding=0.02)
        if dev:
            every = max(1, (yhi - ylo) // 8)
            ticks = [(k, f"{k:+d}" if k else "0") for k in range(ylo, yhi + 1, every)]
            common.set_ticks(self.code_plot, "left", [ticks, []])
        else:
            common.set_ticks(self.code_plot, "left", None)
        wrong = int((sig.code_error != 0).sum())
        self.code_panel.set_note(f"{wrong:,} of {len(sig):,} differ ({100 * wrong / max(len(sig), 1):.1f} %)",
                                 theme.CODE_BAD if wrong else theme.CODE_OK)
        # per-column bars, ordered by array column
        self._order = np.argsort(stats.column)
        xs = np.arange(self._order.size, dtype=float)
        rms = stats.rms_error[self._order]
        is_worst = np.isin(self._order, stats.worst[:WORST])
        self.col_bars.setOpts(x=xs[~is_worst], height=rms[~is_worst], width=0.78)
        self.col_worst.setOpts(x=xs[is_worst], height=rms[is_worst], width=0.78)
        st = np.abs(stats.static_error[self._order])
        self.col_static.set_segments(xs - 0.39, st, xs + 0.39, st)
        top = max(float(rms.max()), float(st.max()), 0.5) * 1.12
        common.set_range(self.col_plot, x=(-0.7, xs.size - 0.3), y=common.nice_range(0, top, 6))
        step = max(1, int(np.ceil(xs.size / 12)))
        cols = stats.column[self._order]
        common.set_ticks(self.col_plot, "bottom", [[(i, str(int(cols[i]))) for i in range(0, xs.size, step)],
                                                   [(i, "") for i in range(xs.size)]])
        self.col_panel.set_note(f"{xs.size} columns of <span style='color:{color}'>{spec.name}</span>",
                                theme.TEXT)
        for i, b in enumerate(self.worst_buttons):
            if i < stats.worst.size:
                j = stats.worst[i]
                b.setText(f"col {int(stats.column[j])} · {stats.rms_error[j]:.2f}")
                owner = common.owner_text(s, int(stats.column[j]), sig.layer)
                b.setToolTip(f"column {int(stats.column[j])}: {owner}; "
                             f"rms error {stats.rms_error[j]:.2f} LSB, static {stats.static_error[j]:+.2f} "
                             "LSB, "
                             f"noise {stats.noise_rms[j]:.2f} LSB rms")
                b.setEnabled(True)
            else:
                b.setText("")
                b.setEnabled(False)

    def _draw_selection(self, s: Session) -> None:
        a = self._analysis
        if a is None or self.selected is None:
            return
        i = a.stats.index_of(self.selected)
        pos = float(np.flatnonzero(self._order == i)[0])
        h = a.stats.rms_error[i]
        top = self.col_plot.getPlotItem().vb.viewRange()[1][1]
        self.col_sel.set_rects(np.array([pos - 0.5]), np.array([0.0]), 1.0, max(h, 0.03 * top))
        self.detail.show_column(s, a, self.selected)


class ColumnDetail(Panel):
    """One array column in the current layer and image."""

    frameRequested = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Column detail", "", parent, subtitle_lines=3)
        row = QtWidgets.QHBoxLayout()
        spacing(row, 6)

        # kernel picture
        kbox = QtWidgets.QVBoxLayout()
        spacing(kbox, 2)
        self.kernel_caption = common.hint("")
        kbox.addWidget(self.kernel_caption)
        self.kernel_plot = make_plot(None, None, grid=False)
        kp = self.kernel_plot.getPlotItem()
        for side in ("bottom", "left"):
            kp.hideAxis(side)
        kp.vb.invertY(True)
        kp.vb.setAspectLocked(True)
        self.kernel_img = pg.ImageItem(axisOrder="row-major")
        kp.addItem(self.kernel_img)
        kbox.addWidget(self.kernel_plot, 1)
        row.addLayout(kbox, 22)

        # series over the layer's invocations
        series = QtWidgets.QVBoxLayout()
        spacing(series, 2)
        self.v_plot = make_plot(None, "line voltage (V)")
        vp = self.v_plot.getPlotItem()
        self.v_p = pg.PlotDataItem(pen=pg.mkPen(theme.LINE_P, width=1), symbol="o", symbolSize=theme.px(4),
                                   symbolBrush=theme.LINE_P, symbolPen=None)
        self.v_n = pg.PlotDataItem(pen=pg.mkPen(theme.LINE_N, width=1), symbol="s", symbolSize=theme.px(4),
                                   symbolBrush=theme.LINE_N, symbolPen=None)
        self.v_now = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.DAC, width=2))
        for item in (self.v_p, self.v_n, self.v_now):
            vp.addItem(item)
        self.c_plot = make_plot("invocation of this layer (click to go there)", "ADC code (LSB)")
        c = self.c_plot.getPlotItem()
        self.c_ideal = pg.PlotCurveItem(pen=pg.mkPen(theme.IDEAL, width=1.5), stepMode=None)
        self.c_ok = marker("o", 6, theme.CODE_OK)
        self.c_bad = marker("o", 7, theme.CODE_BAD)
        self.c_now = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.DAC, width=2))
        for item in (self.c_ideal, self.c_ok, self.c_bad, self.c_now):
            c.addItem(item)
        self.v_plot.setXLink(self.c_plot)
        for plot in (self.v_plot, self.c_plot):
            plot.getPlotItem().scene().sigMouseClicked.connect(
                lambda ev, p=plot: self._on_series_click(p, ev))
            plot.setToolTip("Click to show that invocation in the main window")
        series.addWidget(self.v_plot, 1)
        series.addWidget(self.c_plot, 1)
        row.addLayout(series, 45)

        # transfer curve
        tbox = QtWidgets.QVBoxLayout()
        spacing(tbox, 2)
        self.t_caption = common.hint("")
        tbox.addWidget(self.t_caption)
        self.t_plot = make_plot("ideal ADC input Σw·x / step (codes)", "ADC code (LSB)")
        tp = self.t_plot.getPlotItem()
        self.t_ideal = pg.PlotCurveItem(pen=pg.mkPen(theme.IDEAL, width=1.5))
        self.t_static = pg.PlotCurveItem(pen=pg.mkPen(style.SELECTED, width=2))
        self.t_ok = marker("o", 6, theme.CODE_OK)
        self.t_bad = marker("o", 7, theme.CODE_BAD)
        for item in (self.t_ideal, self.t_static, self.t_ok, self.t_bad):
            tp.addItem(item)
        tbox.addWidget(self.t_plot, 1)
        row.addLayout(tbox, 33)
        self.body.addLayout(row, 1)
        set_size(self.kernel_plot, min_w=120)

        self.column: int | None = None
        self.series: dict[str, np.ndarray] = {}
        self.curve: analysis.TransferCurve | None = None
        self._layer_start = 0

    def show_column(self, s: Session, a: common.LayerAnalysis, column: int) -> None:
        sig, stats = a.signals, a.stats
        self.column = column
        self._layer_start = a.layer_start
        i = stats.index_of(column)
        g = column // s.config.columns_per_group
        spec = s.model.layers[sig.layer]
        chip, cfg = s.chip, s.config
        sel = sig.column == column
        lsb = float(sig.adc_lsb[sel][0])
        n_rows = int(s.chip.programmed_rows[column])
        cp = (chip.cap_p[:n_rows, column] / cfg.c_line - 1) * 100
        cn = (chip.cap_n[:n_rows, column] / cfg.c_line - 1) * 100
        inj = chip.injection[column] if cfg.charge_injection_sigma else 0.0
        owner = common.owner_text(s, column, sig.layer)
        self.title.setText(f"Column {column} · ADC group {g} · "
                           f"<span style='color:{theme.layer_color(sig.layer)}'>{owner}</span>")
        self.set_subtitle(
            f"{int(stats.conversions[i])} conversions in this image: rms error {stats.rms_error[i]:.2f} "
            "LSB = "
            f"static {stats.static_error[i]:+.2f} LSB (this chip's mismatch) and noise "
            f"{stats.noise_rms[i]:.2f} "
            f"LSB rms (kT/C, comparator); {100 * stats.wrong[i]:.0f} % of codes differ, worst by "
            f"{int(stats.max_abs_error[i])} LSB, {int(stats.saturated[i])} saturate.<br>"
            f"Its mismatch: ADC {g} comparator offset {chip.adc_offset[g] * 1e3:+.2f} mV = "
            f"{chip.adc_offset[g] / lsb:+.2f} LSB, gain "
            f"{(chip.adc_gain[g] - 1) * 100:+.2f} % · "
            f"charge injection {inj * 1e3:+.3f} mV = {inj / lsb:+.2f} LSB · its {n_rows} capacitors: "
            f"C_P {cp.mean():+.2f} % mean (spread {cp.std():.2f} %), C_N {cn.mean():+.2f} % (spread "
            f"{cn.std():.2f} %)"
            f" · 1 LSB = {lsb * 1e3:.2f} mV")
        # kernel
        layer, tile, filt = common.column_owner(s, column, sig.layer)
        w, mask, _ = analysis.kernel_picture(s.model, s.shapes, layer, filt, tile)
        aspect = self.kernel_plot.width() / max(self.kernel_plot.height(), 1)
        rgb, _cols = common.kernel_rgb(w, mask, float(np.clip(aspect, 0.3, 4.0)))
        self.kernel_img.setImage(rgb, levels=(0, 255), autoLevels=False)
        self.kernel_plot.getPlotItem().setRange(xRange=(0, rgb.shape[1]), yRange=(0, rgb.shape[0]),
                                                padding=0.02)
        kh, kw, kc = w.shape
        self.kernel_caption.setText(
            f"filter {filt} of {spec.name}: {kc} × ({kh}×{kw}) weights · <span style='color:{theme.LINE_P}'>■"
            f"</span> +1 → P line <span style='color:{theme.LINE_N}'>■</span> −1 → N line · bright: the "
            f"{mask.sum()} rows held by this column")
        # series
        ser = analysis.column_series(sig, column)
        self.series = ser
        x = (ser["frame"] - a.layer_start).astype(float)
        self.v_p.setData(x, ser["v_p"])
        self.v_n.setData(x, ser["v_n"])
        same = ser["code"] == ser["ideal_code"]
        self.c_ok.setData(x=x[same], y=ser["code"][same].astype(float))
        self.c_bad.setData(x=x[~same], y=ser["code"][~same].astype(float))
        self.c_ideal.setData(x, ser["ideal_code"].astype(float))
        pad = max(1.0, 0.02 * (x.max() - x.min()))
        common.set_range(self.c_plot, x=(x.min() - pad, x.max() + pad))
        v = np.concatenate([ser["v_p"], ser["v_n"]])
        vpad = max(1e-4, 0.06 * np.ptp(v))
        common.set_range(self.v_plot, y=common.nice_range(v.min() - vpad, v.max() + vpad, 6))
        codes = np.concatenate([ser["code"], ser["ideal_code"]]).astype(float)
        common.set_range(self.c_plot, y=common.nice_range(codes.min() - 1, codes.max() + 1, 6))
        common.set_title(self.v_plot, f"<span style='color:{theme.LINE_P}'>V_P</span> and <span "
                                      f"style='color:{theme.LINE_N}'>V_N</span> of column {column} over the "
                                      "layer")
        common.set_title(self.c_plot, f"code: <span style='color:{theme.CODE_OK}'>●</span> equals ideal "
                                      f"<span style='color:{theme.CODE_BAD}'>●</span> differs <b>—</b> ideal")
        # transfer curve
        tc = analysis.transfer_curve(sig, a.static, column)
        self.curve = tc
        lo, hi = float(tc.ideal_level.min()), float(tc.ideal_level.max())
        span = max(hi - lo, 2.0)
        xs = np.linspace(lo - 0.05 * span, hi + 0.05 * span, 600)
        lo_code = -cfg.max_code if spec.mode == "signed" else 0
        stair = np.clip(np.floor(xs + 0.5), lo_code, cfg.max_code)
        self.t_ideal.setData(xs, stair)
        self.t_static.setData(tc.ideal_level, tc.static_level)
        same = tc.code == tc.ideal_code
        self.t_ok.setData(x=tc.ideal_level[same], y=tc.code[same].astype(float))
        self.t_bad.setData(x=tc.ideal_level[~same], y=tc.code[~same].astype(float))
        ys = np.concatenate([stair, tc.code, tc.static_level])
        self.t_plot.getPlotItem().setRange(xRange=(xs[0], xs[-1]), yRange=(ys.min() - 1, ys.max() + 1),
                                           padding=0.02)
        self.t_caption.setText(
            f"transfer: <b style='color:{theme.IDEAL}'>—</b> ideal ADC · <span "
            f"style='color:{style.SELECTED}'>"
            f"—</span> this chip without noise, before rounding (fit: gain {tc.gain_error * 100:+.2f} %, "
            "offset "
            f"{tc.offset:+.2f} LSB) · <span style='color:{theme.CODE_OK}'>●</span>"
            f"<span style='color:{theme.CODE_BAD}'>●</span> its codes")

    def show_now(self, frame: Frame) -> None:
        k = float(frame.index - self._layer_start)
        for line in (self.v_now, self.c_now):
            line.setValue(k)

    def _on_series_click(self, plot: pg.PlotWidget, event: object) -> None:
        if not self.series:
            return
        p = plot.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        x = (self.series["frame"] - self._layer_start).astype(float)
        j = int(np.argmin(np.abs(x - p.x())))
        self.frameRequested.emit(int(self.series["frame"][j]))
