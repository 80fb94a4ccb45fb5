"""The current layer's output: conv feature maps filling in as invocations complete, or, on the fc
layer, the ten class scores building up tile by tile."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from core.session import Frame, Session
from gui import theme
from gui.views import colormaps
from gui.views.mosaic import GAP, grid_columns, mosaic
from gui.views.plotting import Panel, Segments, bars, make_image_plot, make_plot, marker

MOSAIC_ASPECT = 1.6


class OutputView(Panel):
    """Conv: mosaic of the layer's output maps (NaN-grey until computed). FC: class score bars."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Layer output", "", parent)
        self.stack = QtWidgets.QStackedWidget()
        self.maps_plot, self.maps = make_image_plot()
        self.maps.setLookupTable(colormaps.code_lut())
        self.cursor = Segments(theme.IDEAL, width=2)
        self.maps_plot.getPlotItem().addItem(self.cursor)
        self.stack.addWidget(self.maps_plot)

        self.scores_plot = make_plot("class (digit)", "class score  α·ΣP + β")
        sp = self.scores_plot.getPlotItem()
        sp.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)], []])
        self.score_bars = bars("#8896ab")
        self.best_bar = bars(theme.PREDICTED)
        self.label_mark = marker("t1", 16, theme.CORRECT)
        self.zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.AXIS, width=1))
        for item in (self.zero, self.score_bars, self.best_bar, self.label_mark):
            sp.addItem(item)
        self.stack.addWidget(self.scores_plot)
        self.add(self.stack)
        self._shape_key: tuple | None = None
        self._scores_key: tuple | None = None
        self.values = np.zeros(0)  # what is on screen: feature maps (H, W, F) or scores (10,), NaN = not yet
        self._cols = 1

    def show_frame(self, frame: Frame, session: Session) -> None:
        layer = frame.place.layer
        spec = session.model.layers[layer]
        color = theme.layer_color(layer)
        if spec.kind == "fc":
            self._show_scores(frame, session)
            return
        self.stack.setCurrentIndex(0)
        fmap = session.feature_map(layer, frame)
        h, w, c = fmap.shape
        key = (layer, fmap.shape)
        if key != self._shape_key:
            self._shape_key = key
            self._cols = grid_columns(c, MOSAIC_ASPECT * h / w)
            rows = -(-c // self._cols)
            p = self.maps_plot.getPlotItem()
            p.setXRange(-0.3, self._cols * (w + GAP), padding=0)
            p.setYRange(-0.3, rows * (h + GAP), padding=0)
            self.set_title(spec.name, color)
            self.set_subtitle(
                f"{c} maps {h}×{w}, codes 0…{session.config.max_input} dark→bright"
                + (f" (before {spec.pool}×{spec.pool} max-pool)" if spec.pool else "")
                + " · grey = not yet · white □ = now")
        self.values = fmap
        img = colormaps.to_index(mosaic(fmap, self._cols), session.config.max_input)
        self.maps.setImage(img, levels=(0, 255), autoLevels=False)
        y, x = frame.place.window or (0, 0)
        f = frame.place.filters
        gy, gx = np.divmod(f, self._cols)
        self.cursor.set_rects(gx * (w + GAP) + x, gy * (h + GAP) + y, 1.0, 1.0)
        self.set_note(f"{frame.positions_done} / {h * w} positions done", color)

    def set_title(self, name: str, color: str) -> None:
        self.title.setText(f"Output of <span style='color:{color}'>{name}</span>")

    def _show_scores(self, frame: Frame, session: Session) -> None:
        self.stack.setCurrentIndex(1)
        layer = frame.place.layer
        spec = session.model.layers[layer]
        scores = session.partial_scores(frame)
        assert scores is not None
        self.values = scores
        run = session.run_image(frame.image)
        key = (frame.image, layer, session.generation)
        if key != self._scores_key:
            self._scores_key = key
            self._shape_key = None
            stages = [session.partial_scores(session.frame_at(frame.image, k))
                      for k in range(run.layer_start[layer], run.n_frames)]
            allv = np.concatenate([s[~np.isnan(s)] for s in stages if s is not None] + [run.scores])
            lo, hi = min(0.0, float(allv.min())), max(0.0, float(allv.max()))
            pad = 0.1 * (hi - lo or 1.0)
            self.ranges.set(self.scores_plot.getPlotItem(), x=(-0.6, 9.6), y=(lo - pad, hi + pad))
            self.set_title(spec.name, theme.layer_color(layer))
            self.set_subtitle(f"class scores from the tiles converted so far · "
                              f"<span style='color:{theme.PREDICTED}'>■</span> the chip's answer · "
                              f"<span style='color:{theme.CORRECT}'>▲</span> true label")
        x = np.arange(scores.size, dtype=float)
        known = ~np.isnan(scores)
        best = np.zeros(scores.size, bool)
        if frame.final:
            best[int(np.argmax(scores))] = True
        rest = known & ~best
        self.score_bars.setOpts(x=x[rest], height=scores[rest], width=0.7)
        self.best_bar.setOpts(x=x[best], height=scores[best], width=0.7)
        lo = self.scores_plot.getPlotItem().vb.viewRange()[1][0]
        self.label_mark.setData(x=[frame.label], y=[lo])
        tiles = spec.n_tiles
        done = frame.place.tile + 1
        self.set_note(f"tile {done} / {tiles}" + ("  — final" if frame.final else ""),
                      theme.PREDICTED if frame.final else theme.layer_color(layer))

