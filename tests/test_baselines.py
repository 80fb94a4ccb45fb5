"""Digital baselines: the same work and the same data movement on both sides, each saving named."""

import pytest

from convsram.core import baselines as digital
from convsram.core.energy import BAND_TABLE
from tests.helpers import random_model

_NET = random_model()  # the shipped LeNet's architecture


def _work() -> digital.Work:
    return digital.work_of(_NET)


def test_lenet_loads_29600_input_codes_per_image():
    w = _work()
    assert w.macs == 699_200 and w.input_codes == 29_600  # 576 x 25 + 100 x 144 + 800


def test_input_fetch_is_charged_to_both_sides_or_neither():
    w, array_pj, periphery = _work(), 61_000.0, 8_500.0
    fetch = w.input_codes * BAND_TABLE["input_code_read"].nominal
    assert fetch == pytest.approx(96_200)
    assert digital.chip_energy_pj(array_pj, periphery, w) == pytest.approx(array_pj + periphery + fetch)
    assert digital.chip_energy_pj(array_pj, periphery, w, input_fetch=False) == array_pj + periphery
    for b in digital.BASELINES:
        with_fetch = b.energy_pj(w, periphery)
        without = b.energy_pj(w, periphery, input_fetch=False)
        if b.memories_included:  # a whole-MCU figure has its SRAM inside: nothing to add or remove
            assert with_fetch == without
        else:
            assert with_fetch - without == pytest.approx(fetch)


def test_every_baseline_has_a_range_assumptions_and_a_named_saving():
    w = _work()
    rows = digital.compare(61_000.0, 8_500.0, 178e3, w, exact_correct=993, images=1000)
    names = [r["name"] for r in rows]
    assert len(set(names)) == len(names) >= 4
    for r in rows:
        lo, hi = r["energy_range_pj"]
        assert lo <= r["energy_per_image_pj"] <= hi
        assert r["saving_range"][0] <= r["saving"] <= r["saving_range"][1]
        assert r["name"] in r["text"] and "less energy than" in r["text"]
        assert r["assumptions"] and all(isinstance(a, str) and a for a in r["assumptions"])
        assert r["latency_per_image_ns"] > 0
        assert r["accuracy_ci95"][0] < r["accuracy"] < r["accuracy_ci95"][1]
    assert any("different precision" in r["precision"] for r in rows)
    assert sum(r["fairest"] for r in rows) == 1


def test_fairest_is_the_weight_stationary_datapath_and_narrows_the_gap():
    w = _work()
    b = digital.fairest()
    assert "weight-stationary" in b.name
    x, text = digital.fairest_saving(61_000.0, 8_500.0, w)
    assert b.name in text
    others = [digital.saving(o, 61_000.0, 8_500.0, w) for o in digital.BASELINES if o is not b]
    assert x <= min(others)  # no other baseline makes the chip look worse
    assert 1.0 < x < 4.0  # the chip is "similar or better than small-bitwidth digital" [paper, JSSC]


def test_articles():
    assert digital.article("8-b MAC datapath") == "an" and digital.article("binary") == "a"


def test_the_demo_gets_its_figure_from_one_images_energy():
    x, text = digital.fairest_saving_per_image(_NET, {"dac": 15_400.0, "array": 16_600.0, "adc": 29_000.0,
                                                      "digital": 8_500.0, "write": 5_000.0})
    assert text.startswith(f"{x:.1f}x less energy than a weight-stationary")
    assert x == pytest.approx(digital.saving(digital.fairest(), 61_000.0, 8_500.0, _work()))
