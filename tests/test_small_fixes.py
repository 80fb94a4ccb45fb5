"""Small things a user saw: the eval report names every chip preset, the class-score placeholder is not
struck through, the recent-answers row fits its panel, the help's scroll bar is dark."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui

from convsram.cli import main
from convsram.gui import theme

pytest_plugins = ["tests.test_gui_support"]


def test_eval_names_every_preset(model_path, capsys):
    for chip in ("calibrated", "uncalibrated", "harsh", "ideal", "nominal"):
        assert main(["eval", "--model", str(model_path), "--images", "20", "--chip", chip]) == 0
        shown = "calibrated" if chip == "nominal" else chip  # nominal is the old name of calibrated
        assert f"chip              {shown}, seed 0" in capsys.readouterr().out.splitlines()


def test_class_score_placeholder_is_not_struck_through(window):
    window.command("frame", 5)  # conv1: no class score yet
    window.refresh()
    view = window.output_view
    assert view.waiting.toPlainText().startswith("class scores appear")
    plot = view.scores_plot
    image = plot.grab().toImage()
    box = plot.mapFromScene(view.waiting.sceneBoundingRect()).boundingRect()
    zero_y = plot.mapFromScene(plot.getPlotItem().vb.mapViewToScene(QtCore.QPointF(0, 0))).y()
    assert box.top() < zero_y < box.bottom()  # the text sits on the zero line
    axis = QtGui.QColor(theme.AXIS)
    for y in (zero_y - 1, zero_y, zero_y + 1):
        run = best = 0
        for x in range(box.left(), box.right()):
            c = image.pixelColor(x, int(y))
            gap = abs(c.red() - axis.red()) + abs(c.green() - axis.green()) + abs(c.blue() - axis.blue())
            line_like = gap < 60
            run = run + 1 if line_like else 0
            best = max(best, run)
        assert best < 12, f"a line crosses the placeholder text at y={y} ({best} px)"


def test_recent_answers_fit_their_row(window):
    window.resize(1366, 768)
    window.apply_scale()
    window.refresh()
    s = window.session
    s.stats.history[:] = [(i, i % 10, (i * 7) % 10) for i in range(20)]
    window.command("frame", 1)  # the next frame draws the history
    window.refresh()
    label = window.result_view.history
    plain = QtGui.QTextDocument()
    plain.setHtml(label.text())
    text = plain.toPlainText()
    assert text.startswith("recent (chip/label):") and text.endswith("9/3")  # the newest is shown
    assert label.fontMetrics().horizontalAdvance(text) <= label.contentsRect().width()


def test_help_scroll_bar_is_dark(window):
    window.resize(1366, 768)
    window.apply_scale()
    window.do("shortcuts")
    bar = window.help_dialog.text.verticalScrollBar()
    assert bar.isVisible()
    image = bar.grab().toImage()
    light = np.array([[image.pixelColor(x, y).lightness() for x in range(image.width())]
                      for y in range(image.height())])
    assert (light > 200).mean() < 0.02  # it was a white bar (62 % of its pixels)
    window.help_dialog.close()
