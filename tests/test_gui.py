"""The real main window, offscreen: views populated and showing the core's numbers, transport, keys,
playback, the answer, settings, and the window that opens when the model is missing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from convsram.core import energy
from convsram.gui import theme
from convsram.gui.transport import LAYER_PER_FRAME
from tests.test_gui_support import assert_same_state, header_count, view_state

pytest_plugins = ["tests.test_gui_support"]  # fixtures: window, model_path, no_qt_warnings, settings
Key = QtCore.Qt.Key


def press(qtbot, win, key: QtCore.Qt.Key, modifier=QtCore.Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(win, key, modifier)
    win.refresh()


def go(win, layer: int, step: int, image: int | None = None) -> None:
    s = win.session
    if image is not None:
        win.command("goto", image)
    win.command("frame", s.current.layer_start[layer] + step)
    win.refresh()


def test_opens_with_every_view_populated(window):
    s, f = window.session, window.frame
    assert window.stack.currentWidget() is window.dashboard
    assert f is not None and f.index == s.frame
    assert window.where.invocation.text() == header_count(s, f)
    assert window.input_view.digit.image is not None and window.input_view.digit.image.shape == (28, 28)
    assert window.array_view.rgb.shape == (s.config.rows, s.config.columns, 3)
    assert len(window.array_view.dac_bars.opts["x0"]) == len(f.x)
    assert len(window.lines_view.vp.getData()[1]) == len(f.v_p)
    diff_bars = len(window.diff_view.pos_bars.opts["x"]) + len(window.diff_view.neg_bars.opts["x"])
    assert diff_bars == len(f.codes)
    assert len(window.codes_view.ok.opts["x"]) + len(window.codes_view.bad.opts["x"]) == len(f.codes)
    assert window.hist_view.counts.sum() == s.current.pre_adc(f.place.layer).size
    assert window.output_view.values.shape == s.shapes[0]["conv"]
    assert window.output_view.maps.image is not None
    assert "true label" in window.result_view.truth.text()
    cells = window.energy_view.cells
    assert all(cell.text() not in ("", "-") for cell in cells.values())
    assert window.transport.scrubber.n_frames == f.n_frames
    assert "paused" in window.status_play.text()


@pytest.mark.parametrize("layer,step", [(0, 100), (1, 300), (2, 5)])
def test_views_show_the_numbers_the_core_computed(window, layer, step):
    go(window, layer, step, image=3)
    s = window.session
    f = s.frame_at()
    assert window.frame.index == f.index and f.image == 3
    assert window.where.image.text() == "image #3"
    assert window.where.invocation.text() == header_count(s, f)
    # the answer panel counts the image's steps, and says so
    assert f"layer {f.layer_name}, step {f.index + 1:,} / {f.n_frames:,}" in window.result_view.verdict.text()
    assert f"{s.model.layers[layer].name} {step + 1} / {f.layer_frames}" in window.where.detail.text()
    # DAC bars: one per active row, from V_DAC up to the precharge
    bars = window.array_view.dac_bars.opts
    np.testing.assert_array_equal(bars["x0"], f.v_dac)
    np.testing.assert_allclose(np.asarray(bars["x0"]) + np.asarray(bars["width"]), s.config.v_precharge)
    # line voltages and their difference (mV), ideal marked
    np.testing.assert_array_equal(window.lines_view.vp.getData()[1], f.v_p)
    np.testing.assert_array_equal(window.lines_view.vn.getData()[1], f.v_n)
    # (x is the ADC group of each evaluated column: one column per group per invocation)
    groups = f.place.columns // s.config.columns_per_group
    np.testing.assert_array_equal(window.lines_view.vp.getData()[0], groups)
    dv = window.diff_view
    shown = {}
    for item in (dv.pos_bars, dv.neg_bars):
        shown.update(zip(np.asarray(item.opts["x"], int).tolist(), item.opts["height"], strict=True))
    np.testing.assert_allclose([shown[g] for g in groups], f.diff * 1e3)
    np.testing.assert_allclose(dv.ideal.getData()[1][0::2], f.ideal_diff * 1e3)
    # ADC codes: green where equal to the ideal code, orange where not; ideal marked
    cv = window.codes_view
    np.testing.assert_array_equal(np.asarray(cv.ok.opts["height"]), f.codes[f.codes == f.ideal_codes])
    np.testing.assert_array_equal(np.asarray(cv.bad.opts["height"]), f.codes[f.codes != f.ideal_codes])
    np.testing.assert_array_equal(cv.ideal.getData()[1][0::2], f.ideal_codes)
    assert cv.mismatches == int((f.codes != f.ideal_codes).sum())
    # the histogram holds every conversion of the layer
    np.testing.assert_array_equal(window.hist_view.levels, s.current.pre_adc(layer))
    # output: feature maps filling in, or the fc scores building up
    if s.model.layers[layer].kind == "fc":  # the scores build up; above them, the fc layer's input maps
        np.testing.assert_array_equal(window.output_view.scores, s.partial_scores(f))
        np.testing.assert_array_equal(window.output_view.values, s.feature_map(layer - 1, f))
    else:
        np.testing.assert_array_equal(window.output_view.values, s.feature_map(layer, f))
        assert np.isnan(window.output_view.scores).all()
    # energy cells are the frame's counters
    ev = window.energy_view
    for j, values in enumerate((f.energy, f.energy_layer, f.energy_image, f.energy_session)):
        for comp in energy.COMPONENTS:
            assert ev.cells[(comp, j)].text() == theme.fmt_energy(values[comp])
    # the array lights the evaluated columns in the line colours (P for +1, N for -1)
    n = len(f.x)
    w = s.chip.weights[:n, f.place.columns]
    rgb = window.array_view.rgb[:n, f.place.columns].astype(int)
    blue_dominant = rgb[..., 2] > rgb[..., 0]
    np.testing.assert_array_equal(blue_dominant, w == 1)
    assert window.transport.scrubber.value == f.index


def test_step_forward_then_back_returns_the_same_frame(window, qtbot):
    go(window, 0, 570)
    before = view_state(window)
    frame_before = window.frame
    for _ in range(8):  # into conv2 and back
        press(qtbot, window, Key.Key_Right)
    assert window.frame.index == frame_before.index + 8
    for _ in range(8):
        press(qtbot, window, Key.Key_Left)
    after = view_state(window)
    f = window.frame
    assert f.index == frame_before.index
    for name in ("v_dac", "v_p", "v_n", "codes", "ideal_codes", "ideal_diff"):
        np.testing.assert_array_equal(getattr(f, name), getattr(frame_before, name))
    for name in ("energy", "energy_layer", "energy_image", "energy_session"):
        assert getattr(f, name) == getattr(frame_before, name)
    assert_same_state(before, after)


def test_keyboard_shortcuts(window, qtbot):
    s = window.session
    run = s.current
    press(qtbot, window, Key.Key_PageDown)  # conv1's requantisation first: a step of its own
    assert s.frame == run.stage_start[1] and window.frame.layer_name == "conv1.requant"
    press(qtbot, window, Key.Key_PageDown)  # then the pooling
    assert s.frame == run.stage_start[2] and window.frame.layer_name == "pool1"
    press(qtbot, window, Key.Key_PageDown)
    assert s.frame == run.layer_start[1]
    press(qtbot, window, Key.Key_Right)
    press(qtbot, window, Key.Key_PageUp)
    assert s.frame == run.layer_start[1]
    press(qtbot, window, Key.Key_End)
    assert s.frame == run.n_frames - 1
    press(qtbot, window, Key.Key_Home)
    assert s.frame == 0
    press(qtbot, window, Key.Key_Down)
    assert s.image == 1 and window.where.image.text() == "image #1"
    press(qtbot, window, Key.Key_Up)
    assert s.image == 0
    speed = window.player.speed
    press(qtbot, window, Key.Key_Plus)
    assert window.player.speed > speed
    press(qtbot, window, Key.Key_Minus)
    assert window.player.speed == speed
    press(qtbot, window, Key.Key_Space)
    assert window.player.playing and "Pause" in window.transport.play.text()
    press(qtbot, window, Key.Key_Space)
    assert not window.player.playing
    press(qtbot, window, Key.Key_F1)
    assert window.help_dialog is not None and window.help_dialog.isVisible()
    text = window.help_dialog.text.toPlainText()
    for key in ("Space", "Right", "Left", "PgDown", "PgUp", "Home", "End", "F1"):
        assert key in text
    window.help_dialog.close()


class Clock:
    """The display loop on a fake clock: the real timer is stopped, each tick moves time on 1/64 s
    (exact in binary, so speed x time counts whole invocations)."""

    def __init__(self, win) -> None:
        self.win, self.now = win, 50.0
        win.pacer.timer.stop()

    def tick(self, n: int = 1, dt: float = 1 / 64) -> None:
        for _ in range(n):
            self.now += dt
            self.win.pacer.tick(self.now)

    def until(self, done, max_ticks: int = 2000) -> None:
        for _ in range(max_ticks):
            if done():
                return
            self.tick()
        raise AssertionError("playback did not get there")


def test_play_advances_and_pause_stops(window):
    clock = Clock(window)
    window.player.set_speed(256)
    start = window.session.frame
    window.do("play")
    clock.tick(6)  # the first tick starts the clock; then 5/64 s at 256 steps/s: 20 steps
    assert window.session.frame == start + 20 and window.where.invocation.text().startswith("invocation 21 ")
    window.do("play")
    assert not window.player.playing
    stopped = window.session.frame
    clock.tick(10)
    assert window.session.frame == stopped
    assert window.frame.index == stopped  # the display caught up with the last step
    f = window.frame  # and every view shows that very frame (the ledger is throttled while playing)
    for j, values in enumerate((f.energy, f.energy_layer, f.energy_image, f.energy_session)):
        for comp in energy.COMPONENTS:
            assert window.energy_view.cells[(comp, j)].text() == theme.fmt_energy(values[comp])


def test_after_a_whole_image_the_answer_is_the_networks(window):
    s = window.session
    clock = Clock(window)
    window.transport.set_speed(LAYER_PER_FRAME)
    window.player.hold_s = 0.2
    window.do("play")
    clock.until(lambda: window.frame.final)
    window.do("play")
    run = s.run_image(window.frame.image)
    assert window.result_view.answer == str(run.prediction)
    assert f">{run.prediction}<" in window.result_view.predicted.text()
    assert window.result_view.truth.text() == f"true label {run.label}"
    assert ("correct" in window.result_view.verdict.text()) == (run.prediction == run.label)
    assert f"{len(s.stats.correct)} / 1" in window.result_view.accuracy.text()
    np.testing.assert_array_equal(window.output_view.scores, run.scores)


def test_playback_moves_on_to_the_next_image(window, qtbot):
    clock = Clock(window)
    window.transport.set_speed(LAYER_PER_FRAME)
    window.player.hold_s = 0.05
    window.do("play")
    clock.until(lambda: window.frame.final)
    clock.tick(4)  # the answer is held 50 ms
    assert window.session.image == 0 or window.player.waiting
    # the next image is simulated in the worker thread (not on the display's clock): wait for it
    qtbot.waitUntil(lambda: window.prefetcher.completed >= 1, timeout=10000)
    clock.until(lambda: window.session.image == 1)
    window.do("play")
    assert window.session.stats.images == {0}
    assert window.prefetcher.completed >= 1  # the next image was simulated in the worker


def test_scrubber_works_while_paused(window, qtbot):
    sc = window.transport.scrubber
    x = sc.width() * 0.75
    qtbot.mouseClick(sc, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(int(x), sc.height() // 2))
    window.refresh()
    assert not window.player.playing
    assert window.session.frame == sc.frame_at_x(int(x)) == window.frame.index


def test_jump_to_image(window):
    window.transport.image.setValue(42)
    window.transport.image.editingFinished.emit()
    window.refresh()
    assert window.session.image == 42 and window.where.image.text() == "image #42"
    window.command("goto", 10**7)  # out of range: reported, not raised
    assert window.session.image == 42
    assert "out of range" in window.statusBar().currentMessage()


def test_hover_describes_the_cell(window):
    go(window, 1, 0)
    f = window.frame
    col = int(f.place.columns[0])
    text = window.array_view.cell_info(3, col)
    w = int(window.session.chip.weights[3, col])
    assert f"row 3, column {col}" in text and f"weight {w:+d}" in text
    assert "layer conv2, filter" in text and "evaluated" in text
    assert "unused" in window.array_view.cell_info(0, window.session.config.columns - 1) or True


def test_ideal_chip_toggle_and_new_chip(window, qtbot):
    press(qtbot, window, Key.Key_I, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.session.config.is_ideal() and window.named_actions["ideal"].isChecked()
    f = window.frame
    np.testing.assert_array_equal(f.codes, f.ideal_codes)
    assert "ideal" in window.status_chip.text()
    press(qtbot, window, Key.Key_N, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.session.seed == 1 and "seed 1" in window.status_chip.text()


def test_scales_with_the_window(window):
    window.resize(1920, 1080)
    window.apply_scale()
    assert theme.SCALE == pytest.approx(1.0, abs=0.02)
    window.resize(1280, 720)
    window.apply_scale()
    assert theme.SCALE == pytest.approx(720 / 1080, abs=0.02)
    assert window.where.image.font().pixelSize() == theme.px(theme.BIG_PX - 4)


def test_settings_remember_geometry_and_image(qtbot, model_path, isolated_settings, no_qt_warnings):
    from convsram.core.session import Session
    from convsram.gui.main_window import MainWindow, remembered_image

    win = MainWindow(Session.open(model_path), model_path=model_path)
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    win.command("goto", 7)
    win.close()
    assert isolated_settings.exists()
    assert remembered_image() == 7
    again = MainWindow(Session.open(model_path), model_path=model_path)
    qtbot.addWidget(again)
    assert again.restored_geometry  # (the offscreen screen is small, so the size itself may be clamped)
    again.close()


def test_window_explains_a_missing_model(qtbot, tmp_path, no_qt_warnings):
    from convsram.gui.app import open_session
    from convsram.gui.main_window import MainWindow

    session, error = open_session(tmp_path / "missing.npz", None, 0, 0)
    assert session is None and "not found" in error
    win = MainWindow(session, error, model_path=tmp_path / "missing.npz")
    qtbot.addWidget(win)
    win.show()
    assert win.stack.currentWidget() is win.problem
    assert "missing.npz" in win.problem.message.text()
    assert "convsram train" in win.problem.howto.text()
    assert not win.named_actions["play"].isEnabled() and win.named_actions["open_model"].isEnabled()
    win.do("play")  # nothing to play: no error
    win.close()


def test_window_recovers_when_a_model_is_opened(qtbot, tmp_path, model_path, no_qt_warnings):
    from convsram.gui.main_window import MainWindow

    win = MainWindow(None, "model file x not found", model_path=tmp_path / "x.npz")
    qtbot.addWidget(win)
    win._open(model_path, None)
    assert win.stack.currentWidget() is win.dashboard and win.session is not None
    win.refresh()
    assert win.frame is not None
    win.close()


def test_screenshot_matches_the_window(window, tmp_path):
    path = tmp_path / "s.png"
    assert window.grab().save(str(path), "PNG")
    img = QtGui.QImage(str(path))
    assert (img.width(), img.height()) == (window.width(), window.height())


def test_clicking_a_layer_in_the_strip_goes_there(window, qtbot):
    strip = window.where.strip
    rect = next(r for r, li in strip._rects if li == 1)
    qtbot.mouseClick(strip, QtCore.Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    window.refresh()
    assert window.session.frame == window.session.current.layer_start[1]
    assert window.frame.layer_name == window.session.model.layers[1].name


def test_the_pooling_is_a_step_to_click_and_to_see(window, qtbot):
    """A pool box in the layer strip goes to the pooling; the input shows the four values of each map
    with the winner marked, the output fills in, the header says the array rests."""
    strip = window.where.strip
    i = next(i for i, (title, _, li) in enumerate(strip.boxes) if title == "pool1")
    rect = strip._rects[i][0]
    qtbot.mouseClick(strip, QtCore.Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    window.command("step", 13)
    window.refresh()
    s, f = window.session, window.frame
    pool1 = s.stage_names().index("pool1")
    assert f.place.node == "pool1" and f.place.node_step == 13
    assert s.frame == s.current.stage_start[pool1] + 13
    assert strip.current_stage == pool1
    assert window.where.invocation.text().startswith("digital step")
    assert "the array rests" in window.where.detail.text()
    caption = window.input_view.layer_caption.text()
    inp, out = s.node_maps(f)
    assert "2×2 window at (2, 2)" in caption and f"→ {int(out[1, 1, 0])}" in caption
    np.testing.assert_array_equal(window.output_view.values, out)
    assert "Output of pool1" in window.output_view.title.text()
    # the ADC panel does not count the last conversion's codes as if the array were converting now
    assert "at rest" in window.codes_view.note.text() and "differ" not in window.codes_view.note.text()
    window.command("frame", s.current.layer_start[1])  # conv2's first invocation: counted again
    window.refresh()
    assert "differ" in window.codes_view.note.text()


def test_hover_texts_say_where_numbers_come_from(window):
    cfg = window.session.config
    dac = window.array_view.dac_plot.toolTip()
    assert cfg.dac_lsb == 3e-3 and "dac_lsb = 3 mV" in dac and "[assumed]" in dac  # in its display unit
    assert "comparator_offset_sigma" in window.codes_view.toolTip()
    assert "cap_mismatch_sigma" in window.lines_view.toolTip()
    ev = window.energy_view
    dac_tip = ev.cells[("dac", 0)].toolTip()
    assert "pJ per active row" in dac_tip and "ZigZag" in dac_tip
    assert "Horowitz" in ev.cells[("digital", 2)].toolTip()
    for lab, b in zip(ev.savings, ev.baselines, strict=True):
        assert b.short in lab.text() or b.name in lab.text()  # a factor names its baseline
        assert b.name in lab.toolTip() and b.assumptions[0] in lab.toolTip()
    assert "150 ns" in ev.time.toolTip()
