"""No tick label of a dashboard plot is cut by its plot's edge, across layer and image changes and at
each screen size (a tick at the very top of a range, 1.01 V on the line pair or code 50 on the ADC
codes, had the top half of its label cut off)."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core.session import Session

pytest_plugins = ["tests.test_gui_support"]  # fixtures: model_path, no_qt_warnings

SIZES = [(1920, 1080), (1600, 950), (1366, 768)]


def _cut_labels(win) -> list[tuple[str, str]]:
    """(plot's object path, label) of every drawn tick label reaching outside its plot widget."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    cut = []
    try:
        for w in win.findChildren(pg.PlotWidget):
            if not w.isVisible():
                continue
            inside = QtCore.QRectF(w.rect())
            for name in ("left", "bottom"):
                axis = w.getPlotItem().getAxis(name)
                if not axis.isVisible():
                    continue
                specs = axis.generateDrawSpecs(painter)
                if specs is None:
                    continue
                for rect, _, text in specs[2]:
                    in_view = w.mapFromScene(axis.mapToScene(rect)).boundingRect()
                    # half a pixel of antialiasing either side
                    if not QtCore.QRectF(inside).adjusted(-1, -1, 1, 1).contains(QtCore.QRectF(in_view)):
                        cut.append((w.parent().objectName() or type(w.parent()).__name__, text))
    finally:
        painter.end()
    return cut


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_tick_label_is_cut_by_its_plot(size, qapp, model_path, no_qt_warnings):
    from tests.test_gui_live import build

    session = Session.open(model_path)
    win = build(session, size)
    try:
        for image in (0, 3, 7):
            for stage in ("conv1", "conv2", "conv2.requant", "fc"):
                session.run("goto", image)
                session.run("frame", session.current.stage_start[session.stage_names().index(stage)] + 7)
                win.refresh()
                for _ in range(3):
                    QtWidgets.QApplication.processEvents()
                assert _cut_labels(win) == [], (image, stage)
    finally:
        win.close()
        win.deleteLater()
