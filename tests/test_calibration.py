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
from convsram.core.inference import programmed_chip
from convsram.core.mnist import load
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


def test_a_network_in_several_phases_is_refused_in_one_line(capsys):
    """resnet-bw runs in 5 phases on one macro: its columns serve other layers at other operating points
    after each rewrite; calibrating it as if it sat still failed deep in the chip ('column 0 holds 25
    programmed rows but the invocation drives 58'). Now one line naming what is not modelled, exit 2."""
    from convsram.core.paths import ASSETS

    model_file = ASSETS / "models" / "resnet-bw.npz"
    assert main(["eval", "--model", str(model_file), "--calibrate", "--images", "20"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "5 phase(s)" in err[0] and "--calibrate" in err[0]
    from convsram.core.network import load_model

    model = load_model(model_file)
    chip = Chip(ChipConfig().with_(macros=5), 0)
    with pytest.raises(ValueError, match="5 macro"):
        calibrate(chip, model)
