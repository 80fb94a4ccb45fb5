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


class DigitalTable(QtWidgets.QLabel):
    """The table of a layer's digital step, as many filters as fit (the rest counted below)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignHCenter)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored)
        self.values: LayerOpValues | None = None
        self.header: list[str] = []
        self.rows: list[list[str]] = []  # the rows on screen

    def show_values(self, values: LayerOpValues) -> None:
        self.values = values
        self._render()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.values is not None:
            self._render()

    def _render(self) -> None:
        values = self.values
        assert values is not None
        header, rows = table_rows(values)
        size = theme.TICK_PX
        line = QtGui.QFontMetricsF(font(size)).height() + 2
        long_rows = values.op == "sum" and len(values.tiles) > MAX_TILE_COLUMNS
        per_row = 2 if long_rows else 1  # a long sum wraps
        if self.wordWrap() != long_rows:  # wrapping lays the rich text out again for every height asked:
            self.setWordWrap(long_rows)  # ~13 ms more per frame of fast playback; only a long sum needs it
        fit = max(1, int(self.height() / line) - 2) // per_row
        shown = rows if len(rows) <= fit else rows[:max(fit - 1, 1)]
        self.header, self.rows = header, shown
        clipped = values.clipped
        cells = []
        head = "".join(f"<th style='padding:0 5px; color:{theme.TEXT_DIM}; font-weight:normal'>{h}</th>"
                       for h in header)
        for r in shown:
            j = int(r[0])
            tds = []
            for k, c in enumerate(r):
                color = theme.TEXT if k == len(r) - 1 else theme.TEXT_DIM
                weight = "bold" if k == len(r) - 1 else "normal"
                if k == len(r) - 1 and values.op == "requant" and clipped[j]:
                    # above the largest code: saturated; below 0: the ReLU, by design (dimmed)
                    color = theme.SATURATED if values.rounded[j] > values.max_code else theme.TEXT_DIM
                tds.append(f"<td align='right' style='padding:0 5px; color:{color}; font-weight:{weight}'>"
                           f"{c}</td>")
            cells.append(f"<tr>{''.join(tds)}</tr>")
        more = len(rows) - len(shown)
        tail = (f"<p style='color:{theme.TEXT_DIM}; margin:2px'>… and {more} more "
                f"{'classes' if values.output else 'filters'}</p>" if more else "")
        note = ""
        if values.op == "requant" and clipped.any():
            low, high = int((values.rounded < 0).sum()), int((values.rounded > values.max_code).sum())
            said = [f"{low} below 0 → 0 (the ReLU)"] * bool(low) + [
                f"<span style='color:{theme.SATURATED}'>{high} above {values.max_code} → {values.max_code}"
                "</span>"] * bool(high)
            note = f"<p style='color:{theme.TEXT_DIM}; margin:2px'>clipped: {', '.join(said)}</p>"
        self.setText(f"<div style='font-size:{theme.px(size)}px'><table cellspacing='0'>"
                     f"<tr>{head}</tr>{''.join(cells)}</table>{tail}{note}</div>")

    def clear_values(self) -> None:
        self.values = None
        self.header, self.rows = [], []
        self.setText("")


def shown_filters(table: DigitalTable) -> np.ndarray:
    """The filters whose rows are on screen."""
    return np.array([int(r[0]) for r in table.rows], dtype=int)
