"""The chip lab's Calibration tab, driven through the real windows offscreen: the Calibrate button shows
this chip's residual offsets before and after and each chip's accuracy before and after; cancel."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from convsram.core import calibration
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import programmed_chip

pytest_plugins = ["tests.test_gui_support"]


def test_the_calibrate_button_shows_offsets_and_accuracy_before_and_after(window, lab, qtbot):
    lab.select("calibrate")
    view = lab.views["calibrate"]
    window.command("seed", 2)
    assert view.knobs.currentText() == "uncalibrated preset"
    view.chips.setValue(3)
    view.images.setValue(20)
    qtbot.mouseClick(view.run_button, QtCore.Qt.MouseButton.LeftButton)
    assert view.running and not view.run_button.isEnabled()
    qtbot.waitUntil(lambda: not view.running, timeout=120000)
    assert view.state == "done" and [c.seed for c in view.chip_results] == [2, 3, 4]
    # the map is this chip's (seed 2, uncalibrated knobs), as core.calibration computes it
    s = window.session
    chip = Chip(ChipConfig.uncalibrated(), 2)
    amap, _ = programmed_chip(s.model, chip)
    np.testing.assert_allclose(view.before, calibration.residual_offsets_v(chip, s.model, amap))
    calibration.calibrate(chip, s.model, amap)
    np.testing.assert_allclose(view.after, calibration.residual_offsets_v(chip, s.model, amap))
    assert np.nanstd(view.after) < np.nanstd(view.before) / 5
    heights = np.asarray(view.after_bars.opts["height"])
    assert heights.size == view.result.columns.size
    np.testing.assert_allclose(np.sort(heights), np.sort(view.result.offset_after_v * 1e3))
    assert "rms" in view.map_panel.title.text() and "once per chip" in view.map_panel.subtitle.text()
    text = view.summary.text()
    assert "3</b> chips on 20 images" in text and "before" in text and "after" in text and "±" in text
    assert view.progress.value() == 3
    # the chip the other views show is not touched
    assert s.config == ChipConfig() and s.chip.correction is None


def test_calibration_can_be_cancelled_and_keeps_what_finished(window, lab, qtbot):
    lab.select("calibrate")
    view = lab.views["calibrate"]
    view.knobs.setCurrentText("this chip's knobs")
    view.start(chips=40, images=100)
    qtbot.waitUntil(lambda: len(view.chip_results) >= 1, timeout=120000)
    qtbot.mouseClick(view.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.running, timeout=120000)
    assert view.state == "cancelled" and 1 <= len(view.chip_results) < 40
    assert view.config == window.session.config
    assert view.run_button.isEnabled()


def test_snapshot_of_the_calibration_tab(tmp_path, model_path, qapp):
    from PySide6 import QtGui

    from convsram.gui.lab.snapshot import snapshot_view

    out = snapshot_view(tmp_path / "cal.png", "calibrate", size=(1280, 720), model=model_path,
                        mc_chips=2, mc_images=20)
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (1280, 720)
