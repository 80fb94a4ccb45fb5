"""The chip lab, driven through the real main window offscreen: knobs re-simulate as the model predicts,
seeds restore chips, the ideal chip reproduces the ideal codes, event jumps land on their events, chip
configurations round-trip through TOML, the views show the core's numbers, Monte Carlo runs and cancels,
`convsram snapshot --view`."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.cli import main
from convsram.core import analysis
from convsram.core.chip import quantise
from convsram.core.config import ChipConfig
from convsram.core.configfile import load_config
from convsram.core.stats import accuracy_interval, wilson
from convsram.core.waveform import invocation_waveform
from convsram.gui.lab.knobs import KNOBS

pytest_plugins = ["tests.test_gui_support"]


def go(window, layer: int, step: int) -> None:
    s = window.session
    window.command("frame", s.current.layer_start[layer] + step)
    window.refresh()


def wait_config(qtbot, window, **values) -> None:
    qtbot.waitUntil(lambda: all(getattr(window.session.config, k) == v for k, v in values.items()),
                    timeout=3000)
    window.refresh()


def preset(lab, qtbot, name: str) -> None:
    qtbot.mouseClick(lab.knobs.preset_buttons[name], QtCore.Qt.MouseButton.LeftButton)
    lab.main.refresh()


def expected_codes(window, frame) -> np.ndarray:
    """What the model says the ADC outputs: the ideal level plus the group's ADC offset, rounded half up
    with the chip's tie-break, clipped to the layer's range (every other non-ideality off)."""
    s = window.session
    n = len(frame.x)
    groups = frame.place.columns // s.config.columns_per_group
    level = (frame.ideal_diff + s.chip.adc_offset[groups]) / frame.adc_lsb  # comparator offset in volts
    return quantise(level, s.config.max_code, frame.mode, s.chip.tie_bias(n, frame.adc_lsb))


def test_lab_opens_from_the_chip_menu_with_every_view(window, lab, qtbot):
    assert lab.isVisible() and window.named_actions["chip_lab"].shortcut().toString() == "Ctrl+L"
    go(window, 1, 120)
    s, f = window.session, window.frame
    for name in ("compare", "mismatch", "errors", "waveform", "montecarlo"):
        lab.select(name)
        lab.refresh()
    assert lab.views["mismatch"].values.shape == (s.config.rows, s.config.columns)
    errors = lab.views["errors"]
    assert errors.selected is not None and errors.detail.column == errors.selected
    assert lab.views["waveform"].wave is not None
    cmp = lab.views["compare"].comparison
    np.testing.assert_array_equal(cmp.codes, f.codes)
    # every knob: unit in its label, the field's docstring as tooltip
    for name, slider in lab.knobs.sliders.items():
        assert analysis.ChipConfig.__dataclass_fields__[name].metadata["doc"] in slider.toolTip()
        assert KNOBS[name].unit in slider.toolTip()
    assert "kT" in lab.knobs.ktc.toolTip()
    assert lab.knobs.seed.value() == s.seed
    assert lab.knobs.sliders["cap_mismatch_sigma"].value() == pytest.approx(s.config.cap_mismatch_sigma * 100)


def test_an_adc_offset_knob_shifts_the_codes_by_this_chips_offsets(window, lab, qtbot):
    preset(lab, qtbot, "ideal")
    assert window.session.config.is_ideal()
    go(window, 1, 40)
    before = window.frame
    np.testing.assert_array_equal(before.codes, before.ideal_codes)
    lab.knobs.set_value("comparator_offset_sigma", 0.0006)  # 0.6 mV, as a user drags the slider
    wait_config(qtbot, window, comparator_offset_sigma=0.0006)
    s = window.session
    assert s.seed == 0 and s.config == ChipConfig.ideal(comparator_offset_sigma=0.0006)
    f = window.frame
    assert (f.image, f.index) == (before.image, before.index)  # the same frame, re-simulated
    # an ADC offset moves no voltage: the lines hold the ideal difference for the (new) inputs
    np.testing.assert_allclose(f.diff, f.ideal_diff, atol=1e-12)
    np.testing.assert_array_equal(f.codes, expected_codes(window, f))
    assert np.any(f.codes != f.ideal_codes) or np.abs(s.chip.adc_offset / f.adc_lsb).max() < 0.5
    for layer, step in ((0, 300), (2, 4)):  # and on every layer
        go(window, layer, step)
        np.testing.assert_array_equal(window.frame.codes, expected_codes(window, window.frame))


def test_a_charge_injection_knob_offsets_the_line_difference(window, lab, qtbot):
    preset(lab, qtbot, "ideal")
    go(window, 0, 77)
    lab.knobs.set_value("charge_injection_sigma", 5e-4)
    wait_config(qtbot, window, charge_injection_sigma=5e-4)
    f, chip = window.frame, window.session.chip
    np.testing.assert_allclose(f.diff, f.ideal_diff + chip.injection[f.place.columns], atol=1e-12)
    # a DAC offset moves the row voltages of the DAC by this chip's per-row offsets
    lab.knobs.set_value("dac_offset_sigma", 2e-3)
    wait_config(qtbot, window, dac_offset_sigma=2e-3)
    f, cfg, chip = window.frame, window.session.config, window.session.chip
    n = len(f.x)
    expected = cfg.v_precharge - np.clip(f.x * cfg.dac_lsb + chip.dac_offset[:n], 0, cfg.v_precharge)
    np.testing.assert_allclose(f.v_dac, expected, atol=1e-12)


def test_dragging_a_slider_is_throttled_and_ends_on_the_last_value(window, lab, qtbot):
    slider = lab.knobs.sliders["cap_mismatch_sigma"]
    generation = window.session.generation
    for v in np.linspace(2.0, 8.0, 40):  # 40 moves in quick succession
        slider.setValue(float(v))
    wait_config(qtbot, window, cap_mismatch_sigma=0.08)
    rebuilt = window.session.generation - generation
    assert 1 <= rebuilt < 10
    assert window.session.config.cap_mismatch_sigma == 0.08
    assert window.frame is not None and window.frame.image == window.session.image
    # the dashboard's axis changes were spread over display ticks; they all land, then paused is immediate
    qtbot.waitUntil(lambda: len(window.ranges) == 0 and window.ranges.immediate, timeout=3000)


def test_a_slider_drag_has_one_knob_change_on_its_way_at_a_time(window, lab, qtbot):
    """While a knob change is being simulated and drawn, newer slider values wait (only the newest)
    and go after it: no second re-simulation piles onto the event loop before the first is on screen."""
    slider = lab.knobs.sliders["cap_mismatch_sigma"]
    shown_at_change: list[int] = []  # how many knob changes were on screen when the chip changed

    def on_change(change) -> None:
        if change.chip:
            shown_at_change.append(len(lab.knob_cycle_ms))

    unsubscribe = window.session.subscribe(on_change)
    try:
        for v in np.linspace(2.0, 6.0, 30):  # a drag: a move every 16 ms for half a second
            slider.setValue(float(v))
            qtbot.wait(16)
        wait_config(qtbot, window, cap_mismatch_sigma=0.06)
    finally:
        unsubscribe()
    assert len(shown_at_change) >= 2
    assert all(b > a for a, b in zip(shown_at_change, shown_at_change[1:], strict=False)), shown_at_change


def test_a_knob_change_whose_redraw_never_comes_does_not_keep_the_last_slider_value(window, lab, qtbot,
                                                                                   monkeypatch):
    """A change whose simulation result is dropped (the chip changed again meanwhile, say) never
    finishes its cycle; the value the slider ends on still lands, at the latest STUCK_MS later."""
    from convsram.gui.lab.window import STUCK_MS

    slider = lab.knobs.sliders["cap_mismatch_sigma"]
    monkeypatch.setattr(lab, "_on_simulated", lambda result: None)  # the result is dropped
    slider.setValue(3.0)
    qtbot.waitUntil(lambda: window.session.config.cap_mismatch_sigma == 0.03, timeout=3000)
    slider.setValue(5.0)  # waits for a change that never comes back
    qtbot.wait(100)
    assert window.session.config.cap_mismatch_sigma == 0.03
    qtbot.waitUntil(lambda: window.session.config.cap_mismatch_sigma == 0.05, timeout=STUCK_MS + 2000)


def test_the_same_seed_restores_the_same_chip(window, lab, qtbot):
    go(window, 1, 10)
    s = window.session
    cap, codes = s.chip.cap_p.copy(), window.frame.codes.copy()
    qtbot.mouseClick(lab.knobs.new_chip, QtCore.Qt.MouseButton.LeftButton)
    window.refresh()
    lab.refresh()
    assert s.seed == 1 and lab.knobs.seed.value() == 1
    assert not np.array_equal(s.chip.cap_p, cap)
    lab.knobs.seed.setValue(0)
    window.refresh()
    assert s.seed == 0
    np.testing.assert_array_equal(s.chip.cap_p, cap)
    go(window, 1, 10)
    np.testing.assert_array_equal(window.frame.codes, codes)


def test_ideal_mode_reproduces_the_ideal_codes(window, lab, qtbot):
    window.do("ideal")  # Ctrl+I
    window.refresh()
    lab.refresh()
    s = window.session
    assert s.config.is_ideal() and "ideal" in lab.knobs.preset_label.text()
    run = s.current
    for rec in run.records.values():
        np.testing.assert_array_equal(rec.codes, rec.ideal_codes)
    twin = lab.data.ideal_session(s)
    np.testing.assert_array_equal(run.scores, twin.run_image(s.image).scores)
    go(window, 1, 333)
    lab.select("compare")
    lab.refresh()
    view = lab.views["compare"]
    np.testing.assert_array_equal(view.comparison.codes, view.comparison.ideal_codes)
    assert view.maps.differ == 0


def test_the_ideal_toggle_flips_to_the_ideal_chip_and_back_to_the_knobs(window, lab, qtbot):
    lab.knobs.set_value("adc_gain_sigma", 0.03)
    wait_config(qtbot, window, adc_gain_sigma=0.03)
    mine = window.session.config
    go(window, 1, 70)
    before = window.frame.codes.copy()
    qtbot.mouseClick(lab.knobs.ideal_toggle, QtCore.Qt.MouseButton.LeftButton)
    window.refresh()
    f = window.frame
    assert window.session.config.is_ideal() and lab.knobs.ideal_toggle.isChecked()
    assert f.index == 70 + window.session.current.layer_start[1]
    np.testing.assert_array_equal(f.codes, f.ideal_codes)
    qtbot.mouseClick(lab.knobs.ideal_toggle, QtCore.Qt.MouseButton.LeftButton)
    window.refresh()
    assert window.session.config == mine and not lab.knobs.ideal_toggle.isChecked()
    np.testing.assert_array_equal(window.frame.codes, before)  # the same chip, the same noise


def test_compare_shows_the_ideal_chip_on_the_same_frame(window, lab, qtbot):
    go(window, 2, 6)
    lab.select("compare")
    lab.refresh()
    view, s, f = lab.views["compare"], window.session, window.frame
    fi = lab.data.ideal_session(s).frame_at(f.image, f.index)
    np.testing.assert_array_equal(view.ideal_frame.codes, fi.codes)
    np.testing.assert_array_equal(view.vp.getData()[1], f.v_p)
    np.testing.assert_array_equal(view.ivp.getData()[1], fi.v_p)
    heights = np.concatenate([np.asarray(view.c_ok.opts["height"]), np.asarray(view.c_bad.opts["height"])])
    assert sorted(heights.tolist()) == sorted(f.codes.astype(float).tolist())
    np.testing.assert_array_equal(np.asarray(view.c_ideal.opts["height"]), fi.codes.astype(float))
    ideal_map = lab.data.ideal_session(s).feature_map(1, fi)
    np.testing.assert_array_equal(view.maps.ideal, ideal_map)


def test_compare_summary_counts_every_code_of_the_layer_so_far(window, lab, qtbot):
    """The summary's counts (codes that differ from the ideal chip's, and from an ideal ADC fed this
    chip's inputs) over the layer's invocations up to now, counted here invocation by invocation."""
    preset(lab, qtbot, "harsh")
    go(window, 1, 250)
    lab.select("compare")
    lab.refresh()
    s, f = window.session, window.frame
    run, irun = s.run_image(f.image), lab.data.ideal_session(s).run_image(f.image)
    total = e2e = local = 0
    done = [p for p in run.places[run.layer_start[1]:f.index + 1] if p.invocation]
    for p in done:
        key = (p.layer, p.tile, p.chunk)
        codes = run.records[key].codes[p.position]
        total += codes.size
        e2e += int((codes != irun.records[key].codes[p.position]).sum())
        local += int((codes != run.records[key].ideal_codes[p.position]).sum())
    text = lab.views["compare"].summary.text()
    assert f"invocations 1–{len(done)} of this image" in text
    assert f"<b>{e2e:,}</b> of {total:,} codes differ" in text and f"<b>{local:,}</b> differ" in text
    assert e2e > 0 and local > 0


@pytest.mark.parametrize("event", ["saturation", "code_error", "misclassified"])
def test_event_jumps_land_on_frames_that_have_the_event(window, lab, qtbot, event):
    preset(lab, qtbot, "harsh")
    lab.min_error.setValue(2)
    start = (window.session.image, window.session.frame)
    window.named_actions[f"next_{event}"].trigger()
    qtbot.waitUntil(lambda: not lab.search.busy, timeout=20000)
    window.refresh()
    s, f = window.session, window.frame
    assert lab.search.last is not None and lab.search.last[0] == "hit", lab.event_status.text()
    assert (s.image, s.frame) == lab.search.last[1:] != start
    if event == "saturation":
        assert np.abs(f.codes).max() >= s.config.max_code
    elif event == "code_error":
        assert np.abs(f.codes.astype(int) - f.ideal_codes).max() >= 2
    else:
        run = s.current
        assert f.final and run.prediction != run.label and s.image != start[0]


def test_a_second_press_cancels_the_search(window, lab, qtbot):
    preset(lab, qtbot, "ideal")  # an ideal chip never errs: the search would go through 1000 images
    lab.jump("code_error")
    assert lab.search.busy
    lab.jump("code_error")
    assert not lab.search.busy and "cancelled" in lab.event_status.text()
    assert all(b.isEnabled() for b in lab.event_buttons.values())


def test_chip_config_toml_round_trip_through_the_file_menu(window, lab, qtbot, tmp_path, monkeypatch):
    lab.knobs.set_value("cap_mismatch_sigma", 0.05)
    lab.knobs.set_value("ktc_noise", False)
    wait_config(qtbot, window, cap_mismatch_sigma=0.05, ktc_noise=False)
    saved = window.session.config
    path = tmp_path / "chip.toml"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.named_actions["save_chip"].trigger()
    assert load_config(path) == saved
    preset(lab, qtbot, "calibrated")
    assert window.session.config == ChipConfig()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.named_actions["load_chip"].trigger()
    window.refresh()
    lab.refresh()
    assert window.session.config == saved
    assert lab.knobs.sliders["cap_mismatch_sigma"].value() == pytest.approx(5.0)
    assert not lab.knobs.ktc.isChecked()
    assert "custom" in window.status_chip.text()


def test_a_bad_config_file_is_a_message_not_a_traceback(window, lab, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: shown.append(a[1:3]))
    bad = tmp_path / "bad.toml"
    bad.write_text("cap_mismatch_sigma = 7\n")  # out of range
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    before = window.session.config
    window.named_actions["load_chip"].trigger()
    assert len(shown) == 1 and "cap_mismatch_sigma" in shown[0][1]
    bad.write_text("columns = 8\nadc_groups = 8\n")  # valid TOML, but a row tile is wider than the macro
    window.named_actions["load_chip"].trigger()
    assert len(shown) == 2 and "columns" in shown[1][1]
    assert window.session.config == before


def test_clicking_a_column_opens_its_detail(window, lab, qtbot):
    go(window, 1, 250)
    lab.select("errors")
    lab.refresh()
    view = lab.views["errors"]
    a = lab.data.layer(window.session, window.session.image, 1)
    worst = a.stats.column[a.stats.worst]
    qtbot.mouseClick(view.worst_buttons[2], QtCore.Qt.MouseButton.LeftButton)
    assert view.selected == worst[2] == view.detail.column
    d = view.detail
    sel = a.signals.column == worst[2]
    np.testing.assert_array_equal(d.series["code"], a.signals.code[sel])
    np.testing.assert_array_equal(d.v_p.getData()[1], a.signals.v_p[sel])
    assert d.curve is not None and d.curve.column == worst[2]
    assert f"Column {worst[2]}" in d.title.text()
    # a click on a bar of the per-column plot selects that column
    order = view._order
    vb = view.col_plot.getPlotItem().vb
    target = 5
    scene = vb.mapViewToScene(QtCore.QPointF(target, 0.1))
    pos = view.col_plot.mapFromScene(scene)
    qtbot.mouseClick(view.col_plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert view.selected == a.stats.column[order[target]]
    # the detail's series take the main window to an invocation
    k = int(d.series["frame"][3])
    d.frameRequested.emit(k)
    assert window.session.frame == k
    # the waveform view follows the selected column when it is evaluated
    lab.select("waveform")
    lab.refresh()
    if view.selected in window.frame.place.columns:
        assert lab.views["waveform"].column == view.selected


def test_waveform_is_the_models(window, lab, qtbot):
    go(window, 0, 200)
    lab.select("waveform")
    lab.refresh()
    view, f, cfg = lab.views["waveform"], window.frame, window.session.config
    j = int(np.flatnonzero(f.place.columns == view.column)[0])
    ref = invocation_waveform(cfg, f.v_dac, float(f.v_p[j]), float(f.v_n[j]), int(f.codes[j]), f.adc_lsb)
    np.testing.assert_array_equal(view.wave.v_p, ref.v_p)
    assert view.wave.t_decision_ns == ref.t_decision_ns
    assert view.decision[0].value() == pytest.approx(ref.t_decision_ns)
    np.testing.assert_array_equal(view.diff.getData()[1], (ref.v_n - ref.v_p) * 1e3)
    assert [r.getRegion() for r in view.regions[0]] == [(a, b) for _, a, b in ref.phases]
    view.column_box.setCurrentIndex(3)
    assert view.column == int(f.place.columns[3])


def test_mismatch_map_switches(window, lab, qtbot):
    lab.select("mismatch")
    lab.refresh()
    view, chip = lab.views["mismatch"], window.session.chip
    for kind in ("dac_offset", "adc_offset", "cap_n"):
        view.set_kind(kind)
        np.testing.assert_allclose(view.values, analysis.mismatch_map(chip, kind))
    assert "ADC offset" not in view.map_panel.title.text()


def test_monte_carlo_runs_and_cancels(window, lab, qtbot):
    lab.select("montecarlo")
    mc = lab.views["montecarlo"]
    window.command("seed", 3)
    mc.start(chips=3, images=20, workers=2)
    assert mc.running
    qtbot.waitUntil(lambda: not mc.running, timeout=60000)
    assert mc.state == "done" and sorted(mc.accuracies) == [3, 4, 5]
    assert mc.ideal_accuracy is not None and mc.progress.value() == 3
    assert mc.this_line.isVisible() and mc.this_line.value() == pytest.approx(mc.accuracies[3] * 100)
    assert "This chip (seed 3)" in mc.summary.text()
    heights = np.asarray(mc.hist.opts["height"])
    assert heights.sum() == 3
    # a long sweep, cancelled after its first chip
    mc.start(chips=40, images=200, workers=2)
    qtbot.waitUntil(lambda: len(mc.accuracies) >= 1, timeout=60000)
    qtbot.mouseClick(mc.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not mc.running, timeout=60000)
    assert mc.state == "cancelled" and 1 <= len(mc.accuracies) < 40
    assert mc.run_button.isEnabled() and not mc.cancel_button.isEnabled()


def test_monte_carlo_gives_each_chip_its_interval_and_says_which_it_cannot_tell_apart(lab):
    mc = lab.select("montecarlo")
    # three chips on 100 images: seed 0 at 50 %, seed 1 at 52 % (within its interval), seed 2 at 95 %
    mc.accuracies, mc.n_images, mc.this_seed = {0: 0.50, 1: 0.52, 2: 0.95}, 100, 0
    mc.progress.setRange(0, 3)
    mc._redraw()
    lo, hi = wilson(50, 100)
    opts = mc.chip_bars.opts
    np.testing.assert_allclose(opts["top"], [(wilson(c, 100)[1] - c / 100) * 100 for c in (50, 52, 95)])
    np.testing.assert_allclose(opts["bottom"], [(c / 100 - wilson(c, 100)[0]) * 100 for c in (50, 52, 95)])
    text = mc.summary.text()
    assert f"<b>50.00 %</b> ({lo * 100:.2f}–{hi * 100:.2f} %), rank 3 of 3" in text
    assert "not distinguishable from 1 of the other 2 chips on 100 images" in text
    assert mc.alike(0) == [1] and mc.alike(2) == []
    lo_m, hi_m = accuracy_interval([0.50, 0.52, 0.95])
    assert f"95 % interval of the mean {lo_m * 100:.2f}–{hi_m * 100:.2f} %" in text  # over chips
    mc.accuracies = {0: 0.50, 1: 0.52}
    mc._redraw()
    assert "not distinguishable from any of them" in mc.summary.text()


@pytest.mark.parametrize("view", ["mismatch", "waveform"])
def test_snapshot_view_writes_a_png(tmp_path, model_path, qapp, no_qt_warnings, capsys, view):
    out = tmp_path / f"{view}.png"
    code = main(["snapshot", "--view", view, "--out", str(out), "--model", str(model_path),
                 "--size", "1280x720", "--layer", "conv2", "--step", "40"])
    assert code == 0 and "chip lab" in capsys.readouterr().out
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (1280, 720)


def test_snapshot_unknown_view_is_one_line(tmp_path, model_path, capsys):
    out = tmp_path / "x.png"
    code = main(["snapshot", "--view", "gremlins", "--out", str(out), "--model", str(model_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "mismatch" in err


def test_opening_the_lab_takes_the_long_lived_objects_out_of_the_collector(window, lab):
    """A full collection over the windows' ~114,000 objects took ~50-65 ms on the GUI thread (a display
    stall whenever pyqtgraph's collector reached the oldest generation): the lab freezes them when it
    opens, so the collector's generations hold only what is new. collect_now (between tests) unfreezes."""
    import gc

    from convsram.gui.gc_guard import collect_now

    frozen = gc.get_freeze_count()
    assert frozen > 50_000
    assert sum(len(gc.get_objects(generation=g)) for g in range(3)) < frozen / 5
    collect_now()
    assert gc.get_freeze_count() == 0
