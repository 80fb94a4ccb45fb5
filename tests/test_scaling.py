"""Scaling what-if: the node moves energy and the chip's analog precision, every coefficient sourced."""

import csv

import pytest

from convsram.cli import main
from convsram.core import scaling
from convsram.core.config import ChipConfig
from tests.helpers import random_model_file


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return random_model_file(tmp_path_factory.mktemp("model"))


def test_the_reference_node_changes_nothing():
    base = ChipConfig()
    assert scaling.scaled_config(base, 65) == base
    for which in ("low", "nominal", "high"):
        f = scaling.component_factors(65, 7, 7, which)
        assert f["dac"] == pytest.approx(1) and f["array"] == pytest.approx(1)
    assert all(r == pytest.approx(1) for r in scaling.adc_ratios(65, 7).values())


def test_smaller_nodes_cost_less_energy_but_have_less_signal_and_more_noise():
    base = ChipConfig()
    old, new = scaling.scaled_config(base, 65), scaling.scaled_config(base, 7)
    assert new.vdd < old.vdd and new.dac_lsb < old.dac_lsb and new.c_line < old.c_line
    assert new.ktc_sigma(50) > 2 * old.ktc_sigma(50)  # kT/C from the smaller line capacitance
    assert new.dac_offset_sigma > old.dac_offset_sigma and new.cap_mismatch_sigma > old.cap_mismatch_sigma
    lo, mid, hi = (sum(scaling.component_factors(7, 7, 7, w).values()) for w in ("low", "nominal", "high"))
    assert lo <= mid <= hi < sum(scaling.component_factors(65, 7, 7).values())


def test_adc_models_disagree_away_from_the_anchor_and_grow_with_bits():
    ratios = scaling.adc_ratios(7, 7)
    assert max(ratios.values()) / min(ratios.values()) > 2  # the band is real
    for model in scaling.ADC_MODELS:
        assert scaling.adc_energy_models(65, 10)[model] > scaling.adc_energy_models(65, 7)[model]


def test_full_scale_fraction_is_kept_at_any_input_bits():
    base = ChipConfig()
    for bits in (4, 7, 10):
        c = scaling.scaled_config(base, 28, input_bits=bits)
        assert c.max_input * c.dac_lsb == pytest.approx(base.max_input * base.dac_lsb * c.vdd / base.vdd)


def test_bad_grid_values_say_what_is_wrong():
    with pytest.raises(ValueError, match="node 14 nm"):
        scaling.Grid(nodes=(14,)).check(ChipConfig())
    with pytest.raises(ValueError, match="rows averaged"):
        scaling.Grid(rows=(500,)).check(ChipConfig())


def test_scaling_command_writes_csv_and_png(model_path, tmp_path, capsys):
    out = tmp_path / "s.csv"
    code = main(["scaling", "--model", str(model_path), "--nodes", "65,7", "--chips", "2", "--images", "30",
                 "--out", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [int(r["node_nm"]) for r in rows] == [65, 7]
    for r in rows:
        lo, mid, hi = (float(r[f"energy_per_image_nj_{w}"]) for w in ("low", "nominal", "high"))
        assert 0 < lo <= mid <= hi
        assert float(r["accuracy_ci95_low"]) <= float(r["accuracy_mean"]) <= float(r["accuracy_ci95_high"])
    assert float(rows[1]["energy_per_image_nj_nominal"]) < float(rows[0]["energy_per_image_nj_nominal"])
    png = out.with_suffix(".png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "7 nm" in capsys.readouterr().out


def test_scaling_bad_node_is_one_line_exit_2(model_path, tmp_path, capsys):
    code = main(["scaling", "--model", str(model_path), "--nodes", "14", "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "14" in err and "\n" not in err and not (tmp_path / "s.csv").exists()
