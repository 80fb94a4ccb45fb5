"""A weight layer's own digital steps on screen (issue 13): the tile sums and the requantisation are
stages the keys and the layer strip reach; the input panel's table, the narration and the header show
the exact path's numbers; the analog panels say the array rests; snapshots render them at booth and
full-HD sizes, with plain or technical captions."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from convsram.cli import main
from convsram.core.paths import MODELS_DIR
from convsram.core.session import Session
from convsram.gui import theme
from convsram.gui.views.digital_table import shown_filters
from convsram.gui.views.plotting import font
from convsram.gui.views.where_view import LayerStrip

pytest_plugins = ["tests.test_gui_support"]  # fixtures: window, model_path, no_qt_warnings
Key = QtCore.Qt.Key
RESNET = MODELS_DIR / "resnet-bw.npz"


def press(qtbot, win, key: QtCore.Qt.Key) -> None:
    qtbot.keyClick(win, key)
    win.refresh()


def click_box(qtbot, strip: LayerStrip, index: int) -> None:
    qtbot.mouseClick(strip, QtCore.Qt.MouseButton.LeftButton, pos=strip._rects[index][0].center().toPoint())


def test_page_down_reaches_the_tile_sums_then_the_requantisation(window, qtbot):
    s = window.session
    window.command("frame", s.current.layer_start[1])  # conv2's first invocation
    press(qtbot, window, Key.Key_PageDown)
    f = window.frame
    assert f.layer_name == "conv2.sum" and f.place.op == "sum" and f.place.node_step == 0
    assert window.where.invocation.text().startswith("digital step")
    detail = window.where.detail.text()
    assert "conv2.sum 1 / 100" in detail and "the array rests" in detail
    press(qtbot, window, Key.Key_Right)
    assert window.frame.place.node_step == 1
    press(qtbot, window, Key.Key_PageDown)
    assert window.frame.layer_name == "conv2.requant" and window.frame.place.node_step == 0
    press(qtbot, window, Key.Key_PageUp)  # back to the start of the tile sums
    assert window.frame.layer_name == "conv2.sum" and window.frame.place.node_step == 0
    press(qtbot, window, Key.Key_PageUp)
    assert window.frame.layer_name == "conv2" and window.frame.place.invocation


@pytest.mark.parametrize("stage", ["conv2.sum", "conv2.requant", "fc.sum", "fc.scores", "conv1.requant"])
def test_the_layer_strip_has_a_box_for_each_digital_step_that_goes_there(window, qtbot, stage):
    s, strip = window.session, window.where.strip
    st = s.stage_names().index(stage)
    i = strip.stages.index(st)
    assert strip.is_op(i) and strip.boxes[i][0] == ("Σ" if stage.endswith(".sum") else "×α")
    assert stage.split(".")[0] in strip.tips[i]
    click_box(qtbot, strip, i)
    window.refresh()
    assert s.frame == s.current.stage_start[st] and window.frame.layer_name == stage
    assert strip.current_stage == st


def test_the_tile_sum_table_shows_the_chips_codes_and_their_total(window):
    s = window.session
    run = s.current
    window.command("frame", run.stage_start[s.stage_names().index("conv2.sum")] + 23)  # output (2, 3)
    window.refresh()
    table = window.input_view.table
    assert not table.isHidden() and window.input_view.maps_plot.isHidden()
    assert table.header == ["filter", "tile 1", "tile 2", "tile 3", "= P"]
    filters = shown_filters(table)
    assert len(filters) >= 8  # at 1280x720 a good part of the 32 filters fits; the rest is counted
    p = run.activations["conv2.P"][2, 3]
    for row, j in zip(table.rows, filters, strict=True):
        tiles = [int(c.replace("−", "-")) for c in row[1:4]]
        chip = []  # filter j's ADC code in each row tile, as the chip converted it (its records)
        for t, chunks in enumerate(s.amap.chunks[1]):
            c = next(c for c, fs in enumerate(chunks) if j in fs)
            chip.append(int(run.records[(1, t, c)].codes[23][list(chunks[c]).index(j)]))
        assert tiles == chip
        assert int(row[4].replace("−", "-")) == sum(tiles) == p[j]
    assert "tile sums at output (2, 3)" in window.input_view.layer_caption.text()
    # the sentence works one filter through with the same numbers
    v = s.layer_op_values(window.frame)
    j = int(np.argmax(np.abs(v.total)))
    assert window.narration.sentence.startswith("conv2, tile sums:")
    assert f"Filter {j}: " in window.narration.sentence
    assert window.narration.sentence.endswith(f"= {int(p[j])}.".replace("-", "−"))
    # the output map marks this position in every map
    assert window.output_view.note.text().endswith("tile sum: position 24 / 100</span>")


def test_the_requantisation_table_shows_scale_rounding_clip_and_the_code(window):
    s = window.session
    run = s.current
    window.command("frame", run.stage_start[s.stage_names().index("conv2.requant")] + 23)
    window.refresh()
    table = window.input_view.table
    assert table.header == ["filter", "P", "α·P + β", "round", "code 0–127"]
    alpha, beta = s.model.alpha[1], s.model.beta[1]
    p, act = run.activations["conv2.P"][2, 3], run.activations["conv2.act"][2, 3]
    for row in table.rows:
        j = int(row[0])
        num = [float(c.replace("−", "-")) for c in row[1:]]
        u = alpha[j] * p[j] + beta[j]
        assert num[0] == p[j] and num[1] == pytest.approx(u, abs=0.005)
        assert num[2] == np.floor(u + 0.5) and num[3] == act[j] == np.clip(np.floor(u + 0.5), 0, 127)
    assert "requantisation" in window.narration.sentence and "0–127" in window.narration.sentence


def test_the_analog_panels_say_the_array_rests_on_a_digital_step(window):
    s = window.session
    panels = (window.lines_view, window.diff_view, window.codes_view, window.array_view)
    for stage in ("conv2.sum", "conv2.requant", "pool1"):
        window.command("frame", s.current.stage_start[s.stage_names().index(stage)] + 2)
        window.refresh()
        for panel in panels:
            assert "array at rest" in panel.note.text(), (stage, panel)
        x, _ = window.hist_view.current.getData()  # nothing converts now: no "now" marks in the histogram
        assert x is None or len(x) == 0
    window.command("frame", s.current.layer_start[1] + 2)  # an invocation: they show it, no note of rest
    window.refresh()
    for panel in panels:
        assert "array at rest" not in panel.note.text()
    x, _ = window.hist_view.current.getData()
    assert x is not None and len(x) == 2 * len(window.frame.codes)
    assert window.input_view.table.isHidden() and not window.input_view.maps_plot.isHidden()


def test_the_last_step_is_the_class_scores_and_gives_the_answer(window):
    s = window.session
    window.command("last")
    window.refresh()
    f = window.frame
    assert f.final and f.layer_name == "fc.scores"
    assert window.input_view.table.header == ["class", "P", "α·P + β = score"]
    scores = [float(r[2].replace("−", "-")) for r in window.input_view.table.rows]
    np.testing.assert_allclose(scores, s.current.scores[shown_filters(window.input_view.table)], atol=0.005)
    assert f"answers {f.prediction}" in window.narration.sentence


@pytest.mark.skipif(not RESNET.is_file(), reason="the shipped resnet-bw model is not built")
def test_a_deep_networks_strip_keeps_its_names_and_its_tabs_go_to_the_steps(qtbot, no_qt_warnings):
    """resnet-bw: 16 stages and 15 of the layers' own digital steps; the steps are tabs inside their
    layer's box (the names keep their room), and a click on a tab goes to that step."""
    session = Session.open(RESNET)
    strip = LayerStrip()
    qtbot.addWidget(strip)
    strip.set_session(session)
    strip.resize(900, 54)
    strip.grab()  # paints: the rectangles are laid out
    clicked: list[int] = []
    strip.stageClicked.connect(clicked.append)
    names = session.stage_names()
    st = names.index("conv3a.sum")
    i = strip.stages.index(st)
    layer = strip._rects[strip.stages.index(names.index("conv3a"))][0]
    assert layer.contains(strip._rects[i][0])  # a tab in the layer's box
    click_box(qtbot, strip, i)
    assert clicked == [st]
    metrics = QtGui.QFontMetricsF(font(theme.TICK_PX, bold=True))  # a crowded strip's titles
    for k, (title, _, _li) in enumerate(strip.boxes):
        if not strip.is_op(k):  # every name whole (the layers' beside their tabs; the input, the answer)
            bw = strip._rects[k][0].width()
            assert metrics.elidedText(title, QtCore.Qt.TextElideMode.ElideRight, bw - 4) == title


@pytest.mark.parametrize("size", ["1366x768", "1920x1080"])
@pytest.mark.parametrize("stage", ["conv2.sum", "conv2.requant"])
def test_snapshot_at_a_digital_step(tmp_path, model_path, qapp, no_qt_warnings, capsys, size, stage):
    out = tmp_path / "step.png"
    assert main(["snapshot", "--out", str(out), "--model", str(model_path), "--layer", stage, "--step", "23",
                 "--size", size]) == 0
    img = QtGui.QImage(str(out))
    assert f"{img.width()}x{img.height()}" == size


def test_snapshot_and_record_take_technical_captions(tmp_path, model_path, qapp, no_qt_warnings, monkeypatch):
    """--technical-captions: the window's T state, so the picture differs from the plain one; a lab
    --view (no plain captions) refuses it in one line."""
    from convsram.gui.main_window import MainWindow

    seen: list[bool] = []
    original = MainWindow.set_technical

    def spy(self, on: bool) -> None:
        seen.append(on)
        original(self, on)

    monkeypatch.setattr(MainWindow, "set_technical", spy)
    shots = {}
    for flag in ([], ["--technical-captions"]):
        out = tmp_path / f"shot{len(flag)}.png"
        assert main(["snapshot", "--out", str(out), "--model", str(model_path), "--layer", "conv2",
                     "--size", "1366x768", *flag]) == 0
        shots[bool(flag)] = QtGui.QImage(str(out))
    assert seen[-1] is True and False in seen
    assert shots[True] != shots[False]
    gif = tmp_path / "film.gif"
    seen.clear()
    assert main(["record", "--out", str(gif), "--model", str(model_path), "--frames", "2",
                 "--size", "960x540", "--technical-captions"]) == 0
    assert gif.is_file() and seen[-1] is True


def test_technical_captions_are_not_for_a_lab_view(tmp_path, model_path, capsys):
    code = main(["snapshot", "--out", str(tmp_path / "x.png"), "--model", str(model_path),
                 "--view", "compare", "--technical-captions"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--technical-captions" in err


def test_the_lab_says_a_digital_step_shows_the_last_invocation(window, lab):
    """Ideal vs this chip counts the layer's invocations, not its digital steps, and says the array
    rests; inside one invocation says it is the last one."""
    s = window.session
    window.command("frame", s.current.stage_start[s.stage_names().index("conv2.sum")] + 23)
    window.refresh()
    compare = lab.select("compare")
    lab.refresh()
    text = compare.summary.text()
    assert "invocations 1–600 of this image" in text and "conv2.sum is a digital step" in text
    assert "last: " in compare.codes_panel.note.text() and "array at rest" in compare.lines_panel.note.text()
    wave = lab.select("waveform")
    lab.refresh()
    assert "the array rests, this is its last" in wave.panel.title.text()
    window.command("frame", s.current.layer_start[1] + 5)
    window.refresh()
    lab.select("compare")
    lab.refresh()
    text = compare.summary.text()
    assert "invocations 1–6 of this image" in text and "This invocation:" in text
    assert "last: " not in compare.codes_panel.note.text()


def test_f1s_worked_number_on_a_digital_step_names_the_invocation_it_uses(window):
    """The F1 page works the equation on a frame's invocation: on a digital step, its last one, and it
    says so."""
    from convsram.gui.help import chip_html, worked_for

    s = window.session
    window.command("frame", s.current.stage_start[s.stage_names().index("conv2.sum")] + 3)
    text = chip_html(s)
    assert "conv2.sum, a digital step (the array rests), so its last invocation: conv2 invocation 600" in text
    w = worked_for(s)
    last = s.frame_at(index=s.current.layer_end(1) - 1)  # conv2's last invocation
    assert w.code == int(last.codes[list(last.place.columns).index(w.column)])


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_window_equals_a_fresh_render_through_the_digital_steps(size, qapp, model_path, tmp_path,
                                                                     no_qt_warnings):
    """Played from conv2's last invocations through its tile sums into its requantisation, the window
    shows what a fresh render (as `convsram snapshot`) of the same frame shows, pixel for pixel."""
    from tests.test_gui_live import Clock, build, differing, fresh_picture, picture

    s = Session.open(model_path)
    names = s.stage_names()
    requant = s.current.stage_start[names.index("conv2.requant")]
    s.run("frame", s.current.stage_start[names.index("conv2.sum")] - 10)
    win = build(s, size)
    clock = Clock(win)
    try:
        win.player.set_speed(250)
        clock.play_until(lambda: s.frame >= requant + 7)
        assert win.frame.layer_name == "conv2.requant"
        live = picture(win, tmp_path / "live.png", size)
        fresh = fresh_picture(s, tmp_path / "fresh.png", size)
        assert differing(live, fresh) == 0
    finally:
        win.close()
        win.deleteLater()


def test_the_table_redraws_a_few_times_a_second_while_playing_and_exactly_when_paused(window):
    """A rich-text table costs ~10 ms to lay out and paint; at 100 steps/s through conv1's 576
    requantisation positions it was redrawn every display tick. Playing: at most every TABLE_EVERY_S of
    the clock; paused: the table is the frame's own."""
    from convsram.gui.views.input_view import TABLE_EVERY_S

    s = window.session
    start = next(k for k, p in enumerate(s.places) if p.op == "requant")
    window.pacer.timer.stop()
    window.command("frame", start + 1)
    window.pacer.tick(1.0)
    table = window.input_view.table
    window.player.set_speed(250)
    window.player.set_playing(True)
    draws, now, seen = 0, 1.0, table.values
    for _ in range(30):  # 0.48 s of play, ~4 steps a tick
        now += 0.016
        window.pacer.tick(now)
        if table.values is not seen:
            draws, seen = draws + 1, table.values
    assert s.places[s.frame].op == "requant"  # still inside the stage
    assert 2 <= draws <= 0.48 / TABLE_EVERY_S + 2
    window.player.set_playing(False)
    window.pacer.tick(now + 0.016)
    assert table.values is not None and table.values.position == s.layer_op_values(window.frame).position
