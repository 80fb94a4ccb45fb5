"""Ideal mode (Ctrl+I, the chip lab's "Ideal chip / this chip", the `ideal` script command) has one
meaning: this chip's operating point with every non-ideality off, and back to exactly the previous chip."""

from __future__ import annotations

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.session import Session
from tests.helpers import random_model
from tests.test_session import small_data

pytest_plugins = ["tests.test_gui_support"]

MINE = ChipConfig(dac_lsb=2e-3, comparator_offset_sigma=5e-4, cap_mismatch_sigma=0.03)


def test_ideal_keeps_the_operating_point_and_comes_back_to_the_same_chip():
    s = Session(random_model(), small_data(), MINE, seed=3)
    s.run("frame", 40)
    before = s.current_frame().codes.copy()
    s.run("ideal", True)
    assert s.config.is_ideal() and s.config.dac_lsb == 2e-3 and s.config == MINE.idealised()
    f = s.current_frame()
    np.testing.assert_array_equal(f.codes, f.ideal_codes)
    for rec in s.current.records.values():
        np.testing.assert_array_equal(rec.codes, rec.ideal_codes)
    s.run("ideal", True)  # again: still remembers the chip before the first
    s.run("ideal", False)
    assert s.config == MINE and s.seed == 3 and s.before_ideal is None
    np.testing.assert_array_equal(s.current_frame().codes, before)  # the same chip, the same noise


def test_a_knob_moved_in_ideal_mode_is_the_new_chip():
    s = Session(random_model(), small_data(), MINE)
    s.run("ideal", "on")
    s.set_chip(s.config.with_(comparator_offset_sigma=1e-4))
    assert s.before_ideal is None and not s.config.is_ideal()


def test_off_after_an_ideal_preset_gives_nominal_non_idealities_at_the_same_operating_point():
    s = Session(random_model(), small_data(), ChipConfig.ideal(dac_lsb=2e-3))
    s.run("ideal", "off")
    assert s.config == ChipConfig(dac_lsb=2e-3)


def test_ctrl_i_and_the_lab_toggle_are_one_mode_shown_by_a_badge(window, qtbot):
    from PySide6 import QtCore

    from convsram.gui.lab.actions import lab_for

    ctrl_i = lambda: qtbot.keyClick(window, QtCore.Qt.Key.Key_I, QtCore.Qt.KeyboardModifier.ControlModifier)  # noqa: E731
    assert window.set_chip(MINE)
    window.command("frame", 700)
    badge = window.ideal_badge
    assert not badge.isVisible()
    ctrl_i()
    s, f = window.session, window.frame
    assert s.config == MINE.idealised() and window.named_actions["ideal"].isChecked()
    np.testing.assert_array_equal(f.codes, f.ideal_codes)
    assert badge.isVisible() and "IDEAL CHIP" in badge.text() and "back to this chip" in badge.text()
    assert badge.geometry().width() > window.width() // 2  # a banner across the window, not a footnote
    ctrl_i()
    assert s.config == MINE and not badge.isVisible() and not window.named_actions["ideal"].isChecked()
    # the lab's toggle: the same mode, and Ctrl+I takes it back
    window.do("chip_lab")
    lab = lab_for(window)
    qtbot.mouseClick(lab.knobs.ideal_toggle, QtCore.Qt.MouseButton.LeftButton)
    assert s.config == MINE.idealised() and badge.isVisible()
    ctrl_i()
    lab.refresh()
    assert s.config == MINE and not lab.knobs.ideal_toggle.isChecked()
    lab.shutdown()
    lab.close()
