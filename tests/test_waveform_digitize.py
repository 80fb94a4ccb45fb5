"""The inside-one-invocation waveform and the drawing-pad preprocessing."""

import numpy as np
import pytest

from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.digitize import to_mnist
from convsram.core.mnist import load
from convsram.core.waveform import invocation_waveform


@pytest.mark.parametrize("mode", ["relu", "signed"])
def test_waveform_settles_to_the_chip_values_and_ramps_code_steps(mode):
    cfg = ChipConfig()
    chip = Chip(cfg, 0)
    chip.program(np.random.default_rng(0).choice([-1, 1], size=(40, 256)))
    x = np.random.default_rng(1).integers(0, 128, 40)
    inv = chip.invoke(x, np.arange(16) * 16, adc_lsb=chip.adc_lsb_for(5, 40), mode=mode)
    for j in range(16):
        w = invocation_waveform(cfg, inv.v_dac, inv.v_p[j], inv.v_n[j], inv.codes[j], inv.adc_lsb)
        assert w.t_ns[-1] == pytest.approx(150.0, abs=0.1)  # the paper's cycle at 7 b
        end_share = np.searchsorted(w.t_ns, 40.0)
        assert w.v_p[end_share] == pytest.approx(inv.v_p[j], abs=1e-5)
        assert w.v_n[end_share] == pytest.approx(inv.v_n[j], abs=1e-5)
        np.testing.assert_allclose(w.v_rows[:, np.searchsorted(w.t_ns, 20.0)], inv.v_dac, atol=1e-4)
        code = int(inv.codes[j])
        assert w.t_decision_ns == pytest.approx(45.0 + abs(code) * 0.8)
        ramp = w.v_p if w.ramped == "P" else w.v_n
        if code:
            assert ramp[-1] - ramp[end_share] == pytest.approx(abs(code) * inv.adc_lsb, rel=1e-6)
            # unless the code saturated, the ramped line has crossed the other, within one step plus the
            # comparator's offset, noise and charge injection (4 sigma, in volts) and the ramp's gain error
            other = w.v_n if w.ramped == "P" else w.v_p
            if abs(code) < cfg.max_code:
                analog = np.hypot(np.hypot(cfg.comparator_offset_sigma, cfg.comparator_noise_sigma),
                                  cfg.charge_injection_sigma)
                bound = inv.adc_lsb * (1 + 4 * cfg.adc_gain_sigma * abs(code)) + 4 * analog
                assert abs(ramp[-1] - other[-1]) < bound
        else:
            assert w.ramped == ""


def test_drawn_digit_comes_back_like_mnist():
    digits = load("test", limit=20).images
    for img in digits[:10]:
        canvas = np.zeros((300, 400))
        big = np.kron(img.astype(float), np.ones((9, 9)))  # drawn 9x larger, off-centre
        canvas[20:20 + 252, 100:100 + 252] = big
        out = to_mnist(canvas)
        assert out.shape == (28, 28) and out.dtype == np.uint8
        corr = np.corrcoef(out.ravel().astype(float), img.ravel().astype(float))[0, 1]
        assert corr > 0.85


def test_empty_drawing_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        to_mnist(np.zeros((100, 100)))
