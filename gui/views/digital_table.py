"""A weight layer's own digital step as a small table (the input panel shows it in place of the maps):
the tile sum (each filter's partial codes from its row tiles and their total P) or the requantisation
(P, α·P + β, rounded, clipped to the next layer's input code; the output layer: the class scores).
The numbers come from core.session.Session.layer_op_values; this view only lays them out."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core.session import LayerOpValues
from convsram.gui import theme
from convsram.gui.views.plotting import font

MAX_TILE_COLUMNS = 4  # more tiles than this are written as one sum ("a + b + …") in one cell


def _n(v: float) -> str:
    return str(int(v)).replace("-", "−")


def _f(v: float) -> str:
    return f"{v:.2f}".replace("-", "−")


def table_rows(values: LayerOpValues) -> tuple[list[str], list[list[str]]]:
    """(header, one row of cells per filter) of the step, as plain text."""
    unit = "class" if values.output else "filter"
    if values.op == "sum":
        t = len(values.tiles)
        if t <= MAX_TILE_COLUMNS:
            head = [unit, *(f"tile {k + 1}" for k in range(t)), "= P"]
            rows = [[str(j), *(_n(c) for c in values.tiles[:, j]), _n(values.total[j])]
                    for j in range(values.total.size)]
        else:
            head = [unit, f"{t} tiles' codes", "= P"]
            rows = [[str(j), " + ".join(_n(c) for c in values.tiles[:, j]), _n(values.total[j])]
                    for j in range(values.total.size)]
        return head, rows
    if values.output:
        head = [unit, "P", "α·P + β = score"]
        return head, [[str(j), _n(values.total[j]), _f(values.scaled[j])] for j in range(values.total.size)]
    head = [unit, "P", "α·P + β", "round", f"code 0–{values.max_code}"]
    return head, [[str(j), _n(values.total[j]), _f(values.scaled[j]), _n(values.rounded[j]),
                   _n(values.out[j])] for j in range(values.total.size)]


Segment = tuple[str, str, bool]  # text, colour, bold


class DigitalTable(QtWidgets.QWidget):
    """The table of a layer's digital step, as many filters as fit (the rest counted below).

    Painted directly, cell by cell: as a rich-text label the table was laid out again as a text
    document on every change and paint (~10 ms a frame of fast playback; issue 8)."""

    PAD = 5  # design pixels each side of a cell

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored)
        self.values: LayerOpValues | None = None
        self.header: list[str] = []
        self.rows: list[list[str]] = []  # the rows on screen
        self._cells: list[list[Segment]] = []  # header first, then each row's cells
        self._notes: list[list[Segment]] = []  # lines under the table ("… and 6 more filters", clipping)
        self._widths_px: list[float] = []  # each column's width
        self._wrap = False  # a long sum too wide for one line: each sum on a line under its filter

    def show_values(self, values: LayerOpValues) -> None:
        self.values = values
        self._render()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.values is not None:
            self._render()

    def _line(self) -> float:
        return QtGui.QFontMetricsF(font(theme.TICK_PX)).height() + 2

    def _render(self) -> None:
        values = self.values
        assert values is not None
        header, rows = table_rows(values)
        clipped = values.clipped
        cells: list[list[Segment]] = [[(h, theme.TEXT_DIM, False) for h in header]]
        for r in rows:
            j = int(r[0])
            color = theme.TEXT
            if values.op == "requant" and clipped[j]:
                # above the largest code: saturated; below 0: the ReLU, by design (dimmed)
                color = theme.SATURATED if values.rounded[j] > values.max_code else theme.TEXT_DIM
            cells.append([*((c, theme.TEXT_DIM, False) for c in r[:-1]), (r[-1], color, True)])
        widths = self._widths(cells)
        # a long sum that does not fit beside its filter and total takes a line of its own
        long_sums = values.op == "sum" and len(values.tiles) > MAX_TILE_COLUMNS
        self._wrap = long_sums and sum(widths) > self.width()
        if self._wrap:
            widths = self._widths(cells, skip=len(header) - 2)
        fit = max(1, int(self.height() / self._line()) - 2) // (2 if self._wrap else 1)
        shown = rows if len(rows) <= fit else rows[:max(fit - 1, 1)]
        self.header, self.rows = header, shown
        self._cells, self._widths_px = cells[:len(shown) + 1], widths
        notes: list[list[Segment]] = []
        more = len(rows) - len(shown)
        if more:
            notes.append([(f"… and {more} more {'classes' if values.output else 'filters'}", theme.TEXT_DIM,
                           False)])
        if values.op == "requant" and clipped.any():
            low, high = int((values.rounded < 0).sum()), int((values.rounded > values.max_code).sum())
            line: list[Segment] = [("clipped: ", theme.TEXT_DIM, False)]
            if low:
                line.append((f"{low} below 0 → 0 (the ReLU)" + (", " if high else ""), theme.TEXT_DIM, False))
            if high:
                line.append((f"{high} above {values.max_code} → {values.max_code}", theme.SATURATED, False))
            notes.append(line)
        self._notes = notes
        self.update()

    def _widths(self, cells: list[list[Segment]], skip: int | None = None) -> list[float]:
        """Each column's width in pixels (a cell's text and its padding); `skip`: a column whose body
        cells go on lines of their own (only its header counts)."""
        metrics = {b: QtGui.QFontMetricsF(font(theme.TICK_PX, bold=b)) for b in (False, True)}
        pad = 2 * theme.px(self.PAD)
        widths = [0.0] * len(cells[0])
        for r, row in enumerate(cells):
            for k, (text, _, bold) in enumerate(row):
                if not (r and k == skip):
                    widths[k] = max(widths[k], metrics[bold].horizontalAdvance(text) + pad)
        return widths

    def clear_values(self) -> None:
        self.values = None
        self.header, self.rows, self._cells, self._notes = [], [], [], []
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt API)
        if not self._cells:
            return
        p = QtGui.QPainter(self)
        fonts = {False: font(theme.TICK_PX), True: font(theme.TICK_PX, bold=True)}
        metrics = {b: QtGui.QFontMetricsF(f) for b, f in fonts.items()}
        pad, line, widths = theme.px(self.PAD), self._line(), self._widths_px
        own_line = len(widths) - 2 if self._wrap else None  # the long sum's column
        left = max(0.0, (self.width() - sum(widths)) / 2)
        right = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        y = 0.0
        for r, row in enumerate(self._cells):
            x = left
            for k, (text, color, bold) in enumerate(row):
                p.setFont(fonts[bold])
                p.setPen(QtGui.QColor(color))
                if r and k == own_line:  # under its filter, as wide as the table (elided if wider)
                    span = max(sum(widths), self.width() - 2 * left) - 2 * pad
                    p.drawText(QtCore.QPointF(left + pad, y + line + metrics[bold].ascent() + 1),
                               metrics[bold].elidedText(text, QtCore.Qt.TextElideMode.ElideRight, span))
                else:
                    p.drawText(QtCore.QRectF(x + pad, y, widths[k] - 2 * pad, line), right, text)
                x += widths[k]
            y += line * (2 if r and own_line is not None else 1)
        for segments in self._notes:
            x = left + pad
            for text, color, bold in segments:
                p.setFont(fonts[bold])
                p.setPen(QtGui.QColor(color))
                p.drawText(QtCore.QPointF(x, y + metrics[bold].ascent() + 1), text)
                x += metrics[bold].horizontalAdvance(text)
            y += line
        p.end()


def shown_filters(table: DigitalTable) -> np.ndarray:
    """The filters whose rows are on screen."""
    return np.array([int(r[0]) for r in table.rows], dtype=int)
