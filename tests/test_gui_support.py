"""Fixtures and helpers shared by the GUI tests (this module holds no tests of its own).

The GUI tests drive the real main window offscreen (tests/conftest.py selects the platform) on a model
with random +/-1 weights saved to a temporary file, so they do not depend on the trained model, and with
settings in a temporary file, so they never touch the user's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from convsram.core.network import save_model
from convsram.core.session import Session
from tests.helpers import random_model

# Notices of the offscreen test platform itself (it cannot raise windows or resize them natively);
# they are not warnings about the app.
PLATFORM_NOTICES = ("This plugin does not support",)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(random_model(), tmp_path_factory.mktemp("model") / "random.npz")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "settings.ini"
    monkeypatch.setenv("CONVSRAM_SETTINGS", str(path))
    return path


def qt_problems(qtlog: object) -> list[str]:
    """Qt warnings (and worse) captured by pytest-qt, minus the offscreen platform's notices."""
    from PySide6 import QtCore

    bad = []
    for rec in qtlog.records:  # type: ignore[attr-defined]
        if rec.type == QtCore.QtMsgType.QtDebugMsg or rec.type == QtCore.QtMsgType.QtInfoMsg:
            continue
        if any(rec.message.startswith(n) for n in PLATFORM_NOTICES):
            continue
        bad.append(rec.message)
    return bad


def header_count(session, frame) -> str:
    """What the header's count must say: invocations counted among the image's invocations, digital
    steps among its digital steps (not steps of either kind as 'invocation N / all steps')."""
    kinds = [p.invocation for p in session.places]
    done = sum(kinds[:frame.index + 1])
    if frame.place.invocation:
        return f"invocation {done:,} / {sum(kinds):,}"
    return f"digital step {frame.index + 1 - done:,} / {len(kinds) - sum(kinds):,}"


@pytest.fixture
def no_qt_warnings(qtlog: object) -> Iterator[None]:
    yield
    assert qt_problems(qtlog) == []


@pytest.fixture
def window(qtbot: object, model_path: Path, no_qt_warnings: None) -> Iterator[object]:
    """The main window on the random model and the shipped MNIST test set, shown at 1280x720, paused."""
    from convsram.gui.main_window import MainWindow

    session = Session.open(model_path)
    win = MainWindow(session, model_path=model_path)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.resize(1280, 720)
    win.apply_scale()
    win.show()
    qtbot.waitExposed(win)  # type: ignore[attr-defined]
    win.activateWindow()
    win.refresh()
    yield win
    win.close()


@pytest.fixture
def lab(window: object, qtbot: object) -> Iterator[object]:
    """The chip lab of `window`, shown at 1280x720 and up to date; its background work stopped after."""
    from convsram.gui.lab.actions import lab_for

    window.do("chip_lab")  # type: ignore[attr-defined]
    lab = lab_for(window)  # type: ignore[arg-type]
    qtbot.waitExposed(lab)  # type: ignore[attr-defined]
    lab.resize(1280, 720)
    lab.refresh()
    yield lab
    lab.shutdown()
    lab.close()


def view_state(win: object) -> dict[str, object]:
    """Everything the views show, as plain data: label texts and the data of every plot item."""
    import pyqtgraph as pg
    from PySide6 import QtWidgets

    state: dict[str, object] = {}
    for i, lab in enumerate(win.findChildren(QtWidgets.QLabel)):  # type: ignore[attr-defined]
        if lab.window() is win and lab.parent() is not win.statusBar():  # type: ignore[attr-defined]
            state[f"label{i}"] = lab.text()
    for i, pw in enumerate(win.findChildren(pg.PlotWidget)):  # type: ignore[attr-defined]
        for j, item in enumerate(pw.getPlotItem().items):
            key = f"plot{i}.{j}.{type(item).__name__}"
            if isinstance(item, pg.BarGraphItem):
                state[key] = {k: np.asarray(item.opts.get(k)).copy() for k in ("x", "x0", "y", "y0", "height",
                                                                                 "width")}
            elif isinstance(item, pg.ImageItem):
                state[key] = None if item.image is None else np.array(item.image)
            elif isinstance(item, pg.ScatterPlotItem | pg.PlotCurveItem | pg.PlotDataItem):
                x, y = item.getData()
                state[key] = (None if x is None else np.array(x), None if y is None else np.array(y))
    return state


def assert_same_state(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, dict):
            for kk in va:
                np.testing.assert_array_equal(va[kk], vb[kk], err_msg=f"{k}.{kk}")  # type: ignore[index]
        elif isinstance(va, tuple):
            for x, y in zip(va, vb, strict=True):  # type: ignore[arg-type]
                np.testing.assert_array_equal(x, y, err_msg=k)
        elif isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb, err_msg=k)
        else:
            assert va == vb, k
