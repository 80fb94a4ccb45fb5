"""Physics of the chip model: exact arithmetic when ideal, kT/C and mismatch statistics, seeds."""

import numpy as np
import pytest

from convsram.core.chip import Chip
from convsram.core.config import BOLTZMANN, ChipConfig


def programmed(config: ChipConfig, seed: int = 0, n_rows: int = 64, wseed: int = 1) -> Chip:
    chip = Chip(config, seed)
    w = np.random.default_rng(wseed).choice([-1, 1], size=(n_rows, config.columns))
    chip.program(w)
    return chip


def one_per_group(chip: Chip, rng: np.random.Generator, k: int = 16) -> np.ndarray:
    groups = rng.choice(chip.config.adc_groups, size=k, replace=False)
    return groups * chip.config.columns_per_group + rng.integers(0, chip.config.columns_per_group, k)


def test_ideal_chip_reproduces_integer_arithmetic_exactly():
    cfg = ChipConfig.ideal()
    chip = programmed(cfg)
    rng = np.random.default_rng(7)
    total = 0
    for _ in range(100):  # 100 batches x 100 = 10,000 random invocations
        n = int(rng.integers(1, 65))
        cols = one_per_group(chip, rng, int(rng.integers(1, 17)))
        x = rng.integers(0, 128, size=(100, n))
        step = int(rng.choice([1, 2, 7, 10, 25, 50, 64, 1000, 4096]))  # even steps: exact ties must agree
        mode = str(rng.choice(["relu", "signed"]))
        inv = chip.invoke_batch(x, cols, adc_lsb=chip.adc_lsb_for(step, n), mode=mode)
        s = x @ chip.weights[:n, cols].astype(np.int64)
        np.testing.assert_allclose(inv.v_n - inv.v_p, cfg.dac_lsb / n * s, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(inv.codes, inv.ideal_codes)
        bulk = chip.invoke_batch(x, cols, adc_lsb=chip.adc_lsb_for(step, n), mode=mode, detail=False)
        np.testing.assert_array_equal(bulk.codes, inv.ideal_codes)
        # and the ideal code is the integer round-half-up of S / step, clipped
        lo = 0 if mode == "relu" else -127
        np.testing.assert_array_equal(inv.codes, np.clip((2 * s + step) // (2 * step), lo, 127))
        total += x.shape[0]
    assert total == 10_000


def test_ktc_noise_matches_prediction():
    cfg = ChipConfig.ideal(ktc_noise=True)
    chip = programmed(cfg, n_rows=50)
    x = np.random.default_rng(3).integers(0, 128, 50)
    cols = np.arange(16) * 16
    inv = chip.invoke_batch(np.tile(x, (20_000, 1)), cols)
    measured = (inv.v_n - inv.v_p).std(axis=0)
    per_line = np.sqrt(BOLTZMANN * cfg.temperature / (50 * cfg.c_line))
    predicted = np.sqrt(2) * per_line  # two independent lines
    assert cfg.ktc_sigma(50) == pytest.approx(per_line)
    np.testing.assert_allclose(measured, predicted, rtol=0.10)
    # and the mean is still the ideal difference
    np.testing.assert_allclose((inv.v_n - inv.v_p).mean(0), inv.ideal_diff[0], atol=4 * predicted / 100)


def test_cap_mismatch_error_is_unbiased_and_scales_as_predicted():
    n, chips = 50, 300
    rng = np.random.default_rng(5)
    x = rng.integers(0, 128, n)
    w = rng.choice([-1, 1], size=(n, 16))
    cols = np.arange(16) * 16
    dv = x * 3e-3
    a, b = np.where(w == 1, dv[:, None], 0), np.where(w == -1, dv[:, None], 0)
    # first-order prediction: std = sigma / N * sqrt(sum (a - mean a)^2 + sum (b - mean b)^2)
    shape = np.sqrt(((a - a.mean(0)) ** 2).sum(0) + ((b - b.mean(0)) ** 2).sum(0)) / n
    spreads = []
    for sigma in (0.02, 0.08):
        cfg = ChipConfig.ideal(cap_mismatch_sigma=sigma)
        errors = []
        for seed in range(chips):
            chip = Chip(cfg, seed)
            chip.program(w, columns=cols)
            inv = chip.invoke(x, cols)
            errors.append(inv.diff - inv.ideal_diff)
        errors = np.array(errors)  # (chips, 16)
        sem = errors.std(0) / np.sqrt(chips)
        assert np.all(np.abs(errors.mean(0)) < 4 * sem + 1e-12), "mismatch error must have zero mean"
        np.testing.assert_allclose(errors.std(0), sigma * shape, rtol=0.25)
        assert np.mean(errors.std(0) / (sigma * shape)) == pytest.approx(1.0, abs=0.08)
        spreads.append(errors.std())
    assert spreads[1] / spreads[0] == pytest.approx(4.0, rel=0.15)


def test_same_seed_same_chip_and_results():
    cfg = ChipConfig()
    x = np.random.default_rng(0).integers(0, 128, size=(500, 40))
    cols = np.arange(16) * 16 + 3
    runs = []
    for seed in (11, 11, 12):
        chip = programmed(cfg, seed=seed)
        runs.append(chip.invoke_batch(x, cols))
    np.testing.assert_array_equal(runs[0].v_p, runs[1].v_p)
    np.testing.assert_array_equal(runs[0].codes, runs[1].codes)
    assert not np.array_equal(runs[0].v_p, runs[2].v_p)
    assert (runs[0].codes != runs[2].codes).any()


def test_noise_is_drawn_per_invocation_and_replays_with_a_given_generator():
    chip = programmed(ChipConfig())
    x = np.random.default_rng(0).integers(0, 128, 50)
    cols = np.arange(16) * 16
    a, b = chip.invoke(x, cols), chip.invoke(x, cols)
    assert not np.array_equal(a.v_p, b.v_p)  # fresh noise each time
    c = chip.invoke(x, cols, rng=np.random.default_rng(9))
    d = chip.invoke(x, cols, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(c.v_p, d.v_p)


def test_single_path_is_the_batched_path():
    chip = programmed(ChipConfig(), seed=4)
    x = np.random.default_rng(1).integers(0, 128, size=(3, 30))
    cols = [0, 17, 34]
    batch = chip.invoke_batch(x, cols, rng=np.random.default_rng(2))
    single = chip.invoke(x[0], cols, rng=np.random.default_rng(2))
    # the first row of a batch uses the same draws only for k-wide noise blocks; compare noiseless parts
    np.testing.assert_allclose(single.v_dac, batch.v_dac[0])
    np.testing.assert_array_equal(single.ideal_codes, batch.ideal_codes[0])
    quiet = programmed(ChipConfig(ktc_noise=False, comparator_noise_sigma=0.0), seed=4)
    b2 = quiet.invoke_batch(x, cols)
    for i in range(3):
        s2 = quiet.invoke(x[i], cols)
        np.testing.assert_array_equal(s2.codes, b2.codes[i])
        np.testing.assert_allclose(s2.v_p, b2.v_p[i], rtol=1e-14)  # BLAS may reorder sums


def test_static_mismatch_moves_results_and_reconfigure_keeps_the_chip():
    chip = programmed(ChipConfig.ideal(), seed=3)
    x = np.random.default_rng(0).integers(0, 128, size=(200, 64))
    cols = np.arange(16) * 16
    base = chip.invoke_batch(x, cols, adc_lsb=chip.adc_lsb_for(7, 64))
    chip.reconfigure(ChipConfig.ideal(comparator_offset_sigma=2e-3))
    lsb = chip.adc_lsb_for(7, 64)
    shifted = chip.invoke_batch(x, cols, adc_lsb=lsb, mode="signed")
    offset = np.round(chip.adc_offset[chip.group_of(cols)] / lsb + 1e-12)  # volts -> codes
    inside = np.abs(shifted.ideal_codes) + np.abs(offset) < 126  # not clipped
    delta = (shifted.codes - shifted.ideal_codes)
    # with only a comparator offset, every unclipped code moves by that ADC's offset (rounded)
    assert np.all(np.abs(delta - offset)[inside] <= 1) and np.abs(offset).max() >= 2
    assert (base.codes == base.ideal_codes).all()
    again = Chip(ChipConfig.ideal(comparator_offset_sigma=2e-3), seed=3)
    np.testing.assert_array_equal(again.adc_offset, chip.adc_offset)


@pytest.mark.parametrize("call,match", [
    (lambda c: c.invoke(np.full(50, 128), [0]), "0..127"),
    (lambda c: c.invoke(np.full(50, -1), [0]), "0..127"),
    (lambda c: c.invoke(np.zeros((2, 50), int), [0]), "shape"),
    (lambda c: c.invoke(np.zeros(65, int), [0]), "rows"),
    (lambda c: c.invoke(np.zeros(50, int), [0, 1]), "one column per group"),
    (lambda c: c.invoke(np.zeros(50, int), [300]), "out of range"),
    (lambda c: c.invoke(np.zeros(50, int), [255]), "program"),
    (lambda c: c.invoke(np.zeros(50, int), [0], mode="sigmoid"), "mode"),
    (lambda c: c.invoke(np.zeros(50, int), [0], adc_lsb=-1.0), "adc_lsb"),
    (lambda c: c.program(np.zeros((4, 4))), r"\+1 or -1"),
    (lambda c: c.program(np.ones((65, 4))), "does not fit"),
])
def test_bad_inputs_raise_clear_errors(call, match):
    chip = Chip(ChipConfig(), 0)
    chip.program(np.ones((50, 128)))
    with pytest.raises(ValueError, match=match):
        call(chip)


def test_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        Chip(ChipConfig(), -1)


def test_bulk_path_draws_the_same_code_noise():
    """detail=False folds line and comparator noise into one draw: same code statistics."""
    chip = programmed(ChipConfig(), n_rows=50)
    x = np.tile(np.random.default_rng(3).integers(0, 128, 50), (40_000, 1))
    cols = np.arange(16) * 16
    lsb = chip.adc_lsb_for(3, 50)  # fine ADC step so noise spans several codes
    full = chip.invoke_batch(x, cols, adc_lsb=lsb, mode="signed")
    bulk = chip.invoke_batch(x, cols, adc_lsb=lsb, mode="signed", detail=False)
    np.testing.assert_allclose(bulk.codes.mean(0), full.codes.mean(0), atol=0.05)
    np.testing.assert_allclose(bulk.codes.std(0), full.codes.std(0), rtol=0.03, atol=0.02)
    assert full.codes.std(0).mean() > 0.3  # the noise really spans codes
    np.testing.assert_array_equal(bulk.ideal_codes, full.ideal_codes)
