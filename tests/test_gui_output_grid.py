"""The output and input panels' grids of feature maps fit the plots they are drawn in: at each screen
size, across layer and stage changes, and after a resize that brings no new frame (a 2:1 grid left a
1366x768 output panel's maps a third smaller than they fit; the input panel's 0.8:1 grid drew 32 maps
8 high in a box that fits them 6 x 6 a fifth larger)."""

from __future__ import annotations

import math

import pytest
from PySide6 import QtWidgets

from convsram.core.session import Session
from convsram.gui.views.mosaic import GAP, fit_columns

pytest_plugins = ["tests.test_gui_support"]  # fixtures: model_path, no_qt_warnings

SIZES = [(1920, 1080), (1600, 950), (1366, 768)]
STAGES = ("conv1", "pool1", "conv2", "fc")


def _map_px_vs_best(view) -> float:
    """The on-screen size of one map, as drawn, over the largest any grid of the maps could give in
    the plot (1.0: the best grid). `view`: the output or the input panel."""
    h, w, c = view.grid.shape
    vb = view.maps_plot.getPlotItem().vb
    best = max(min(vb.width() / (cols * (w + GAP)), vb.height() / (math.ceil(c / cols) * (h + GAP)))
               for cols in range(1, c + 1))
    image = view.maps.mapRectToDevice(view.maps.boundingRect())  # the mosaic, in device pixels
    rows = math.ceil(c / view._cols)
    shown = min(image.width() / (view._cols * (w + GAP) - GAP), image.height() / (rows * (h + GAP) - GAP))
    return shown / best


def _go(win, session: Session, stage: str) -> None:
    session.run("frame", session.current.stage_start[session.stage_names().index(stage)] + 5)
    win.refresh()
    for _ in range(3):
        QtWidgets.QApplication.processEvents()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_maps_are_as_large_as_the_plot_allows_at_each_size_and_stage(size, qapp, model_path,
                                                                         no_qt_warnings):
    from tests.test_gui_live import build

    session = Session.open(model_path)
    win = build(session, size)
    try:
        seen = set()
        for stage in STAGES + STAGES[:1]:  # and back to the first
            _go(win, session, stage)
            view = win.output_view
            seen.add(view.values.shape)
            if stage == "fc":  # the last conv layer's maps: not "= fc input" (pooled, or added, first)
                assert view.title.text().endswith("conv2</span> output, finished")
            # within the 5 % a full last row may cost, and the view box's own padding
            assert _map_px_vs_best(view) >= 0.93, (stage, view._cols)
        assert len(seen) >= 2  # the stages showed maps of different shapes
    finally:
        win.close()
        win.deleteLater()


def test_a_resize_regrids_the_maps_on_screen_without_a_new_frame(qapp, model_path, no_qt_warnings):
    from tests.test_gui_live import build

    session = Session.open(model_path)
    win = build(session, SIZES[0])
    try:
        _go(win, session, "conv2")
        frame, view = session.frame, win.output_view
        wide = view._cols
        win.resize(*SIZES[-1])
        win.apply_scale()
        for _ in range(5):
            QtWidgets.QApplication.processEvents()
        assert session.frame == frame
        assert view._cols != wide  # the shorter panel wants a wider grid of conv2's 32 maps
        assert _map_px_vs_best(view) >= 0.93
    finally:
        win.close()
        win.deleteLater()


@pytest.mark.parametrize(("channels", "h", "w", "box", "cols"), [
    (32, 6, 6, (400, 70), 16),  # a wide, short plot: two rows
    (32, 6, 6, (400, 400), 6),  # a square one: 6 x 6 with a ragged last row, a third larger than 8 x 4
    (32, 6, 6, (400, 260), 8),  # 8 x 4, full, rather than 7 x 5 with a ragged row for 4 % more
    (16, 12, 12, (390, 90), 8),
    (1, 5, 5, (10, 300), 1),
])
def test_fit_columns(channels, h, w, box, cols):
    assert fit_columns(channels, h, w, *box) == cols


@pytest.mark.parametrize("demo", [False, True], ids=["dashboard", "demo"])
def test_a_ragged_rows_empty_cells_show_the_background_not_a_map_still_to_come(demo, qapp, model_path,
                                                                              no_qt_warnings):
    """conv2's 32 maps fit best 11 to a row at 1920x1080: the last row's empty cell must not look like
    a 33rd map not computed yet (the grey of NOT_YET)."""
    from PySide6 import QtCore

    from convsram.gui.views.colormaps import NOT_YET
    from tests.test_gui_live import build

    session = Session.open(model_path)
    if demo:
        from convsram.gui.demo import DemoWindow

        win = DemoWindow(session)
        win.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        win.resize(*SIZES[0])
        win.show()
        QtWidgets.QApplication.processEvents()
    else:
        win = build(session, SIZES[0])
    try:
        _go(win, session, "conv2")
        view = win.output_view
        h, w, c = view.values.shape
        cols = view._cols
        rows = math.ceil(c / cols)
        assert rows * cols > c, "expected a ragged last row at this size"
        vb = view.maps_plot.getPlotItem().vb
        picture = view.maps_plot.grab().toImage()

        def colour(x: float, y: float) -> tuple[int, int, int]:
            at = view.maps_plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, y)))
            pixel = picture.pixelColor(at)
            return pixel.red(), pixel.green(), pixel.blue()

        background = view.maps_plot.backgroundBrush().color()
        empty = colour((cols - 0.5) * (w + GAP), (rows - 0.5) * (h + GAP))
        assert empty == (background.red(), background.green(), background.blue())
        # while the last map's cells not computed yet keep the grey
        last = c - 1 - (rows - 1) * cols  # its column
        assert colour((last + 0.5) * (w + GAP), (rows - 0.5) * (h + GAP)) == tuple(NOT_YET)
    finally:
        win.close()
        win.deleteLater()



@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_input_maps_are_as_large_as_their_plot_allows(size, qapp, model_path, no_qt_warnings):
    from tests.test_gui_live import build

    session = Session.open(model_path)
    win = build(session, size)
    try:
        view = win.input_view
        for stage in ("conv2", "pool2", "fc", "conv1", "fc"):  # conv1: its window of numbers, no grid
            _go(win, session, stage)
            if stage == "conv1":
                assert view.grid.shape is None and not view.grid.blank.isVisible()
                continue
            assert _map_px_vs_best(view) >= 0.93, (stage, view._cols)
    finally:
        win.close()
        win.deleteLater()
