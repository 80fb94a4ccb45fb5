"""The booth explains, not just shows (demo mode, offscreen, the shipped model): the pad takes touch,
refuses a tap and a scribble ("not sure - try again") and reads drawn digits right; the saving against
a named baseline; plain captions with technical ones a key away; the pause badge; the attract loop;
"what is happening now"; F1's worked number is the current frame's."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from PySide6.QtTest import QTest

from convsram.core import classify
from convsram.core.paths import DEFAULT_MODEL
from convsram.core.session import Session
from convsram.gui.demo import captions
from tests.drawn_digits import DIGITS, TAP, scribble

pytest_plugins = ["tests.test_gui_support"]
Key = QtCore.Qt.Key


@pytest.fixture
def demo(qtbot, no_qt_warnings):
    if not DEFAULT_MODEL.is_file():
        pytest.skip("the shipped model is not built")
    from convsram.gui.demo import DemoWindow

    d = DemoWindow(Session.open(DEFAULT_MODEL))
    qtbot.addWidget(d)
    d.resize(1366, 768)
    d.show()
    qtbot.waitExposed(d)
    for _ in range(3):  # the layout settles (a resize clears the pad)
        QtCore.QCoreApplication.processEvents()
    d.pad.idle_ms = 10
    yield d
    d.close()


def _points(pad, stroke):
    w, h = pad.width(), pad.height()
    side = min(w, h)
    ox, oy = (w - side) / 2, (h - side) / 2
    return [QtCore.QPoint(round(ox + x * side), round(oy + y * side)) for x, y in stroke]


def mouse_draw(pad, strokes) -> None:
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    for stroke in strokes:
        pts = _points(pad, stroke)
        QTest.mousePress(pad, left, none, pts[0])
        for p in pts[1:]:
            QTest.mouseMove(pad, p)
        QTest.mouseRelease(pad, left, none, pts[-1])


_TOUCH: list = []


def touch_device() -> QtGui.QPointingDevice:
    if not _TOUCH:
        _TOUCH.append(QTest.createTouchDevice(QtGui.QInputDevice.DeviceType.TouchScreen))
    return _TOUCH[0]


def touch_draw(pad, strokes) -> None:
    dev = touch_device()
    for stroke in strokes:
        pts = _points(pad, stroke)
        QTest.touchEvent(pad, dev).press(0, pts[0], pad).commit()
        for p in pts[1:]:
            QTest.touchEvent(pad, dev).move(0, p, pad).commit()
        QTest.touchEvent(pad, dev).release(0, pts[-1], pad).commit()


def answer_of(demo) -> str:
    s = demo.session
    demo.player.set_playing(False)
    s.run("last")
    demo.refresh()
    return demo.answer.state


def test_touch_events_draw_on_the_pad(demo, qtbot):
    pad = demo.pad
    with qtbot.waitSignal(pad.drawn, timeout=3000):
        touch_draw(pad, DIGITS[7])
    assert pad.strokes == 1 and pad.array().max() > 0.9
    ink = pad.array() > 0.5
    ys, xs = np.nonzero(ink)
    side = min(pad.width(), pad.height())
    assert np.ptp(ys) > 0.5 * side  # the stroke went from top to bottom, not one dot
    assert demo.session.is_drawing(demo.session.image)
    assert answer_of(demo) == "drawn" and demo.frame.prediction == 7


def test_a_tap_is_refused_on_the_pad_and_the_cycle_goes_on(demo, qtbot):
    s = demo.session
    demo.player.hold_s = 1e9  # the cycle stays on this image while the test looks
    demo.start()
    image = s.image
    with qtbot.waitSignal(demo.pad.drawn, timeout=3000):
        mouse_draw(demo.pad, TAP)
    assert s.image == image and not s.is_drawing(s.image)  # nothing was read
    assert classify.NOT_SURE in demo.pad.message and demo.player.playing
    # the message goes after a while (the attract loop), on the display clock
    demo.pacer.timer.stop()
    now = time.perf_counter() + 1.0  # after any tick of the real timer
    demo.pacer.tick(now)
    demo.pacer.tick(now + 7)
    assert demo.pad.message == "" and demo.pad.strokes == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_scribble_is_answered_not_sure(demo, qtbot, seed):
    with qtbot.waitSignal(demo.pad.drawn, timeout=3000):
        mouse_draw(demo.pad, scribble(seed))
    assert demo.session.is_drawing(demo.session.image)
    assert answer_of(demo) == "unsure"
    assert demo.answer.digit.text().endswith("?</span>")
    assert classify.NOT_SURE in demo.answer.verdict.text()
    assert demo.answer.reading is not None and not demo.answer.reading.sure


def test_drawn_digits_are_accepted_and_read_right(demo, qtbot):
    for digit, strokes in DIGITS.items():
        demo.pad.clear()
        with qtbot.waitSignal(demo.pad.drawn, timeout=3000):
            mouse_draw(demo.pad, strokes)
        assert answer_of(demo) == "drawn", f"{digit}: {demo.answer.tally.text()}"
        assert demo.frame.prediction == digit and f">{digit}<" in demo.answer.digit.text()


def test_the_saving_names_the_fairest_baseline_and_agrees_with_the_dashboard(demo, qtbot):
    from convsram.core import baselines
    from convsram.gui.views.context import Context
    from convsram.gui.views.energy_view import EnergyView as LedgerView
    from convsram.gui.views.layer_stats import layer_stats

    s = demo.session
    s.run("last")
    demo.refresh()
    f = demo.frame
    view = demo.energy_view
    assert view.baseline is baselines.fairest()
    work = baselines.work_of(s.model)
    periphery = f.energy_image["digital"]
    array_pj = sum(f.energy_image[c] for c in ("dac", "array", "adc"))
    expected = baselines.saving(view.baseline, array_pj, periphery, work)
    assert view.saving_x == pytest.approx(expected, rel=1e-3)
    assert view.saving.text() == f"{view.saving_x:.1f}× less energy"
    text = view.what.text()
    assert view.baseline.name in text and f"{work.macs:,}" in text
    # the dashboard's ledger quotes the same factor for the same baseline
    ledger = LedgerView()
    qtbot.addWidget(ledger)
    ledger.show_frame(f, Context(s, layer_stats(s, f.image, f.place.layer)))
    pairs = zip(ledger.savings, ledger.baselines, strict=True)
    line = [lab.text() for lab, b in pairs if b is view.baseline][0]
    assert f"{view.saving_x:.1f}× less" in line


def test_plain_captions_under_every_panel_and_technical_ones_a_key_away(demo, qtbot):
    for key, label in demo.captions.items():
        assert label.text() == captions.PLAIN[key]
        assert label.isVisible() == bool(captions.PLAIN[key])
    assert not demo.diff_view.subtitle.isVisible()
    qtbot.keyClick(demo, getattr(Key, f"Key_{captions.TECHNICAL_KEY}"))
    assert demo.technical
    for key, label in demo.captions.items():
        assert label.text() == captions.TECHNICAL[key] and label.isVisible() == bool(captions.TECHNICAL[key])
    assert demo.diff_view.subtitle.isVisible() and demo.energy_view.bar.isVisible()
    qtbot.keyClick(demo, getattr(Key, f"Key_{captions.TECHNICAL_KEY}"))
    assert not demo.technical


def test_the_difference_panel_is_titled_for_what_it_shows_and_its_legend_fits(demo, qtbot):
    assert "Line pair" not in demo.diff_view.title.text() and "Difference" in demo.diff_view.title.text()
    demo.set_technical(True)
    demo.session.run("frame", 100)
    demo.refresh()
    QtCore.QCoreApplication.processEvents()
    sub = demo.diff_view.subtitle
    doc = QtGui.QTextDocument()
    doc.setDefaultFont(sub.font())
    doc.setHtml(sub.text())
    doc.setTextWidth(sub.contentsRect().width())
    assert doc.size().height() <= sub.contentsRect().height() + 1, "the legend (and its mV) is clipped"


def test_space_shows_a_pause_badge_and_untouched_it_plays_again(demo, qtbot):
    demo.start()
    assert demo.player.playing and not demo.badge.isVisible()
    qtbot.keyClick(demo, Key.Key_Space)
    assert not demo.player.playing and demo.badge.isVisible() and "PAUSED" in demo.badge.text()
    b = demo.badge.geometry()
    assert demo.rect().contains(b) and b.width() > demo.width() / 4
    demo.pacer.timer.stop()
    from convsram.gui.demo.window import ATTRACT_S

    t = time.perf_counter() + 1.0  # after any tick of the real timer
    demo.pacer.tick(t)
    demo.pacer.tick(t + ATTRACT_S / 2)
    assert not demo.player.playing
    demo.pacer.tick(t + ATTRACT_S + 1)
    assert demo.player.playing and not demo.badge.isVisible()


def test_what_is_happening_now_follows_the_frame(demo):
    s = demo.session
    demo.player.set_playing(False)
    for k in (0, s.current.layer_start[1], s.current.n_frames - 1):
        s.run("frame", k)
        demo.refresh()
        f = demo.frame
        assert demo.narration.sentence.startswith(f.layer_name) or f.final
    assert f"answers {demo.frame.prediction}" in demo.narration.text()


def test_f1_explains_the_chip_with_the_current_frames_numbers(demo, qtbot):
    s = demo.session
    demo.player.set_playing(False)
    s.run("frame", s.current.layer_start[1] + 7)
    demo.refresh()
    qtbot.keyClick(demo, Key.Key_F1)
    dialog = demo.help_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.toPlainText()
    f = demo.frame
    slot = int(np.argmax(np.abs(f.ideal_diff)))  # the page works the clearest column of the frame
    col = f.place.columns[slot]
    assert dialog.worked is not None and dialog.worked.column == col
    n = len(f.x)
    sum_wx = int(np.asarray(f.x, np.int64) @ s.chip.weights[:n, col].astype(np.int64))
    assert sum_wx != 0 and f"Σ w·x = {sum_wx:,}" in text and f"array column {col} " in text
    mv = re.search(r"= (-?[0-9.]+) mV\s*This chip", text)
    assert mv is not None and float(mv.group(1)) == pytest.approx(f.ideal_diff[slot] * 1e3, abs=5e-4)
    for word in ("DAC", "bitcell", "Charge sharing", "Integrating ADC", "Glossary", captions.TECHNICAL_KEY):
        assert word in text
    dialog.close()


# --- the main window's answer ---------------------------------------------------------------------------
@pytest.fixture
def shipped_window(qtbot, no_qt_warnings):
    if not DEFAULT_MODEL.is_file():
        pytest.skip("the shipped model is not built")
    from convsram.gui.main_window import MainWindow

    win = MainWindow(Session.open(DEFAULT_MODEL), model_path=DEFAULT_MODEL, remember=False)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_the_answer_says_what_the_ideal_chip_answers(shipped_window, monkeypatch):
    win = shipped_window
    win.command("goto", 247, -1)  # wrong on this chip and on the ideal chip (the network's own error)
    win.refresh()
    view = win.result_view
    f = win.frame
    assert f.final and f.prediction != f.label
    assert view.ideal_answer == f.prediction
    assert "ideal chip says" in view.ideal.text() and "too" in view.ideal.text()
    # a chip whose imperfections change the answer: the panel names the ideal chip's answer
    from convsram.gui.views import result_view

    monkeypatch.setattr(result_view, "ideal_prediction", lambda model, pixels, config: int(f.label))
    view._ideal.clear()
    win.pacer.invalidate(win)
    win.refresh()
    assert f"the ideal chip says {f.label} (right)" in view.ideal.text()
    win.command("ideal", True)  # on the ideal chip itself there is nothing to compare
    win.command("last")
    win.refresh()
    assert view.ideal.text() == ""


def test_running_accuracy_after_a_jump_is_not_called_an_accuracy(shipped_window):
    from convsram.gui.views.result_view import accuracy_text

    win = shipped_window
    win.command("goto", 0, -1)
    win.refresh()
    assert "running accuracy 1 / 1 = 100.0 % (95 % CI" in win.result_view.accuracy.text()
    win.command("goto", 247, -1)  # where F8 (next misclassified) lands
    win.refresh()
    text = win.result_view.accuracy.text()
    assert "50" not in text and "1 of 2 images right" in text and "not the chip's accuracy" in text
    assert accuracy_text([(3, 1, 1), (4, 2, 2), (5, 0, 6)]).startswith("running accuracy 2 / 3 = 66.7 %")


def test_the_main_window_says_what_is_happening_now(shipped_window):
    win = shipped_window
    win.command("frame", 0)
    win.refresh()
    assert win.narration.sentence.startswith(win.frame.layer_name) and "DACs" in win.narration.text()
