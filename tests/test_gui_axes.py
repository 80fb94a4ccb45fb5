"""Every plotted axis shows the plotted values themselves (no hidden x1000 SI factor), at the three
common window sizes and after resizing from one to another, on the dashboard and in every lab view."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6 import QtGui, QtWidgets

from convsram.core.session import Session
from convsram.gui.app import Position, place_session

pytest_plugins = ["tests.test_gui_support"]

SIZES = [(1920, 1080), (1600, 950), (1366, 768), (1920, 1080)]  # the last one: after shrinking
LAB_VIEWS = ("compare", "mismatch", "errors", "waveform")


def shown_numbers(axis: pg.AxisItem) -> list[float]:
    """The numbers the axis paints as tick labels (what generateDrawSpecs hands to the painter)."""
    image = QtGui.QImage(8, 8, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    numbers = []
    for _rect, _flags, text in specs[2] if specs else []:
        try:
            numbers.append(float(text.replace("\u2212", "-")))
        except ValueError:
            pass  # a named tick (layer names, ...)
    return numbers


def axis_problems(root: QtWidgets.QWidget, where: str) -> tuple[list[str], int]:
    """Axes whose tick labels leave the axis's own range, or whose range misses the plotted data."""
    problems, checked = [], 0
    for pw in root.findChildren(pg.PlotWidget):
        if not pw.isVisible():
            continue
        plot = pw.getPlotItem()
        for item in pw.scene().items():
            if not (isinstance(item, pg.AxisItem) and item.isVisible()) or item.logMode:
                continue
            if item._tickLevels is not None:  # ticks named by the view (log scales, layer names)
                continue
            numbers = shown_numbers(item)
            if not numbers:
                continue
            checked += 1
            lo, hi = sorted(v * item.scale for v in item.range)
            slack = 0.02 * (hi - lo) + 1e-12
            name = f"{where}: {item.labelText or plot.titleLabel.text or '?'} ({item.orientation})"
            outside = [n for n in numbers if not lo - slack <= n <= hi + slack]
            if outside:
                problems.append(f"{name}: ticks {min(numbers):g}..{max(numbers):g} on a range {lo:g}..{hi:g}")
            view = item.linkedView()
            if view is not None:
                bounds = view.childrenBounds()
                axis_i = 0 if item.orientation in ("top", "bottom") else 1
                data = bounds[axis_i]
                if data is not None and (data[1] < lo - slack or data[0] > hi + slack):
                    problems.append(f"{name}: range {lo:g}..{hi:g} misses the data {data[0]:g}..{data[1]:g}")
    return problems, checked


@pytest.fixture(scope="module")
def windows(model_path, qapp):
    from convsram.gui.lab.actions import lab_for
    from convsram.gui.main_window import MainWindow

    session = Session.open(model_path)
    place_session(session, Position(0, "conv2", 266))
    main = MainWindow(session, remember=False, model_path=model_path)
    main.show()
    main.refresh()
    lab = lab_for(main)
    lab.show()
    yield main, lab
    lab.shutdown()
    lab.close()
    main.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_tick_labels_show_the_plotted_values(windows, qapp, size):
    main, lab = windows
    problems, checked = [], 0
    main.resize(*size)
    main.apply_scale()
    qapp.processEvents()
    main.refresh()
    qapp.processEvents()
    p, n = axis_problems(main, f"dashboard {size}")
    problems += p
    checked += n
    lab.resize(*size)
    lab.apply_scale()
    for view in LAB_VIEWS:
        lab.select(view)
        qapp.processEvents()
        lab.refresh()
        qapp.processEvents()
        p, n = axis_problems(lab.views[view], f"lab {view} {size}")
        problems += p
        checked += n
    assert checked >= 12  # the dashboard's and the lab's numeric axes were all looked at
    assert problems == []


def test_an_axis_range_applied_now_is_not_undone_by_an_older_one_waiting(qapp):
    """A range asked while playing waits (RangeQueue); asked again once paused, it applies at once, and
    the older request still waiting must not follow it (the line-pair axis of a paused frame kept the
    range of a frame before)."""
    from convsram.gui.views.plotting import RangeQueue

    plot = pg.PlotItem()
    queue = RangeQueue(immediate=False)
    queue.set(plot, x=(0.0, 10.0), y=(0.0, 1.0))  # playing: waits
    queue.immediate = True  # paused
    queue.set(plot, y=(5.0, 6.0))  # applied now, with the waiting x range
    queue.flush()
    assert len(queue) == 0
    (x0, x1), (y0, y1) = plot.vb.viewRange()
    assert (round(y0, 6), round(y1, 6)) == (5.0, 6.0) and (round(x0, 6), round(x1, 6)) == (0.0, 10.0)
