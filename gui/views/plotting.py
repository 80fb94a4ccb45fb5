"""Shared pyqtgraph set-up: one-time options, styled plots with labelled axes, panels, segment items."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.gui import theme

_configured = False
AXIS_WIDTH = 74  # design px of a vertical axis with tick labels and a title
AXIS_HEIGHT = 44  # design px of a horizontal axis with tick labels and a title


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options, set once before any plot is made (row-major images: no transposes)."""
    global _configured
    if _configured:
        return
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background=theme.PLOT_BG,
                        foreground=theme.AXIS, useOpenGL=False)
    _configured = True


class RangeQueue:
    """Axis-range changes. Each re-renders an axis (about 5 ms); at a layer change half a dozen happen
    at once. During playback the window applies a couple per display tick (nobody sees an axis catch up
    20 ms late, everybody sees a 60 ms stall); when paused, at once."""

    def __init__(self, immediate: bool = True) -> None:
        self.immediate = immediate
        self._pending: dict[int, tuple[pg.PlotItem, tuple | None, tuple | None]] = {}

    def set(self, plot: pg.PlotItem, x: tuple[float, float] | None = None,
            y: tuple[float, float] | None = None) -> None:
        old = self._pending.get(id(plot))
        if old is not None:  # a newer request for the same plot replaces the older one (axis by axis)
            x, y = x or old[1], y or old[2]
        if self.immediate:
            self._pending.pop(id(plot), None)  # (applied now: nothing older may follow it)
            _apply_range(plot, x, y)
        else:
            self._pending[id(plot)] = (plot, x, y)  # keeping its place in the queue

    def run(self, budget: int) -> int:
        """Apply up to `budget` pending changes, oldest first; returns how many are left."""
        for key in list(self._pending)[:budget]:
            plot, x, y = self._pending.pop(key)
            _apply_range(plot, x, y)
        return len(self._pending)

    def flush(self) -> None:
        self.run(len(self._pending))

    def __len__(self) -> int:
        return len(self._pending)


def _apply_range(plot: pg.PlotItem, x: tuple | None, y: tuple | None) -> None:
    """One setRange call for both axes: on an aspect-locked plot (an image), setXRange then setYRange
    keeps the y range and crops x to the aspect, until the next resize re-fits it (stale framing)."""
    if x is not None or y is not None:
        plot.setRange(xRange=x, yRange=y, padding=0)


IMMEDIATE = RangeQueue(immediate=True)


def font(size: int, bold: bool = False, mono: bool = False) -> QtGui.QFont:
    """A font of design pixel size `size`, scaled to the window (theme.px)."""
    f = QtGui.QFont("DejaVu Sans Mono" if mono else theme.FONT_FAMILY)
    f.setPixelSize(theme.px(size))
    f.setBold(bold)
    return f


# --- things sized in design pixels, re-applied when the window rescales ----------------------------
Sizes = tuple[int | None, int | None, int | None, int | None]  # fixed_w, min_w, min_h, fixed_h


@dataclass
class Design:
    """What :func:`restyle` re-applies to one widget, layout, axis or item at the current scale, in
    design pixels (None: nothing of that kind)."""

    font: tuple[int, bool, bool] | None = None  # size, bold, mono
    sizes: Sizes | None = None  # a widget's widths and heights
    symbol: int | None = None  # a scatter item's symbol size
    space: tuple[int | None, tuple[int, int, int, int] | None] | None = None  # a layout's spacing, margins
    axis: tuple[str | None] | None = None  # a styled axis and its title
    height: int | None = None  # an axis height


# held beside the objects (weakly: a deleted widget drops its entry), not as attributes on Qt objects
_DESIGNS: weakref.WeakKeyDictionary[Any, Design] = weakref.WeakKeyDictionary()


def design(obj: Any) -> Design:
    """The remembered design sizes of `obj` (an empty record if none)."""
    found = _DESIGNS.get(obj)
    if found is None:
        found = _DESIGNS[obj] = Design()
    return found


def designed(obj: Any) -> Design | None:
    return _DESIGNS.get(obj)


def has_sizes(widget: QtWidgets.QWidget) -> bool:
    """True if the widget's widths or heights are set in design pixels (:func:`set_size`)."""
    d = _DESIGNS.get(widget)
    return d is not None and d.sizes is not None


def set_font(target: QtWidgets.QWidget | pg.TextItem, size: int, bold: bool = False,
             mono: bool = False) -> None:
    """Give a widget (or text item) a scaled font and remember it for :func:`restyle`."""
    design(target).font = (size, bold, mono)
    target.setFont(font(size, bold, mono))


def set_size(widget: QtWidgets.QWidget, *, fixed_w: int | None = None, min_w: int | None = None,
             min_h: int | None = None, fixed_h: int | None = None) -> None:
    """Design-pixel widths/heights of a widget, remembered for :func:`restyle`."""
    design(widget).sizes = (fixed_w, min_w, min_h, fixed_h)
    if fixed_w is not None:
        widget.setFixedWidth(theme.px(fixed_w))
    if fixed_h is not None:
        widget.setFixedHeight(theme.px(fixed_h))
    if min_w is not None:
        widget.setMinimumWidth(theme.px(min_w))
    if min_h is not None:
        widget.setMinimumHeight(theme.px(min_h))


def spacing(layout: QtWidgets.QLayout, space: int | None = None,
            margins: tuple[int, int, int, int] | None = None) -> QtWidgets.QLayout:
    """Design-pixel spacing and margins of a layout, remembered for :func:`restyle`."""
    design(layout).space = (space, margins)
    if space is not None:
        layout.setSpacing(theme.px(space))
    if margins is not None:
        layout.setContentsMargins(*(theme.px(m) if m else 0 for m in margins))
    return layout


def marker(symbol: str, size: int, color: str) -> pg.ScatterPlotItem:
    """A scatter item whose symbol size follows the scale."""
    item = pg.ScatterPlotItem(symbol=symbol, size=theme.px(size), brush=pg.mkBrush(color), pen=pg.mkPen(None))
    design(item).symbol = size
    return item


def set_axis_height(axis: pg.AxisItem, height: int) -> None:
    design(axis).height = height
    axis.setHeight(theme.px(height))


def style_axis(axis: pg.AxisItem, label: str | None) -> None:
    design(axis).axis = (label,)
    # painted from a pixmap unless the axis itself changes: bars moving over a grid do not re-render
    # the tick labels (replaying an axis costs about 1 ms; a dashboard has two dozen)
    axis.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
    axis.setPen(pg.mkPen(theme.AXIS, width=1))
    axis.setTextPen(pg.mkPen(theme.TEXT_DIM))
    # fixed axis sizes: tick labels of another width must not re-layout the plot (a full re-render)
    axis.setStyle(tickFont=font(theme.TICK_PX), tickLength=-theme.px(5), autoExpandTextSpace=False,
                  autoReduceTextSpace=False, tickTextOffset=theme.px(4))
    if axis.orientation in ("left", "right"):
        axis.setWidth(theme.px(AXIS_WIDTH if label else AXIS_WIDTH - 20))
    else:
        axis.setHeight(theme.px(AXIS_HEIGHT if label else AXIS_HEIGHT - 18))
    if label is not None:
        label_axis(axis, label)
    else:
        plain_ticks(axis)


def label_style() -> dict[str, str]:
    """Style of an axis title at the current scale."""
    return {"font-size": f"{theme.px(theme.AXIS_LABEL_PX)}px", "color": theme.TEXT}


def label_axis(axis: pg.AxisItem, text: str) -> None:
    """Set an axis title (the unit is part of the text) with tick labels showing the plotted values.
    Every axis title in the app goes through here."""
    axis.setLabel(text, **label_style())
    plain_ticks(axis)


def plain_ticks(axis: pg.AxisItem) -> None:
    """Tick labels show the plotted values as they are: no SI prefix, no hidden factor.

    pyqtgraph 0.14's ``enableAutoSIPrefix(False)`` still derives a prefix scale from the current range
    when the axis title is visible (x1000 for a range inside (0, 1)) and multiplies every tick label by
    it, so after a rescale -3 mV read -3000. 0.13.7 keeps a stale scale the same way. Reset it."""
    axis.enableAutoSIPrefix(False)
    if axis.autoSIPrefixScale != 1.0 or axis.labelUnitPrefix:
        axis.autoSIPrefixScale = 1.0
        axis.labelUnitPrefix = ""
        axis._updateLabel()


def stretch_box(horizontal: bool, space: int, *items: tuple[QtWidgets.QWidget, int]) -> QtWidgets.QWidget:
    """A container whose children share its space by their stretch factors alone (Ignored size
    policies: a label whose text changes can never push the layout around)."""
    ignored = QtWidgets.QSizePolicy.Policy.Ignored
    holder = QtWidgets.QWidget()
    holder.setSizePolicy(ignored, ignored)
    lay: QtWidgets.QBoxLayout = QtWidgets.QHBoxLayout(holder) if horizontal else QtWidgets.QVBoxLayout(holder)
    spacing(lay, space, (0, 0, 0, 0))
    for item, stretch in items:
        lay.addWidget(item, stretch)
    return holder


def restyle(root: QtWidgets.QWidget) -> None:
    """Re-apply every remembered design size under `root` at the current theme scale."""
    for lay in root.findChildren(QtWidgets.QLayout):
        d = designed(lay)
        if d is not None and d.space is not None:
            spacing(lay, *d.space)
    for w in [root, *root.findChildren(QtWidgets.QWidget)]:
        d = designed(w)
        if d is not None and d.font is not None:
            w.setFont(font(*d.font))
        if d is not None and d.sizes is not None:
            fixed_w, min_w, min_h, fixed_h = d.sizes
            set_size(w, fixed_w=fixed_w, min_w=min_w, min_h=min_h, fixed_h=fixed_h)
        if isinstance(w, pg.PlotWidget):
            p = w.getPlotItem()
            room_for_top_label(p)
            for entry in p.axes.values():
                axis = entry["item"]
                d = designed(axis)
                if d is not None and d.axis is not None:
                    style_axis(axis, d.axis[0])
                if d is not None and d.height is not None:
                    set_axis_height(axis, d.height)
            for item in p.items:
                d = designed(item)
                if d is None:
                    continue
                if isinstance(item, pg.ScatterPlotItem) and d.symbol is not None:
                    item.setSize(theme.px(d.symbol))
                elif isinstance(item, pg.TextItem | NumberGrid) and d.font is not None:
                    item.setFont(font(*d.font))


class GridLines(pg.GraphicsObject):
    """Grid lines at an axis's ticks, across the view, drawn behind the data in one pass.

    pyqtgraph draws a grid inside the AxisItem, which makes the axis as large as the whole plot: every
    range change then re-renders a plot-sized cache pixmap (about 6 ms a plot here, and an image change
    moves a dozen axes at once). This item keeps the axes small and costs a few lines per paint. The
    lines follow the axis's own ticks (custom ticks included), faded per tick level as pyqtgraph does."""

    def __init__(self, plot: pg.PlotItem, side: str, alpha: float) -> None:
        super().__init__()
        self.plot, self.axis, self.alpha = plot, plot.getAxis(side), alpha
        self.vertical = side in ("top", "bottom")  # the lines cross the x axis
        self.setZValue(-100)
        self._cache: tuple[tuple, list[tuple[QtGui.QPen, list[QtCore.QLineF]]]] | None = None
        plot.vb.sigRangeChanged.connect(self._moved)
        plot.vb.sigResized.connect(self._moved)

    def _moved(self, *_: object) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt API)
        return self.plot.vb.viewRect()

    def levels(self) -> list[list[float]]:
        """The axis's tick values, per level (major first)."""
        lo, hi = self.axis.range
        if self.axis._tickLevels is not None:  # custom ticks (setTicks): what the axis draws
            return [[v for v, _ in level] for level in self.axis._tickLevels]
        size = self.plot.vb.width() if self.vertical else self.plot.vb.height()
        return [list(values) for _, values in self.axis.tickValues(lo, hi, max(size, 1.0))]

    def paint(self, p: QtGui.QPainter, *args: object) -> None:
        for pen, lines in self._lines():
            p.setPen(pen)
            p.drawLines(lines)

    def _lines(self) -> list[tuple[QtGui.QPen, list[QtCore.QLineF]]]:
        """Per tick level, its pen and lines; kept while the view, its size, the axis's ticks and pen
        stay (a plot repaints on every data change: the ticks would be worked out again each time)."""
        r = self.plot.vb.viewRect()
        length = self.plot.vb.width() if self.vertical else self.plot.vb.height()
        base = self.axis.pen().color()
        ticks = self.axis._tickLevels
        custom = None if ticks is None else tuple(tuple(v for v, _ in level) for level in ticks)
        key = (r.getRect(), length, self.axis.range[0], self.axis.range[1], custom, base.rgba())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        color = QtGui.QColor(base)
        drawn: set[float] = set()
        out = []
        for i, values in enumerate(self.levels()):
            fade = min(max(0.05 * length / (len(values) + 1), 0.0), 1.0)
            color.setAlphaF(min(self.alpha * fade / (i + 1), 1.0))
            pen = QtGui.QPen(color, 0)  # cosmetic: one pixel at any zoom
            lines = []
            for v in values:
                if v in drawn:
                    continue
                drawn.add(v)
                if self.vertical and r.left() <= v <= r.right():
                    lines.append(QtCore.QLineF(v, r.top(), v, r.bottom()))
                elif not self.vertical and r.top() <= v <= r.bottom():
                    lines.append(QtCore.QLineF(r.left(), v, r.right(), v))
            if lines:
                out.append((pen, lines))
        self._cache = (key, out)
        return out


def add_grid(plot: pg.PlotItem, side: str, alpha: float) -> GridLines:
    """Grid lines at the ticks of the axis on `side` (see :class:`GridLines`)."""
    grid = GridLines(plot, side, alpha)
    plot.addItem(grid, ignoreBounds=True)
    return grid


def make_plot(x_label: str | None, y_label: str | None, parent: QtWidgets.QWidget | None = None,
              grid: bool = True) -> pg.PlotWidget:
    """A PlotWidget for a live display: labelled axes, no mouse zoom or menu (a demo must not drift)."""
    configure_pyqtgraph()
    w = pg.PlotWidget(parent=parent)
    w.setBackground(theme.PLOT_BG)
    p = w.getPlotItem()
    p.setMouseEnabled(False, False)
    p.setMenuEnabled(False)
    p.hideButtons()
    p.vb.setDefaultPadding(0.02)
    for name, label in (("bottom", x_label), ("left", y_label)):
        style_axis(p.getAxis(name), label)
    room_for_top_label(p)
    if grid:
        add_grid(p, "left", 0.25)
    w.setMinimumSize(120, 90)
    return w


def range_with_room(values: Sequence[float], top: float = 0.0, bottom: float = 0.0,
                    pad: float = 0.06) -> tuple[float, float]:
    """A y range over `values` with `pad` of their span either side and a band of `top` / `bottom` of
    the span kept free above / below them (for a legend that must not cover the data)."""
    lo, hi = float(min(values)), float(max(values))
    span = hi - lo or max(abs(hi), 1.0)
    return lo - (pad + bottom) * span, hi + (pad + top) * span


def room_for_top_label(p: pg.PlotItem) -> None:
    """Half a tick label of room above the view when nothing is drawn there: a tick at the very top of
    the range (1.01 V, code 50) had the top half of its label cut off by the plot's edge."""
    top = theme.px(theme.TICK_PX) // 2 + 1 if p.getAxis("left").isVisible() and not p.getAxis(
        "top").isVisible() else 1
    p.layout.setContentsMargins(1, top, 1, 1)


def make_image_plot(parent: QtWidgets.QWidget | None = None) -> tuple[pg.PlotWidget, pg.ImageItem]:
    """A PlotWidget showing one image with no axes, aspect locked, y down (row 0 at the top)."""
    w = make_plot(None, None, parent, grid=False)
    p = w.getPlotItem()
    for name in ("bottom", "left"):
        p.hideAxis(name)
    room_for_top_label(p)
    p.vb.invertY(True)
    p.vb.setAspectLocked(True)
    p.vb.setDefaultPadding(0.01)
    img = pg.ImageItem(axisOrder="row-major")
    p.addItem(img)
    return w, img


class Segments(pg.PlotCurveItem):
    """Many straight segments in one item (connect='pairs'): markers, outlines, grid lines."""

    def __init__(self, color: str, width: float = 1.0,
                 style: QtCore.Qt.PenStyle = QtCore.Qt.PenStyle.SolidLine, alpha: int = 255) -> None:
        pen = pg.mkPen(theme.rgba(color, alpha), width=width, style=style)
        pen.setCosmetic(True)
        super().__init__(pen=pen, connect="pairs", antialias=False)

    def set_segments(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> None:
        x = np.empty(2 * len(x0))
        y = np.empty(2 * len(x0))
        x[0::2], x[1::2], y[0::2], y[1::2] = x0, x1, y0, y1
        self.setData(x, y, connect="pairs")

    def set_rects(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | float, h: np.ndarray | float) -> None:
        """Outlines of rectangles with corners (x, y) and size (w, h)."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        w, h = np.broadcast_to(w, x.shape).astype(float), np.broadcast_to(h, x.shape).astype(float)
        x0 = np.concatenate([x, x + w, x + w, x])
        y0 = np.concatenate([y, y, y + h, y + h])
        x1 = np.concatenate([x + w, x + w, x, x])
        y1 = np.concatenate([y, y + h, y + h, y])
        self.set_segments(x0, y0, x1, y1)

    def clear_segments(self) -> None:
        self.setData([], [])


class NumberGrid(pg.GraphicsObject):
    """Numbers centred on the cells of a grid (cell (r, c) spans [c, c+1) x [r, r+1)), drawn by one item
    in one paint at a fixed pixel size: 25 separate text items cost several ms per frame."""

    def __init__(self, size: int = theme.BASE_PX) -> None:
        super().__init__()
        self._font_spec = (size, True, False)
        design(self).font = self._font_spec  # restyle calls setFont: repaint at the new scale
        self.values = np.zeros((0, 0), int)
        self.dark = np.zeros((0, 0), bool)  # cells that get dark text (on bright backgrounds)

    def setFont(self, f: QtGui.QFont) -> None:  # noqa: N802 (restyle calls it like a TextItem's)
        self.update()

    def set_values(self, values: np.ndarray, dark: np.ndarray) -> None:
        self.values, self.dark = np.asarray(values, int), np.asarray(dark, bool)
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt API)
        rows, cols = self.values.shape
        return QtCore.QRectF(0, 0, cols, rows)

    def paint(self, p: QtGui.QPainter, *args: object) -> None:
        rows, cols = self.values.shape
        if not rows:
            return
        tr = p.transform()
        p.resetTransform()
        p.setFont(font(*self._font_spec))
        light, dark = QtGui.QColor(theme.TEXT), QtGui.QColor(theme.BG)
        box = theme.px(60)
        for r in range(rows):
            for c in range(cols):
                centre = tr.map(QtCore.QPointF(c + 0.5, r + 0.5))
                p.setPen(dark if self.dark[r, c] else light)
                p.drawText(QtCore.QRectF(centre.x() - box / 2, centre.y() - box / 2, box, box),
                           QtCore.Qt.AlignmentFlag.AlignCenter, str(self.values[r, c]))


def bars(color: str, alpha: int = 255) -> pg.BarGraphItem:
    """A single-brush bar item (the fast path); update with set_bars."""
    item = pg.BarGraphItem(x=[], height=[], width=0.7, brush=pg.mkBrush(theme.rgba(color, alpha)),
                           pen=pg.mkPen(None))
    return item


class Panel(QtWidgets.QFrame):
    """A titled dark panel: title line (with an optional right-hand note), a subtitle of a fixed number
    of lines (so changing it never resizes the plots below: a resize costs a full re-render), the body."""

    ranges: RangeQueue = IMMEDIATE  # the window gives each panel its own queue

    def __init__(self, title: str, subtitle: str = "", parent: QtWidgets.QWidget | None = None,
                 subtitle_lines: int = 2) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 2, (8, 4, 8, 6))
        head = QtWidgets.QHBoxLayout()
        spacing(head, 8)
        self.title = QtWidgets.QLabel(title)
        self.title.setObjectName("title")
        self.note = QtWidgets.QLabel("")
        self.note.setObjectName("title")
        self.note.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.note)
        lay.addLayout(head)
        self.subtitle = QtWidgets.QLabel(subtitle)
        self.subtitle.setObjectName("subtitle")
        self.subtitle.setWordWrap(True)
        self.subtitle.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.subtitle.setVisible(subtitle_lines > 0)
        if subtitle_lines:
            caption_lines(self.subtitle, subtitle_lines)
        lay.addWidget(self.subtitle)
        self.body = QtWidgets.QVBoxLayout()
        spacing(self.body, 4, (0, 0, 0, 0))
        lay.addLayout(self.body, 1)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API)
        """Word-wrapped captions must not make the panel claim height: stretch factors decide."""
        return False

    def add(self, widget: QtWidgets.QWidget, stretch: int = 1) -> QtWidgets.QWidget:
        self.body.addWidget(widget, stretch)
        return widget

    def set_subtitle(self, text: str) -> None:
        if text != self.subtitle.text():
            self.subtitle.setText(text)

    def set_note(self, text: str, color: str = theme.TEXT) -> None:
        """The title line's right-hand note; its colour goes in the rich text (changing a widget's
        style sheet re-polishes it, which costs milliseconds)."""
        set_text(self.note, f"<span style='color:{color}'>{text}</span>")


def caption_lines(label: QtWidgets.QLabel, lines: int, size: int = theme.TICK_PX) -> None:
    """Give a word-wrapped caption room for exactly `lines` lines of `size` px text."""
    set_size(label, fixed_h=round(lines * size * 1.36) + 2)


def set_text(label: QtWidgets.QLabel, text: str) -> None:
    """setText only when the text changed (a changed label repaints and may re-layout)."""
    if label.text() != text:
        label.setText(text)
