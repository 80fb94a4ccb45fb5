"""Outputs: the feature maps of the running conv layer filling in as invocations complete (during the
fc layer, the last conv layer's finished maps, from which the fc layer's input is made), and below the ten
class scores, which build up tile by tile while the fc layer runs. Both stay on screen all the time,
so nothing is swapped in or out (a swap costs a full re-layout and re-render of the panel)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.views import colormaps
from convsram.gui.views.context import Context
from convsram.gui.views.map_grid import MapGrid
from convsram.gui.views.mosaic import GAP, mosaic
from convsram.gui.views.plotting import (
    Panel,
    Segments,
    bars,
    make_image_plot,
    make_plot,
    marker,
    set_font,
    set_size,
)

MOSAIC_ASPECT = 2.0
SCORE_BAR = "#8896ab"


class OutputView(Panel):
    """Feature-map mosaic (grey until computed) above the class-score bars."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Layer output", "", parent)
        self.maps_plot, self.maps = make_image_plot()
        self.maps.setLookupTable(colormaps.code_lut())
        self.now_box = Segments(theme.IDEAL, width=2)
        self.maps_plot.getPlotItem().addItem(self.now_box)
        self.add(self.maps_plot, 56)
        set_size(self.maps_plot, min_h=45)  # a short panel (1366x768) shrinks the mosaic first
        self.grid = MapGrid(self.maps_plot, MOSAIC_ASPECT, self._regrid)  # the grid follows the plot's shape

        self.scores_plot = make_plot("class (digit)", "score")  # "class score" is cut off when short
        sp = self.scores_plot.getPlotItem()
        sp.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)], []])
        sp.setXRange(-0.6, 9.6, padding=0)
        self.score_bars = bars(SCORE_BAR)
        self.best_bar = bars(theme.PREDICTED)
        self.label_mark = marker("t1", 15, theme.CORRECT)
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        # opaque: neither the zero line nor the grid may strike the text through
        self.waiting = pg.TextItem("", color=theme.TEXT_DIM, anchor=(0.5, 0.5),
                                   fill=pg.mkBrush(theme.PLOT_BG))
        set_font(self.waiting, theme.BASE_PX)  # rescaled with the window
        self.waiting.setPos(4.5, 0.0)
        for item in (self.zero, self.score_bars, self.best_bar, self.label_mark, self.waiting):
            sp.addItem(item)
        self.add(self.scores_plot, 44)
        set_size(self.scores_plot, min_h=100)  # its two axes and a bar's worth of plot
        self.scores_plot.setToolTip("Class score = α·ΣP + β: the fc layer's summed ADC codes P over its "
                                    "row tiles, scaled digitally; the chip's answer is the largest")
        self._maps_key: tuple | None = None
        self._scores_key: tuple | None = None
        self._cols = 1
        self._last: tuple[Frame, Session] | None = None  # the frame on screen, for a re-layout
        self.values: np.ndarray = np.zeros(0)  # the feature maps on screen (H, W, F), NaN = not computed yet
        self.scores = np.full(10, np.nan)  # the class scores on screen, NaN = not converted yet
        self.maps_layer = 0

    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        self._last = (frame, session)
        self._show_maps(frame, session)
        self._show_scores(frame, session)

    def _regrid(self) -> None:
        """After a resize that makes another grid better: the frame on screen laid out again."""
        if self._last is not None:
            self._show_maps(*self._last)

    def _set_grid(self, h: int, w: int, c: int, cols: int) -> None:
        self._cols = cols
        x, y = self.grid.lay_out(h, w, c, cols)
        self.ranges.set(self.maps_plot.getPlotItem(), x=x, y=y)

    # --- feature maps ------------------------------------------------------------------------------
    def _show_maps(self, frame: Frame, session: Session) -> None:
        if frame.place.node is not None and frame.place.op is None:
            self._show_step(frame, session)
            return
        layer = session.map_layer(frame.place.layer)  # during fc: the last maps (finished), its input
        spec = session.model.layers[layer]
        running = layer == frame.place.layer
        fmap = session.feature_map(layer, frame)
        h, w, c = fmap.shape
        cols = self.grid.best(h, w, c)
        key = (layer, fmap.shape, running, cols)
        if key != self._maps_key:
            self._maps_key = key
            self._set_grid(h, w, c, cols)
            color = theme.layer_color(layer)
            self.title.setText(f"Output of <span style='color:{color}'>{spec.name}</span>" if running
                               else f"<span style='color:{color}'>{spec.name}</span> output, finished")
            after = [n for n in session.model.graph.nodes if spec.name in n.inputs and not n.weighted]
            pool = f" before {after[0].name} ({after[0].short()})" if after else ""
            self.set_subtitle(f"{c} maps {h}×{w}, codes 0…{session.config.max_input} dark→bright{pool} · "
                              "grey = not yet · white □ = now · below: the 10 class scores")
        self.maps_layer = layer
        self.values = fmap
        img = colormaps.to_index(mosaic(fmap, self._cols), session.config.max_input)
        self.maps.setImage(img, levels=(0, 255), autoLevels=False)
        p = frame.place
        if running and p.op is not None:  # the layer's own digital step: every filter at this position
            y, x = divmod(p.node_step, w)
            gy, gx = np.divmod(np.arange(c), self._cols)
            self.now_box.set_rects(gx * (w + GAP) + x, gy * (h + GAP) + y, 1.0, 1.0)
            what = "tile sum" if p.op == "sum" else "requantised"
            self.set_note(f"{what}: position {p.node_step + 1} / {h * w}", theme.layer_color(layer))
        elif running:
            y, x = divmod(frame.place.position, w)  # the output position (a padded window starts outside)
            gy, gx = np.divmod(frame.place.filters, self._cols)
            self.now_box.set_rects(gx * (w + GAP) + x, gy * (h + GAP) + y, 1.0, 1.0)
            self.set_note(f"{frame.positions_done} / {h * w} positions done", theme.layer_color(layer))
        else:
            self.now_box.clear_segments()
            spec_now = session.model.layers[frame.place.layer]
            now = f"{frame.layer_name}" if p.op is not None else \
                f"{spec_now.name} tile {frame.place.tile + 1}/{spec_now.n_tiles}"
            self.set_note(now + (" · final" if frame.final else ""),
                          theme.PREDICTED if frame.final else theme.layer_color(frame.place.layer))

    def _show_step(self, frame: Frame, session: Session) -> None:
        """A digital step (a pool, an add): its output maps filling in, one position per step."""
        name = frame.place.node
        assert name is not None
        _, fmap = session.node_maps(frame)
        h, w, c = fmap.shape
        cols = self.grid.best(h, w, c)
        key = ("step", name, fmap.shape, cols)
        if key != self._maps_key:
            self._maps_key = key
            self._set_grid(h, w, c, cols)
            node = session.model.graph.by_name[name]
            self.title.setText(f"Output of {name}")
            self.set_subtitle(f"{c} maps {h}×{w}, codes 0…{session.config.max_input}: {node.short()}, in "
                              "digital logic · grey = not yet · white □ = now")
        self.maps_layer = frame.place.layer
        self.values = fmap
        img = colormaps.to_index(mosaic(fmap, self._cols), session.config.max_input)
        self.maps.setImage(img, levels=(0, 255), autoLevels=False)
        y, x = divmod(frame.place.node_step, w)
        gy, gx = np.divmod(np.arange(c), self._cols)
        self.now_box.set_rects(gx * (w + GAP) + x, gy * (h + GAP) + y, 1.0, 1.0)
        self.set_note(f"{frame.place.node_step + 1} / {h * w} positions done", theme.TEXT)

    # --- class scores ------------------------------------------------------------------------------
    def _show_scores(self, frame: Frame, session: Session) -> None:
        run = session.run_image(frame.image)
        key = (frame.image, session.generation)
        if key != self._scores_key:  # a steady y axis for the whole image, from its final scores
            self._scores_key = key
            fc = len(session.model.layers) - 1
            stages = [session.partial_scores(session.frame_at(frame.image, k))
                      for k in range(run.layer_start[fc], run.n_frames)]
            allv = np.concatenate([s_[~np.isnan(s_)] for s_ in stages if s_ is not None] + [run.scores])
            lo, hi = min(0.0, float(allv.min())), max(0.0, float(allv.max()))
            pad = 0.12 * (hi - lo or 1.0)
            self._score_range = (lo - pad, hi + pad)
            self.ranges.set(self.scores_plot.getPlotItem(), y=self._score_range)
            self.label_mark.setData(x=[frame.label], y=[self._score_range[0]])
            self.waiting.setPos(4.5, 0.5 * (self._score_range[0] + self._score_range[1]))
        scores = session.partial_scores(frame)
        if scores is None:
            scores = np.full(session.model.layers[-1].out_channels, np.nan)
        self.scores = scores
        known = ~np.isnan(scores)
        x = np.arange(scores.size, dtype=float)
        best = np.zeros(scores.size, bool)
        if frame.final:
            best[int(np.argmax(scores))] = True
        rest = known & ~best
        self.score_bars.setOpts(x=x[rest], height=scores[rest], width=0.7)
        self.best_bar.setOpts(x=x[best], height=scores[best], width=0.7)
        waiting = "" if known.any() else "class scores appear while the fc layer runs"
        self.zero.setVisible(bool(known.any()))
        if self.waiting.toPlainText() != waiting:
            self.waiting.setText(waiting)

