"""The grid of a mosaic of feature maps in an aspect-locked image plot: the column count that shows the
maps largest in the plot's current size, re-chosen when a resize changes it, and a blank over a ragged
last row's empty cells (the plot's background, not the grey of a map not computed yet)."""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6 import QtWidgets

from convsram.gui.views.mosaic import GAP, fit_columns, grid_columns


class MapGrid:
    """`on_regrid` is called when a resize makes another grid better for the maps on screen (the view
    lays them out again); `fallback_aspect` (width / height) serves before the plot is laid out."""

    def __init__(self, plot: pg.PlotWidget, fallback_aspect: float, on_regrid: Callable[[], None]) -> None:
        self.plot, self.fallback, self.on_regrid = plot, fallback_aspect, on_regrid
        self.cols = 1
        self.shape: tuple[int, int, int] | None = None  # (h, w, c) laid out now
        self.blank = QtWidgets.QGraphicsRectItem()
        self.blank.setPen(pg.mkPen(None))
        self.blank.setZValue(5)
        self.blank.setVisible(False)
        plot.getPlotItem().addItem(self.blank)
        plot.getPlotItem().vb.sigResized.connect(self._resized)

    def best(self, h: int, w: int, c: int) -> int:
        """The columns that show c maps of h x w largest in the plot as it is now."""
        vb = self.plot.getPlotItem().vb
        if vb.width() < 16 or vb.height() < 16:
            return grid_columns(c, self.fallback * h / w)
        return fit_columns(c, h, w, vb.width(), vb.height())

    def lay_out(self, h: int, w: int, c: int, cols: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """Lay c maps of h x w out in `cols` columns; returns the plot's (x, y) ranges for them."""
        self.cols, self.shape = cols, (h, w, c)
        rows = -(-c // cols)
        empty = rows * cols - c
        self.blank.setVisible(empty > 0)
        # from the gap before the first empty cell to the mosaic's right and bottom edges, in the colour
        # around the mosaic (the demo's plots have their own)
        self.blank.setRect((cols - empty) * (w + GAP) - GAP, (rows - 1) * (h + GAP) - GAP,
                           empty * (w + GAP), h + GAP)
        self.blank.setBrush(self.plot.backgroundBrush())
        return (-0.3, cols * (w + GAP)), (-0.3, rows * (h + GAP))

    def clear(self) -> None:
        """The plot shows no grid of maps now (no blank, no re-layout on a resize)."""
        self.shape = None
        self.blank.setVisible(False)

    def _resized(self) -> None:
        if self.shape is not None and self.best(*self.shape) != self.cols:
            self.on_regrid()
