"""This chip against the ideal chip on the same frame: the same image run on a chip with every
non-ideality off (same operating point), compared invocation by invocation (line voltages, their
difference, the codes), layer output by layer output (feature maps side by side and their
difference), and in the answer (class scores).

The ideal chip sees its own inputs: after the first layer they can differ from this chip's (errors
propagate), which the panels say. The knob panel's ideal toggle flips the whole app instead."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from convsram.core import analysis
from convsram.core.chip import detail
from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.lab import common
from convsram.gui.lab.labview import LabView
from convsram.gui.views import colormaps
from convsram.gui.views.context import Context
from convsram.gui.views.mosaic import GAP, grid_columns, mosaic
from convsram.gui.views.plotting import Panel, Segments, bars, make_image_plot, make_plot, marker, spacing

PAIR = 0.19  # half the offset between a chip bar and its ideal twin
WIDTH = 0.36
IDEAL_ALPHA = 150


def _groups_axis(plot: pg.PlotWidget, groups: int) -> None:
    common.set_ticks(plot, "bottom", [[(g, str(g)) for g in range(0, groups, 2)],
                                      [(g, "") for g in range(groups)]])
    common.set_range(plot, x=(-0.7, groups - 0.3))


class CompareView(LabView):

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 6, (6, 6, 6, 6))
        top = QtWidgets.QHBoxLayout()
        spacing(top, 6)
        hollow = {"brush": pg.mkBrush(None)}

        self.lines_panel = Panel("Line pair: this chip vs ideal", "", subtitle_lines=2)
        self.lines_plot = make_plot("ADC group  (its evaluated column)", "line voltage (V)")
        lp = self.lines_plot.getPlotItem()
        self.vp = marker("o", 12, theme.LINE_P)
        self.vn = marker("s", 11, theme.LINE_N)
        ring = pg.mkPen(theme.IDEAL, width=1.5)
        self.ivp = pg.ScatterPlotItem(symbol="o", size=theme.px(15), pen=ring, **hollow)
        self.ivn = pg.ScatterPlotItem(symbol="s", size=theme.px(14), pen=ring, **hollow)
        for item in (self.vp, self.vn, self.ivp, self.ivn):
            lp.addItem(item)
        self.lines_panel.add(self.lines_plot)
        self.lines_panel.set_subtitle(
            f"this chip: <span style='color:{theme.LINE_P}'>●</span> V<sub>P</sub> "
            f"<span style='color:{theme.LINE_N}'>■</span> V<sub>N</sub> · ideal chip: "
            f"<b style='color:{theme.IDEAL}'>○ □</b> (same image, same place in the network)")
        top.addWidget(self.lines_panel, 1)

        self.diff_panel = Panel("Line difference V_N − V_P", "", subtitle_lines=2)
        self.diff_plot = make_plot("ADC group  (its evaluated column)", "V_N − V_P (mV)")
        dp = self.diff_plot.getPlotItem()
        self.d_pos = bars(theme.DIFF_POS)
        self.d_neg = bars(theme.DIFF_NEG)
        self.d_ideal = bars(theme.IDEAL, IDEAL_ALPHA)
        self.d_zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        for item in (self.d_zero, self.d_pos, self.d_neg, self.d_ideal):
            dp.addItem(item)
        self.diff_panel.add(self.diff_plot)
        self.diff_panel.set_subtitle(
            f"left bar this chip (<span style='color:{theme.DIFF_POS}'>■</span> &gt; 0 "
            f"<span style='color:{theme.DIFF_NEG}'>■</span> &lt; 0) · right bar "
            f"<span style='color:{theme.IDEAL}'>■</span> ideal chip")
        top.addWidget(self.diff_panel, 1)

        self.codes_panel = Panel("ADC codes: this chip vs ideal", "", subtitle_lines=2)
        self.codes_plot = make_plot("ADC group  (its evaluated column)", "ADC code (LSB)")
        cp = self.codes_plot.getPlotItem()
        self.c_ok = bars(theme.CODE_OK)
        self.c_bad = bars(theme.CODE_BAD)
        self.c_ideal = bars(theme.IDEAL, IDEAL_ALPHA)
        self.c_local = Segments(theme.DAC, width=2)
        self.c_zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        for item in (self.c_zero, self.c_ok, self.c_bad, self.c_ideal, self.c_local):
            cp.addItem(item)
        self.codes_panel.add(self.codes_plot)
        self.codes_panel.set_subtitle(
            f"left this chip: <span style='color:{theme.CODE_OK}'>■</span> = ideal chip's "
            f"<span style='color:{theme.CODE_BAD}'>■</span> differs · right <span "
            f"style='color:{theme.IDEAL}'>■"
            f"</span> ideal chip · <span style='color:{theme.DAC}'>—</span> ideal ADC for this chip's inputs")
        top.addWidget(self.codes_panel, 1)
        lay.addLayout(top, 36)

        self.maps_panel = Panel("Layer output: this chip | ideal chip | difference", "", subtitle_lines=1)
        maps_row = QtWidgets.QHBoxLayout()
        spacing(maps_row, 6)
        self.map_plots: list[pg.PlotWidget] = []
        self.map_items: list[pg.ImageItem] = []
        self.map_captions: list[QtWidgets.QLabel] = []
        for _ in range(3):
            col = QtWidgets.QVBoxLayout()
            spacing(col, 2)
            cap = common.hint("")
            w, img = make_image_plot()
            col.addWidget(cap)
            col.addWidget(w, 1)
            maps_row.addLayout(col, 1)
            self.map_plots.append(w)
            self.map_items.append(img)
            self.map_captions.append(cap)
        self.map_items[0].setLookupTable(colormaps.code_lut())
        self.map_items[1].setLookupTable(colormaps.code_lut())
        self.map_items[2].setLookupTable(common.diverging_cmap().getLookupTable(0.0, 1.0, 256))
        self.maps_panel.body.addLayout(maps_row, 1)
        lay.addWidget(self.maps_panel, 38)

        bottom = QtWidgets.QHBoxLayout()
        spacing(bottom, 6)
        self.scores_panel = Panel("Class scores of this image: this chip vs ideal", "", subtitle_lines=1)
        self.scores_plot = make_plot("class (digit)", "class score")
        sp = self.scores_plot.getPlotItem()
        sp.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)], []])
        self.s_chip = bars("#8896ab")
        self.s_best = bars(theme.PREDICTED)
        self.s_ideal = bars(theme.IDEAL, IDEAL_ALPHA)
        self.s_label = marker("t1", 15, theme.CORRECT)
        self.s_zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        for item in (self.s_zero, self.s_chip, self.s_best, self.s_ideal, self.s_label):
            sp.addItem(item)
        self.scores_panel.add(self.scores_plot)
        self.scores_panel.set_subtitle(
            f"left this chip (<span style='color:{theme.PREDICTED}'>■</span> its answer) · right "
            f"<span style='color:{theme.IDEAL}'>■</span> ideal chip · <span "
            f"style='color:{theme.CORRECT}'>▲</span>"
            " true label")
        bottom.addWidget(self.scores_panel, 3)
        self.summary_panel = Panel("What differs", "", subtitle_lines=0)
        self.summary = QtWidgets.QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.summary_panel.add(self.summary)
        bottom.addWidget(self.summary_panel, 2)
        lay.addLayout(bottom, 26)

        self._key_image: tuple | None = None
        self.scores = np.full(10, np.nan)  # this chip's class scores on screen (NaN: not converted yet)
        self.comparison: analysis.FrameComparison | None = None
        self.maps: analysis.MapComparison | None = None
        self.ideal_frame: Frame | None = None
        # what show_frame left for show_rest: (session, ideal session, frame, ideal frame, comparison)
        self._rest: tuple[Session, Session, Frame, Frame, analysis.FrameComparison] | None = None

    def show_frame(self, frame: Frame, context: Context) -> None:
        s, data = context.session, self.data
        ideal_s = data.ideal_session(s)
        fi = data.ideal_frame(s, frame)
        self.ideal_frame = fi
        c = analysis.compare_frames(frame, fi)
        self.comparison = c
        groups = s.config.adc_groups
        g = (c.columns // s.config.columns_per_group).astype(float)
        # line pair
        self.vp.setData(x=g, y=c.v_p)
        self.vn.setData(x=g, y=c.v_n)
        self.ivp.setData(x=g, y=c.ideal_v_p)
        self.ivn.setData(x=g, y=c.ideal_v_n)
        # the axes fit this invocation (chip and ideal side by side), in round steps so they move seldom
        allv = np.concatenate([c.v_p, c.v_n, c.ideal_v_p, c.ideal_v_n])
        mid = 0.5 * (allv.min() + allv.max())
        half = max(0.6 * np.ptp(allv), 1e-3)
        common.set_range(self.lines_plot, y=common.nice_range(mid - half, mid + half, 6))
        _groups_axis(self.lines_plot, groups)
        # difference
        d, di = c.diff_mv, c.ideal_diff_mv
        up = d >= 0
        self.d_pos.setOpts(x=g[up] - PAIR, height=d[up], width=WIDTH)
        self.d_neg.setOpts(x=g[~up] - PAIR, height=d[~up], width=WIDTH)
        self.d_ideal.setOpts(x=g + PAIR, height=di, width=WIDTH)
        top = max(float(np.abs(np.concatenate([d, di])).max()), 2 * frame.adc_lsb * 1e3)
        common.set_range(self.diff_plot, y=common.nice_range(-top * 1.1, top * 1.1, 6))
        _groups_axis(self.diff_plot, groups)
        # codes
        same = c.codes == c.ideal_codes
        self.c_ok.setOpts(x=g[same] - PAIR, height=c.codes[same].astype(float), width=WIDTH)
        self.c_bad.setOpts(x=g[~same] - PAIR, height=c.codes[~same].astype(float), width=WIDTH)
        self.c_ideal.setOpts(x=g + PAIR, height=c.ideal_codes.astype(float), width=WIDTH)
        loc = c.local_ideal_codes.astype(float)
        self.c_local.set_segments(g - PAIR - WIDTH / 2, loc, g - PAIR + WIDTH / 2, loc)
        codes = np.concatenate([c.codes, c.ideal_codes, [0, 2]]).astype(float)
        lo_code, hi_code = min(codes.min(), 0) * 1.08, codes.max() * 1.08
        common.set_range(self.codes_plot, y=common.nice_range(lo_code, hi_code, 6))
        _groups_axis(self.codes_plot, groups)
        n_diff = int((~same).sum())
        rest = "" if frame.place.invocation else "last: "  # a digital step: the array rests (summary says so)
        self.codes_panel.set_note(f"{rest}{n_diff} of {same.size} differ",
                                  theme.CODE_BAD if n_diff else theme.CODE_OK)
        inputs = len(frame.x)
        differ = "same inputs" if c.inputs_differ == 0 else f"{c.inputs_differ} of {inputs} inputs differ"
        if rest:  # (no room for both in the title line)
            self.lines_panel.set_note("array at rest", theme.TEXT_DIM)
        else:
            self.lines_panel.set_note(differ, theme.TEXT_DIM if c.inputs_differ == 0 else theme.CODE_BAD)
        self._rest = (s, ideal_s, frame, fi, c)
        if not context.playing:  # while playing, the maps, scores and summary on the lab's next tick
            self.show_rest()

    def show_rest(self) -> bool:
        if self._rest is None:
            return False
        s, ideal_s, frame, fi, c = self._rest
        self._rest = None
        self._show_maps(s, ideal_s, frame, fi)
        self._show_scores(s, ideal_s, frame, fi)
        self._show_summary(s, ideal_s, frame, c)
        return True

    def _show_maps(self, s: Session, ideal_s: Session, frame: Frame, fi: Frame) -> None:
        layer = s.map_layer(frame.place.layer)
        spec = s.model.layers[layer]
        m = analysis.compare_maps(s.feature_map(layer, frame), ideal_s.feature_map(layer, fi))
        self.maps = m
        h, w, ch = m.chip.shape
        cols = grid_columns(ch, 1.7 * h / w)
        vmax = s.config.max_input
        for item, values in ((self.map_items[0], m.chip), (self.map_items[1], m.ideal)):
            item.setImage(colormaps.to_index(mosaic(values, cols), vmax), levels=(0, 255), autoLevels=False)
        lim = max(1.0, m.max_abs)
        diff = mosaic(m.diff, cols)
        idx = np.where(np.isnan(diff), 127.5, 127.5 + 127.5 * np.clip(diff / lim, -1, 1)).astype(np.ubyte)
        self.map_items[2].setImage(idx, levels=(0, 255), autoLevels=False)
        rows = -(-ch // cols)
        for plot in self.map_plots:
            common.set_range(plot, x=(-0.3, cols * (w + GAP)), y=(-0.3, rows * (h + GAP)))
        color = theme.layer_color(layer)
        self.map_captions[0].setText(f"this chip: <span style='color:{color}'>{spec.name}</span> output "
                                     "codes "
                                     f"0…{vmax} dark→bright (grey: not yet)")
        self.map_captions[1].setText("ideal chip: the same maps, every non-ideality off")
        self.map_captions[2].setText(
            f"this chip − ideal: <span style='color:{common.style.DIVERGING_NEG}'>■</span> lower "
            f"<span style='color:{common.style.DIVERGING_POS}'>■</span> higher, full colour at ±{lim:g} "
            "codes")
        self.maps_panel.set_note(f"{m.differ:,} of {m.computed:,} values differ · max |Δ| {m.max_abs:g}",
                                 theme.CODE_BAD if m.differ else theme.CODE_OK)

    def _show_scores(self, s: Session, ideal_s: Session, frame: Frame, fi: Frame) -> None:
        """The class scores as far as the fc layer has converted them at this invocation (none before it;
        the answers on the final frame), on an axis steady for the whole image."""
        fc = s.is_output(frame.place.layer)
        key = (s.uid, s.generation, frame.image, frame.index if fc else -1)
        if key == self._key_image:
            return
        self._key_image = key
        run, irun = s.run_image(frame.image), ideal_s.run_image(frame.image)
        n = run.scores.size
        chip, ideal = s.partial_scores(frame), ideal_s.partial_scores(fi)
        chip = np.full(n, np.nan) if chip is None else chip
        ideal = np.full(n, np.nan) if ideal is None else ideal
        self.scores = chip  # on screen (tests read it); NaN = not converted yet
        x = np.arange(n, dtype=float)
        best = np.zeros(n, bool)
        if frame.final:
            best[run.prediction] = True
        known, iknown = ~np.isnan(chip), ~np.isnan(ideal)
        self.s_chip.setOpts(x=x[known & ~best] - PAIR, height=chip[known & ~best], width=WIDTH)
        self.s_best.setOpts(x=x[best] - PAIR, height=chip[best], width=WIDTH)
        self.s_ideal.setOpts(x=x[iknown] + PAIR, height=ideal[iknown], width=WIDTH)
        allv = np.concatenate([run.scores, irun.scores, [0.0]])
        pad = 0.12 * (np.ptp(allv) or 1.0)
        lo, hi = allv.min() - pad, allv.max() + pad
        common.set_range(self.scores_plot, x=(-0.6, 9.6), y=(lo, hi))
        if run.label >= 0:
            self.s_label.setData(x=[float(run.label)], y=[lo])
        else:
            self.s_label.setData(x=[], y=[])
        if frame.final:
            self.scores_panel.set_note(f"chip says {run.prediction}, ideal says {irun.prediction}",
                                       theme.CODE_OK if run.prediction == irun.prediction else theme.CODE_BAD)
        elif fc:
            self.scores_panel.set_note(f"fc tile {frame.place.tile + 1}/{s.model.layers[-1].n_tiles}: "
                                       "scores so far", theme.TEXT_DIM)
        else:
            self.scores_panel.set_note("scores come with the fc layer", theme.TEXT_DIM)

    def _show_summary(self, s: Session, ideal_s: Session, frame: Frame, c: analysis.FrameComparison) -> None:
        run, irun = s.run_image(frame.image), ideal_s.run_image(frame.image)
        layer = frame.place.layer
        spec = s.model.layers[layer]
        k0 = run.layer_start[layer]
        positions: dict[tuple[int, int, int], list[int]] = {}  # per record: the positions done so far
        for p in run.places[k0:frame.index + 1]:
            if p.invocation:
                positions.setdefault((p.layer, p.tile, p.chunk), []).append(p.position)
        invocations = total = e2e = local = 0
        for key, pos in positions.items():  # one comparison per record (a tile's chunk), not per invocation
            r, ri, i = run.records[key], irun.records[key], np.asarray(pos)
            codes = r.codes[i]
            invocations += i.size
            total += codes.size
            e2e += int((codes != ri.codes[i]).sum())
            local += int((codes != detail(r.ideal_codes)[i]).sum())
        label = "drawn digit" if run.label < 0 else f"label {run.label}"
        verdict = ("the same answer" if run.prediction == irun.prediction else
                   f"<span style='color:{theme.CODE_BAD}'>a different answer</span>")
        answer = (f"Answer: this chip {run.prediction}, ideal chip {irun.prediction} ({label}): {verdict}."
                  if frame.final else "Answer: not yet (the fc layer decides, at the last invocation).")
        now = "This invocation" if frame.place.invocation else \
            f"{frame.layer_name} is a digital step (the array rests); its last invocation"
        self.summary.setText(
            f"<b>{spec.name}</b>, invocations 1–{invocations} of this image: "
            f"<b>{e2e:,}</b> of {total:,} codes differ from the ideal chip's (end to end); <b>{local:,}</b> "
            f"differ from an ideal ADC fed this chip's own inputs (this layer's own conversion errors; the "
            f"rest of the difference comes in with the inputs, from earlier layers).<br>"
            f"{now}: {int((c.codes != c.ideal_codes).sum())} of {c.codes.size} codes differ, "
            f"{c.inputs_differ} of {len(frame.x)} inputs differ.<br>"
            f"{answer}<br>"
            f"<span style='color:{theme.TEXT_DIM}'>“Ideal chip ⇄ this chip” (under the presets) flips the "
            "whole app to the ideal chip.</span>")
