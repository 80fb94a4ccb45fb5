"""The live window shows what a fresh render of the same frame shows: played (clock-driven) across a
layer change and an image change at three window sizes, the picture of the window that has been
playing equals, pixel for pixel, the picture of a window opened fresh on the same session state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core.session import Session
from convsram.gui.app import Position, snapshot
from convsram.gui.export import save_png

pytest_plugins = ["tests.test_gui_support"]
SIZES = [(1920, 1080), (1600, 950), (1366, 768)]
TICK_S = 0.016  # the display loop's period


def build(session: Session, size: tuple[int, int]):
    """A main window on `session` laid out at `size`, offscreen, the way `convsram snapshot` builds one."""
    from convsram.gui.main_window import MainWindow

    app = QtWidgets.QApplication.instance()
    win = MainWindow(session, remember=False)
    win.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    win.resize(*size)
    win.apply_scale()
    win.show()
    for _ in range(3):
        app.processEvents()
    win.refresh()
    app.processEvents()
    return win


def picture(win, path: Path, size: tuple[int, int]) -> np.ndarray:
    """The window through the export path (grab, PNG of exactly `size`), read back as (h, w, 4) bytes."""
    QtWidgets.QApplication.instance().processEvents()
    save_png(win, path, size)
    img = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, :img.width() * 4].reshape(img.height(), img.width(), 4).copy()


def fresh_picture(session: Session, path: Path, size: tuple[int, int]) -> np.ndarray:
    win = build(session, size)
    try:
        return picture(win, path, size)
    finally:
        win.close()
        win.deleteLater()


class Clock:
    """The display loop driven by a fake clock: each tick the player moves the session on for the
    elapsed time and the window renders what changed, as the real loop does 60 times a second."""

    def __init__(self, win) -> None:
        self.win, self.now = win, 100.0
        win.pacer.timer.stop()  # no real-time ticks: this clock drives the loop

    def tick(self) -> None:
        self.now += TICK_S
        self.win.pacer.tick(self.now)
        QtWidgets.QApplication.instance().processEvents()

    def play_until(self, done, max_ticks: int = 5000) -> None:
        self.win.player.set_playing(True)
        for _ in range(max_ticks):
            if done():
                break
            self.tick()
        self.win.player.set_playing(False)
        self.tick()  # paused: the view catches up with every deferred change
        assert done(), (self.win.session.image, self.win.session.frame, self.win.player.waiting)


def differing(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape
    return int(np.any(a != b, axis=-1).sum())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_window_equals_a_fresh_render_across_layer_and_image_changes(size, qapp, model_path, tmp_path,
                                                                           no_qt_warnings):
    s = Session.open(model_path)
    s.run("goto", 3)
    conv2 = s.current.layer_start[1]
    s.run("frame", conv2 - 16)  # near the end of conv1
    win = build(s, size)
    clock = Clock(win)
    try:
        win.player.set_speed(250)  # 4 invocations a tick
        clock.play_until(lambda: s.frame >= conv2 + 44)  # into conv2
        live = picture(win, tmp_path / "live1.png", size)
        fresh = fresh_picture(s, tmp_path / "fresh1.png", size)
        assert differing(live, fresh) == 0, "after the layer change"

        s.run_image(4)  # the next image is simulated (the prefetcher's job; here without waiting for it)
        win.player.hold_s = 0.05
        win.player.set_speed(2500)
        clock.play_until(lambda: s.image == 4 and s.frame >= 300)  # through the answer into image 4, conv1
        live = picture(win, tmp_path / "live2.png", size)
        fresh = fresh_picture(s, tmp_path / "fresh2.png", size)
        assert differing(live, fresh) == 0, "after the image change"
    finally:
        win.close()
        win.deleteLater()


def test_record_from_conv1_equals_a_snapshot_of_conv2(qapp, model_path, tmp_path, no_qt_warnings):
    """The issue's reproduction: step from the end of conv1's pooling (a digital step) into conv2 in a
    window laid out once, as `convsram record` does, and compare with `convsram snapshot` of the same
    frame."""
    size = (1280, 720)
    s = Session.open(model_path)
    s.run("goto", 3)
    s.run("frame", s.current.layer_start[1] - 16)
    win = build(s, size)
    try:
        for _ in range(2):
            s.run("step", 30)
            win.refresh()
            QtWidgets.QApplication.instance().processEvents()
        assert s.frame == s.current.layer_start[1] + 44
        live = picture(win, tmp_path / "live.png", size)
    finally:
        win.close()
        win.deleteLater()
    out = snapshot(tmp_path / "snap.png", size, Position(3, "conv2", 44), model=model_path)
    img = QtGui.QImage(str(out)).convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    snap = arr[:, :img.width() * 4].reshape(img.height(), img.width(), 4)
    assert differing(live, snap) == 0


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_demo_equals_a_fresh_demo_across_a_layer_change(size, qapp, model_path, tmp_path,
                                                              no_qt_warnings):
    from convsram.gui.demo.run import build_demo

    s = Session.open(model_path)
    s.run("goto", 3)
    conv2 = s.current.layer_start[1]
    s.run("frame", conv2 - 16)
    demo = build_demo(s, size)
    clock = Clock(demo)
    try:
        demo.player.set_speed(250)
        clock.play_until(lambda: s.frame >= conv2 + 44)
        live = picture(demo, tmp_path / "live.png", size)
        fresh_demo = build_demo(s, size)
        try:
            fresh = picture(fresh_demo, tmp_path / "fresh.png", size)
        finally:
            fresh_demo.close()
            fresh_demo.deleteLater()
        assert differing(live, fresh) == 0
    finally:
        demo.close()
        demo.deleteLater()
