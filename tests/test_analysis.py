"""core.analysis: ideal twin, mismatch maps, per-conversion signals, static vs noise split, column
statistics, transfer curves, kernel pictures, Monte Carlo summaries. No Qt."""

from __future__ import annotations

import numpy as np
import pytest

from convsram.core import analysis as A
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.mnist import load
from convsram.core.network import layer_shapes
from convsram.core.session import Session
from tests.helpers import random_model

ONLY_OFFSET = ChipConfig.ideal(comparator_offset_sigma=5e-4)


@pytest.fixture(scope="module")
def model():
    return random_model()


@pytest.fixture(scope="module")
def data():
    return load("test", limit=6)


@pytest.fixture(scope="module")
def nominal(model, data):
    return Session(model, data, ChipConfig(), seed=3)


def test_preset_names_and_ideal_config():
    assert A.preset_name(ChipConfig.ideal()) == "ideal"
    assert A.preset_name(ChipConfig()) == "calibrated"
    assert A.preset_name(ChipConfig.uncalibrated()) == "uncalibrated"
    assert A.preset_name(ChipConfig.harsh()) == "harsh"
    assert A.preset_name(ChipConfig(dac_inl=0.2)) == "custom"
    cfg = ChipConfig(dac_lsb=2e-3, cap_mismatch_sigma=0.1)
    ideal = A.ideal_config(cfg)
    assert ideal.is_ideal() and ideal.dac_lsb == 2e-3 and ideal.rows == cfg.rows


def test_check_fits(model):
    A.check_fits(model.layers, ChipConfig())
    with pytest.raises(ValueError, match="columns"):
        A.check_fits(model.layers, ChipConfig(columns=8, adc_groups=8))  # a row tile wider than a macro


def test_mismatch_maps_are_the_chips_draws():
    chip = Chip(ChipConfig(), seed=5)
    cfg = chip.config
    for kind in A.MAPS:
        m = A.mismatch_map(chip, kind)
        assert m.shape == (cfg.rows, cfg.columns) and np.isfinite(m).all()
    np.testing.assert_allclose(A.mismatch_map(chip, "cap_p"), (chip.cap_p / cfg.c_line - 1) * 100)
    np.testing.assert_allclose(A.mismatch_map(chip, "dac_offset")[:, 17], chip.dac_offset * 1e3)
    np.testing.assert_allclose(A.mismatch_map(chip, "injection")[9], chip.injection * 1e3)
    adc = A.mismatch_map(chip, "adc_offset")
    np.testing.assert_allclose(adc[0, 16:32], chip.adc_offset[1] * 1e3)  # one ADC per 16 columns, mV
    np.testing.assert_allclose(A.mismatch_values(chip, "adc_offset"), chip.adc_offset * 1e3)
    assert A.mismatch_values(chip, "dac_gain").shape == (cfg.rows,)
    # the spread of 16k capacitor draws is the knob's sigma
    spread = A.mismatch_values(chip, "cap_n").std()
    assert spread == pytest.approx(A.expected_sigma(cfg, "cap_n"), rel=0.05)
    assert not A.mismatch_map(Chip(ChipConfig.ideal(), seed=5), "cap_p").any()
    with pytest.raises(ValueError, match="unknown mismatch map"):
        A.mismatch_map(chip, "gremlins")


def test_layer_signals_hold_every_conversion_in_frame_order(nominal):
    s = nominal
    run = s.run_image(2)
    for layer in range(len(s.model.layers)):
        sig = A.layer_signals(run, layer, s.config)
        recs = [r for (li, _, _), r in run.records.items() if li == layer]
        assert len(sig) == sum(r.codes.size for r in recs)
        assert np.all(np.diff(sig.frame) >= 0)
        k = run.layer_start[layer] + 1
        f = s.frame_at(2, k)
        here = sig.frame == k
        order = np.argsort(f.place.columns)
        np.testing.assert_array_equal(sig.column[here], f.place.columns[order])
        np.testing.assert_array_equal(sig.code[here], f.codes[order])
        np.testing.assert_array_equal(sig.v_p[here], f.v_p[order])
        np.testing.assert_array_equal(sig.ideal_code[here], f.ideal_codes[order])
        np.testing.assert_array_equal(sig.group, sig.column // s.config.columns_per_group)


def test_static_levels_with_only_an_adc_offset(model, data):
    s = Session(model, data, ONLY_OFFSET, seed=7)
    sig = A.layer_signals(s.run_image(0), 1, s.config)
    st = A.static_levels(s.chip, sig)
    # nothing random: the static code is the code; the level is the ideal level shifted by the
    # comparator offset, the same volts on every layer, so a different number of codes per ADC step
    np.testing.assert_array_equal(st.code, sig.code)
    np.testing.assert_allclose(st.level - sig.ideal_level, s.chip.adc_offset[sig.group] / sig.adc_lsb,
                               atol=1e-9)
    stats = A.column_stats(sig, st)
    assert np.all(stats.noise_rms == 0)
    assert np.abs(stats.mean_error).max() > 0  # an offset of 0.5 mV sigma moves some codes


def test_column_stats_split_static_error_from_noise(nominal):
    s = nominal
    sig = A.layer_signals(s.run_image(1), 1, s.config)
    st = A.static_levels(s.chip, sig)
    stats = A.column_stats(sig, st)
    assert set(stats.column.tolist()) == set(np.unique(sig.column).tolist())
    assert stats.conversions.sum() == len(sig)
    rms = stats.rms_error[stats.worst]
    assert np.all(np.diff(rms) <= 1e-12)  # worst first
    i = stats.index_of(int(stats.column[stats.worst[0]]))
    sel = sig.column == stats.column[i]
    err = sig.code[sel].astype(float) - sig.ideal_code[sel]
    assert stats.rms_error[i] == pytest.approx(np.sqrt(np.mean(err**2)))
    assert stats.max_abs_error[i] == np.abs(err).max()
    assert stats.static_error[i] == pytest.approx(np.mean(st.code[sel] - sig.ideal_code[sel]))
    assert np.all(stats.noise_rms > 0)  # kT/C and comparator noise are on


def test_ideal_chip_has_no_error(model, data):
    s = Session(model, data, ChipConfig.ideal())
    sig = A.layer_signals(s.run_image(0), 0, s.config)
    stats = A.column_stats(sig, A.static_levels(s.chip, sig))
    assert not stats.rms_error.any() and not stats.static_error.any()


def test_transfer_curve_recovers_an_adc_gain_error(model, data):
    cfg = ChipConfig.ideal(adc_gain_sigma=0.05)
    s = Session(model, data, cfg, seed=2)
    sig = A.layer_signals(s.run_image(0), 0, s.config)
    st = A.static_levels(s.chip, sig)
    col = int(sig.column[np.argmax(np.abs(sig.ideal_level))])
    tc = A.transfer_curve(sig, st, col)
    assert np.all(np.diff(tc.ideal_level) >= 0)
    g = col // cfg.columns_per_group
    assert tc.gain_error == pytest.approx(s.chip.adc_gain[g] - 1, abs=1e-6)
    assert tc.offset == pytest.approx(0, abs=1e-6)
    series = A.column_series(sig, col)
    assert series["code"].size == tc.code.size == np.count_nonzero(sig.column == col)
    with pytest.raises(ValueError, match="not used"):
        A.transfer_curve(sig, st, 255)


def test_ideal_twin_runs_the_same_image_on_the_ideal_chip(nominal):
    twin = A.IdealTwin()
    ideal = twin.session_for(nominal)
    assert ideal.config.is_ideal() and twin.session_for(nominal) is ideal  # cached
    run = nominal.run_image(4)
    k = run.layer_start[0] + 40  # conv1: both chips see the image's own pixels
    f, fi = nominal.frame_at(4, k), twin.frame(nominal, 4, k)
    c = A.compare_frames(f, fi)
    assert c.inputs_differ == 0
    np.testing.assert_array_equal(c.ideal_codes, c.local_ideal_codes)
    np.testing.assert_array_equal(fi.codes, fi.ideal_codes)  # the ideal chip is its own ideal
    # later layers: the ideal chip sees its own (ideal) activations
    k2 = run.layer_start[2]
    c2 = A.compare_frames(nominal.frame_at(4, k2), twin.frame(nominal, 4, k2))
    assert c2.codes.shape == c2.ideal_codes.shape
    with pytest.raises(ValueError, match="different places"):
        A.compare_frames(f, twin.frame(nominal, 4, k + 1))
    maps = A.compare_maps(nominal.feature_map(0, f), ideal.feature_map(0, fi))
    assert maps.computed == np.count_nonzero(~np.isnan(maps.chip))
    assert maps.differ == np.count_nonzero(maps.diff[~np.isnan(maps.diff)])


def test_kernel_picture(model):
    shapes = layer_shapes(model.layers)
    w, mask, c = A.kernel_picture(model, shapes, 1, 5, 2)  # conv2, filter 5, third row tile
    assert w.shape == (3, 3, 16) and c == 16
    np.testing.assert_array_equal(w.ravel(), model.weights[1][:, 5])
    r0, r1 = model.layers[1].tiles[2]
    assert mask.ravel()[r0:r1].all() and mask.sum() == r1 - r0
    w, mask, c = A.kernel_picture(model, shapes, 2, 3, 0)  # fc: the input maps' shape
    assert w.shape == (5, 5, 32)


def test_mc_summary_and_histogram():
    acc = [0.98, 0.99, 0.97, 0.99, 0.995]
    s = A.mc_summary(acc, this=0.98)
    assert s.chips == 5 and s.worst == 0.97 and s.best == 0.995 and s.rank == 4
    assert s.mean == pytest.approx(np.mean(acc))
    centres, counts, width = A.accuracy_histogram(acc, images=200)
    assert counts.sum() == 5 and width == pytest.approx(1 / 200)
    for a in acc:  # each accuracy sits inside a bin
        assert np.any(np.abs(centres - a) <= width / 2 + 1e-12)
    centres, counts, width = A.accuracy_histogram(np.linspace(0.5, 1, 300), images=1000, max_bins=40)
    assert len(counts) <= 41 and counts.sum() == 300
    with pytest.raises(ValueError):
        A.mc_summary([])


def test_density_image():
    x = np.array([0.0, 0.5, 0.5, 0.9])
    h = A.density(x, x, (0, 1), (0, 1), bins=10)
    assert h.shape == (10, 10) and h.sum() == 4 and h[5, 5] == 2
