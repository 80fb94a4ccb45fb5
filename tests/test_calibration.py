"""Offset calibration (core/calibration.py): measured like a chip would, finite bits, charged once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from convsram.cli import main
from convsram.core import energy
from convsram.core.calibration import (
    CalibrationSettings,
    Target,
    calibrate,
    calibrate_columns,
    residual_offsets_v,
    targets_for,
)
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.evaluate import evaluate
from convsram.core.inference import ChipEvaluator, programmed_chip
from convsram.core.mapping import macro_seed, place
from convsram.core.mnist import load
from convsram.core.network import forward, input_codes
from convsram.core.noise import KeyedNoise
from convsram.core.presets import uncalibrated
from tests.helpers import random_model, random_model_file

MODEL = random_model()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return random_model_file(tmp_path_factory.mktemp("model"))


def chip_with(config: ChipConfig, seed: int = 0) -> Chip:
    chip = Chip(config, seed)
    programmed_chip(MODEL, chip)
    return chip


def test_same_seed_same_correction_other_seed_other():
    a = calibrate(chip_with(uncalibrated(), 4), MODEL)
    b = calibrate(chip_with(uncalibrated(), 4), MODEL)
    c = calibrate(chip_with(uncalibrated(), 5), MODEL)
    np.testing.assert_array_equal(a.stored, b.stored)
    assert a.energy_pj == b.energy_pj and a.time_ns == b.time_ns
    assert np.any(a.stored != c.stored)


def test_calibration_leaves_a_fraction_of_the_uncalibrated_offset():
    chip = chip_with(uncalibrated(), 1)
    before = residual_offsets_v(chip, MODEL)
    r = calibrate(chip, MODEL)
    after = residual_offsets_v(chip, MODEL)
    used = ~np.isnan(before)
    assert used.sum() == r.columns.size == 242
    np.testing.assert_allclose(after[r.columns], r.offset_after_v)
    np.testing.assert_allclose(before[r.columns], r.offset_before_v)
    assert 4e-3 < r.rms_v(after=False) < 9e-3  # the 6 mV comparators plus injection
    assert r.rms_v(after=True) < r.rms_v(after=False) / 5  # this random model has coarse ADC steps
    # whole-code correction: what is left is about half a code at most, plus the estimate's noise
    assert np.all(np.abs(r.offset_after_v) <= 0.75 * r.adc_lsb)
    assert r.clipped == 0 and np.all(r.stored == np.round(r.stored))


def test_the_correction_has_finite_bits():
    chip = chip_with(uncalibrated(comparator_offset_sigma=0.05), 2)  # 50 mV: beyond a 3-b register
    r = calibrate(chip, MODEL, settings=CalibrationSettings(bits=3, frac_bits=1))
    lo, hi = r.settings.limits
    assert (lo, hi) == (-2.0, 1.5)
    assert np.all((r.stored >= lo) & (r.stored <= hi)) and np.all(r.stored * 2 == np.round(r.stored * 2))
    assert r.clipped > 0
    fine = calibrate(chip_with(uncalibrated(), 2), MODEL, settings=CalibrationSettings(bits=9, frac_bits=2))
    coarse = calibrate(chip_with(uncalibrated(), 2), MODEL)
    assert fine.rms_v(after=True) < coarse.rms_v(after=True)


@pytest.mark.parametrize("kwargs,match", [({"samples": 0}, "samples"), ({"bits": 1}, "bits"),
                                          ({"bits": 4, "frac_bits": 4}, "frac_bits")])
def test_bad_settings_say_which(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CalibrationSettings(**kwargs)


def test_a_calibrated_chip_with_only_a_comparator_offset_converts_like_the_ideal_one():
    cfg = ChipConfig.ideal(comparator_offset_sigma=5e-3)
    chip = chip_with(cfg, 3)
    tgt = targets_for(MODEL, chip)[3]  # a conv2 chunk: signed, 48 rows
    x = np.random.default_rng(0).integers(0, 128, size=(300, tgt.n_rows))
    raw = chip.invoke_batch(x, tgt.columns, tgt.adc_lsb, "signed")
    assert np.mean(raw.codes != raw.ideal_codes) > 0.5  # 5 mV is several codes
    r = calibrate(chip, MODEL)
    assert r.settings.samples == 64
    cal = chip.invoke_batch(x, tgt.columns, tgt.adc_lsb, "signed")
    # noise-free: the estimate is the offset rounded, so the codes are off by at most one
    assert np.abs(cal.codes - cal.ideal_codes).max() <= 1
    assert np.mean(cal.codes != cal.ideal_codes) < 0.5


def test_the_same_volts_of_offset_on_every_layer():
    """The comparator offset is fixed in volts: a layer with a finer ADC step sees more codes of it."""
    chip = Chip(ChipConfig.ideal(comparator_offset_sigma=3e-3), 0)
    chip.program(np.ones((32, 16), dtype=np.int8), np.arange(16) * 16)
    cols = np.arange(16) * 16
    x = np.zeros((1, 32), dtype=np.int64)
    coarse, fine = 2e-3, 0.5e-3  # V per code
    a = chip.invoke_batch(x, cols, coarse, "signed").codes[0]
    b = chip.invoke_batch(x, cols, fine, "signed").codes[0]
    expect = chip.adc_offset[chip.group_of(cols)]
    np.testing.assert_array_equal(a, np.floor(expect / coarse + 0.5 + chip.tie_bias(32, coarse)))
    np.testing.assert_array_equal(b, np.floor(expect / fine + 0.5 + chip.tie_bias(32, fine)))


def test_energy_and_time_are_charged_once_per_chip():
    chip = chip_with(uncalibrated(), 0)
    r = calibrate(chip, MODEL)
    targets = targets_for(MODEL, chip)
    assert r.invocations == 64 * len(targets) and r.conversions == 64 * 242
    t_inv = energy.invocation_time_ns(chip.config)
    assert r.time_ns == pytest.approx(r.invocations * t_inv + energy.write_time_ns(1))
    assert set(r.energy_pj) >= {"dac", "array", "adc", "digital", "write"}
    assert r.energy_pj["write"] == pytest.approx(energy.write_energy_pj(242 * 7))
    data = load("test", limit=40)
    plain = evaluate(MODEL, data.images, data.labels, uncalibrated(), seed=0)
    cal = evaluate(MODEL, data.images, data.labels, uncalibrated(), seed=0, calibrate=True)
    assert plain["calibration"] is None and "calibration" not in plain["energy_breakdown_pj"]
    assert cal["calibration"]["energy_pj"] == pytest.approx(r.energy_total_pj)
    assert cal["energy_breakdown_pj"]["calibration"] == pytest.approx(r.energy_total_pj / 40)
    assert cal["time_per_image_ns"] - plain["time_per_image_ns"] == pytest.approx(r.time_ns / 40)


def test_calibrating_an_ideal_chip_changes_nothing():
    data = load("test", limit=30)
    chip = chip_with(ChipConfig.ideal(), 0)
    r = calibrate(chip, MODEL)
    assert np.all(r.stored == 0) and np.all(r.offset_before_v == 0)
    a = evaluate(MODEL, data.images, data.labels, ChipConfig.ideal(), seed=0)
    b = evaluate(MODEL, data.images, data.labels, ChipConfig.ideal(), seed=0, calibrate=True)
    assert a["correct"] == b["correct"]


def test_calibration_noise_does_not_touch_inference_noise():
    chip = chip_with(ChipConfig(), 0)
    state = chip.noise.bit_generator.state
    calibrate(chip, MODEL)
    assert chip.noise.bit_generator.state == state


def test_explicit_targets_and_a_recalibration_measures_the_chip_as_fabricated():
    chip = chip_with(uncalibrated(), 6)
    tgt = targets_for(MODEL, chip)[0]
    first = calibrate_columns(chip, [Target(tgt.columns, tgt.n_rows, tgt.adc_lsb, "conv1")])
    again = calibrate_columns(chip, [Target(tgt.columns, tgt.n_rows, tgt.adc_lsb, "conv1")])
    np.testing.assert_array_equal(first.stored, again.stored)
    assert list(first.by_label()) == ["conv1"] and first.summary()["columns"] == tgt.columns.size


def test_eval_calibrate_over_chips(model_path, capsys):
    code = main(["eval", "--model", str(model_path), "--images", "20", "--chip", "uncalibrated",
                 "--calibrate", "--chips", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "uncalibrated, seed 0; calibrated 242 columns" in out
    assert "over 2 chips   mean" in out and "5th percentile" in out
    code = main(["eval", "--model", str(model_path), "--images", "20", "--chip", "uncalibrated",
                 "--calibrate", "--chips", "2", "--json"])
    r = json.loads(capsys.readouterr().out)
    assert code == 0 and r["chips"]["chips"] == 2 and len(r["chips"]["per_chip"]) == 2
    assert r["calibration"]["rms_offset_after_mv"] < r["calibration"]["rms_offset_before_mv"]
    assert r["energy_breakdown_pj"]["calibration"] > 0


# --- a network in several phases or on several macros ------------------------------------------------
TWO_PHASES = {"columns": 192}  # 12 slots per ADC group: conv1 + conv2 (7 slots), then fc (9) rewrites them
TWO_MACROS = {"columns": 192, "macros": 2}  # the same, fc on a second macro: one phase
SPLIT = {"columns": 128, "macros": 2}  # phase 0 conv1 + conv2; phase 1 fc, its 13 row tiles over 2 macros


def test_one_phase_on_one_macro_calibrates_exactly_as_before():
    """The correction stored before per-phase calibration existed (seed 3, uncalibrated preset), and an
    evaluation loading it through the evaluator equals one on the chip that holds it, with no register
    writes booked."""
    chip = chip_with(uncalibrated(), 3)
    r = calibrate(chip, MODEL)
    assert r.columns.size == 242 and (r.phases, r.macros) == (1, 1) and list(r.corrections) == [(0, 0)]
    assert r.stored[:12].tolist() == [-6, 11, 0, -1, -3, -3, 2, -4, -1, -8, -2, -9]
    assert np.abs(r.stored).sum() == 621 and np.count_nonzero(r.stored) == 203
    assert np.sum(r.stored * np.arange(242)) == -39935
    assert r.time_ns == pytest.approx(192005.0, rel=1e-12) and r.reload_bits_per_image == 0
    np.testing.assert_array_equal(chip.correction, r.corrections[(0, 0)])
    codes = input_codes(load("test", limit=12).images)
    runs = []
    for loads in (None, r.loads()):
        c = chip_with(uncalibrated(), 3)
        amap = place(MODEL, c.config)
        c.set_correction(r.corrections[(0, 0)])
        keyed = KeyedNoise(3)
        ev = ChipEvaluator(c, MODEL, amap, rng=keyed, corrections=loads)
        keyed.begin(0, len(codes))
        runs.append((forward(MODEL, codes, ev), [dict(led.energy_pj) for led in ev.ledger]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1] and all(led["write"] == 0 for led in runs[1][1])


def _two_phase(cfg: ChipConfig, seed: int = 0):
    chip = chip_with(cfg, seed)
    return chip, place(MODEL, cfg)


def test_a_network_in_two_phases_gets_a_correction_per_phase():
    cfg = uncalibrated(**TWO_PHASES)
    chip, amap = _two_phase(cfg, 1)
    assert amap.phases == 2 and amap.macros_used == 1
    before = residual_offsets_v(chip, MODEL, amap)
    r = calibrate(chip, MODEL, amap)
    after = residual_offsets_v(chip, MODEL, amap, r)
    assert (r.phases, r.macros) == (2, 1) and list(r.corrections) == [(0, 0), (1, 0)]
    assert r.columns.size == 242 and before.shape == (2 * 192,)
    fc = r.phase == 1
    assert set(r.label[fc]) == {"fc"} and set(r.label[~fc]) == {"conv1", "conv2"}
    # fc reuses columns of conv1/conv2 (other weights, another ADC step): their corrections differ
    shared = np.intersect1d(r.columns[fc], r.columns[~fc])
    assert shared.size > 50
    assert np.any(r.corrections[(0, 0)][shared] != r.corrections[(1, 0)][shared])
    idx = r.flat_index()
    np.testing.assert_allclose(before[idx], r.offset_before_v)
    np.testing.assert_allclose(after[idx], r.offset_after_v)
    assert np.count_nonzero(~np.isnan(before)) == 242
    for phase in (0, 1):  # each phase's columns: well below before, within the correction's step
        sel = r.phase == phase
        rms_b = np.sqrt(np.mean(r.offset_before_v[sel] ** 2))
        rms_a = np.sqrt(np.mean(r.offset_after_v[sel] ** 2))
        assert rms_a < rms_b / 4, phase
        assert np.all(np.abs(r.offset_after_v[sel]) <= 0.75 * r.adc_lsb[sel]), phase
    # the chip holds phase 0 again, with its correction
    np.testing.assert_array_equal(chip.correction, r.corrections[(0, 0)])
    used = amap.owner(0, 0)[:, 0] >= 0
    np.testing.assert_array_equal(chip.weights[:, used], amap.contents(MODEL, 0, 0)[:, used])


def test_the_phase_of_the_running_layer_has_its_correction_loaded():
    """Noise-free chip with only comparator offsets: calibrated, every layer of either phase converts
    within one code of the ideal (its own inputs); without the per-phase loads fc is off by several."""
    cfg = ChipConfig.ideal(comparator_offset_sigma=5e-3, **TWO_PHASES)
    codes = input_codes(load("test", limit=3).images)
    err = {}
    for cal in (False, True):
        chip, amap = _two_phase(cfg, 3)
        r = calibrate(chip, MODEL, amap) if cal else None
        ev = ChipEvaluator(chip, MODEL, amap, detail=True, corrections=r.loads() if r else None)
        forward(MODEL, codes, ev)
        err[cal] = {li: max(np.abs(inv.codes - inv.ideal_codes).max()
                            for (lj, _, _), inv in ev.records.items() if lj == li) for li in range(3)}
    assert max(err[True].values()) <= 1
    assert err[False][2] > 1  # fc (phase 1) as fabricated


def test_register_writes_are_booked_once_per_rewrite_per_image():
    cfg = uncalibrated(**TWO_PHASES)
    codes = input_codes(load("test", limit=7).images)
    chip, amap = _two_phase(cfg, 2)
    r = calibrate(chip, MODEL, amap)
    ledgers = []
    for loads in (None, r.loads()):
        c = chip_with(cfg, 2)
        c.set_correction(r.corrections[(0, 0)])
        ev = ChipEvaluator(c, MODEL, amap, corrections=loads)
        forward(MODEL, codes, ev, batch_size=3)  # 3 batches: the registers are loaded per image, not batch
        ledgers.append(ev.ledger)
    for li, phase in ((0, 0), (2, 1)):  # each phase's first layer books its rewrite
        bits = r.register_bits(phase, 0)
        assert bits == 7 * int(np.sum(r.phase == phase))
        extra = ledgers[1][li].energy_pj["write"] - ledgers[0][li].energy_pj["write"]
        assert extra == pytest.approx(7 * energy.write_energy_pj(bits))
        assert ledgers[1][li].time_ns - ledgers[0][li].time_ns == pytest.approx(7 * energy.write_time_ns(1))
    assert r.reload_bits_per_image == 242 * 7
    assert r.reload_energy_pj_per_image == pytest.approx(energy.write_energy_pj(242 * 7))
    data = load("test", limit=7)
    ev_cal = evaluate(MODEL, data.images, data.labels, cfg, 2, calibrate=True)
    ev_plain = evaluate(MODEL, data.images, data.labels, cfg, 2)
    assert ev_cal["energy_breakdown_pj"]["write"] - ev_plain["energy_breakdown_pj"]["write"] == pytest.approx(
        r.reload_energy_pj_per_image)
    assert ev_cal["calibration"]["reload_bits_per_image"] == 242 * 7


def test_the_one_time_cost_adds_every_phase_and_the_weights_it_writes():
    cfg = uncalibrated(**TWO_PHASES)
    chip, amap = _two_phase(cfg, 4)
    r = calibrate(chip, MODEL, amap)
    assert r.invocations == 64 * sum(len(targets_for(MODEL, chip, amap, p)) for p in (0, 1))
    assert r.conversions == 64 * 242
    fc_bits = MODEL.weights[2].size  # phase 1 written once to be measured
    assert r.energy_pj["write"] == pytest.approx(energy.write_energy_pj(242 * 7 + fc_bits))
    fc_rows = sum(r1 - r0 for r0, r1 in MODEL.layers[2].tiles)
    t_inv = energy.invocation_time_ns(cfg)
    assert r.time_ns == pytest.approx(r.invocations * t_inv + 2 * energy.write_time_ns(1)
                                      + energy.write_time_ns(fc_rows))
    s = r.summary()
    assert (s["phases"], s["macros"], s["corrections"]) == (2, 1, 2) and len(s["by_phase"]) == 2
    assert "in 2 phase(s) on 1 macro(s)" in r.describe() and "register bits" in r.describe()


def test_per_phase_calibration_is_deterministic_and_independent_of_the_batch():
    cfg = uncalibrated(**TWO_PHASES)
    a = calibrate(_two_phase(cfg, 5)[0], MODEL)
    b = calibrate(_two_phase(cfg, 5)[0], MODEL)
    c = calibrate(_two_phase(cfg, 6)[0], MODEL)
    for key in a.corrections:
        np.testing.assert_array_equal(a.corrections[key], b.corrections[key])
    assert a.energy_pj == b.energy_pj and np.any(a.stored != c.stored)
    data = load("test", limit=20)
    r7 = evaluate(MODEL, data.images, data.labels, cfg, 5, batch_size=7, calibrate=True)
    r20 = evaluate(MODEL, data.images, data.labels, cfg, 5, batch_size=20, calibrate=True)
    assert r7["correct"] == r20["correct"]
    assert r7["energy_breakdown_pj"] == pytest.approx(r20["energy_breakdown_pj"], rel=1e-9)


@pytest.mark.parametrize("geometry", [TWO_MACROS, SPLIT])
def test_every_macro_is_calibrated_on_its_own_chip(geometry):
    cfg = uncalibrated(**geometry)
    chip, amap = _two_phase(cfg, 7)
    r = calibrate(chip, MODEL, amap)
    pairs = [(p, m) for p in range(amap.phases) for m in range(amap.macros_used) if amap.phase_layers(p, m)]
    assert list(r.corrections) == pairs and r.macros == 2 and r.columns.size == 242
    assert (r.reload_bits_per_image > 0) == (amap.phases > 1)
    # macro 1 measured on its own chip: the same calibration on a chip of macro 1's seed
    p1 = pairs[-1][0]
    other = Chip(cfg, macro_seed(7, 1))
    amap.program(other, MODEL, p1, 1)
    alone = calibrate_columns(other, targets_for(MODEL, other, amap, p1, 1))
    if amap.phases == 1:  # macro 1's calibration stream starts with this phase
        np.testing.assert_array_equal(alone.corrections[(0, 0)], r.corrections[(p1, 1)])
    sel = r.macro == 1
    assert np.sqrt(np.mean(r.offset_after_v[sel] ** 2)) < np.sqrt(np.mean(r.offset_before_v[sel] ** 2)) / 4
    assert np.all(np.abs(r.offset_after_v) <= 0.75 * r.adc_lsb)
    # the evaluator starts every macro holding phase 0 with that phase's correction (SPLIT: macro 1 holds
    # nothing before fc's phase, whose rewrite loads it)
    ev = ChipEvaluator(chip, MODEL, amap, corrections=r.loads())
    for m in range(2):
        if (0, m) in r.corrections:
            np.testing.assert_array_equal(ev.chips[m].correction, r.corrections[(0, m)])
        else:
            assert ev.chips[m].correction is None


def test_eval_calibrates_the_deeper_network_in_five_phases(capsys):
    """resnet-bw runs in 5 phases on one macro: once refused ('per-phase, per-macro calibration is not
    modelled yet'), now calibrated phase by phase."""
    from convsram.core.paths import ASSETS

    model_file = ASSETS / "models" / "resnet-bw.npz"
    assert main(["eval", "--model", str(model_file), "--chip", "uncalibrated", "--calibrate",
                 "--images", "20"]) == 0
    out = capsys.readouterr()
    chip_lines = [line for line in out.out.splitlines() if line.startswith("chip ")]
    assert len(chip_lines) == 1 and "calibrated 898 columns in 5 phase(s) on 1 macro(s)" in chip_lines[0]
    assert "register bits" in chip_lines[0] and out.err.strip() == ""


def test_eval_calibrates_a_network_on_several_macros(tmp_path, model_path, capsys):
    from convsram.core.configfile import save_config

    conf = save_config(uncalibrated(**SPLIT), tmp_path / "chip.toml")
    assert main(["eval", "--model", str(model_path), "--config", str(conf), "--calibrate", "--images", "10",
                 "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    c = r["calibration"]
    assert (c["phases"], c["macros"], c["corrections"]) == (2, 2, 3)
    assert c["rms_offset_after_mv"] < c["rms_offset_before_mv"] / 4
    assert [(b["phase"], b["macro"]) for b in c["by_phase"]] == [(0, 0), (1, 0), (1, 1)]


def test_the_lab_calibrate_work_runs_on_a_network_in_phases():
    import threading

    from convsram.gui.lab.calibrate import calibrate_work

    cfg = uncalibrated(**TWO_PHASES)
    data = load("test", limit=10)
    msgs = list(calibrate_work(MODEL, data.images, data.labels, cfg, 1, 1, threading.Event()))
    _, result, before, after = msgs[0]
    assert result.phases == 2 and before.shape == after.shape == (2 * 192,)
    assert np.nanstd(after) < np.nanstd(before) / 4
    assert msgs[1][0] == "chip" and msgs[1][1].images == 10


def test_the_lab_view_draws_one_block_of_columns_per_phase(qapp):
    from convsram.gui.lab.calibrate import CalibrationView

    chip, amap = _two_phase(uncalibrated(**TWO_PHASES), 1)
    before = residual_offsets_v(chip, MODEL, amap)
    r = calibrate(chip, MODEL, amap)
    after = residual_offsets_v(chip, MODEL, amap, r)
    view = CalibrationView()
    try:
        view._on_message(("map", r, before, after))
        assert [line.value() for _, line in view.block_lines] == [191.5, 191.5]  # in each of the 2 maps
        heights = np.asarray(view.after_bars.opts["height"])
        np.testing.assert_allclose(heights, after[~np.isnan(after)] * 1e3)
        text = view.map_panel.subtitle.text()
        assert "2 phase(s) on 1 macro(s)" in text and "1,694 register bits" in text
        view._on_message(("map", *_one_phase_map()))  # back to LeNet on one macro: no blocks
        assert view.block_lines == [] and "phase(s)" not in view.map_panel.subtitle.text()
    finally:
        view.close()


def _one_phase_map():
    chip = chip_with(uncalibrated(), 1)
    before = residual_offsets_v(chip, MODEL)
    r = calibrate(chip, MODEL)
    return r, before, residual_offsets_v(chip, MODEL)
