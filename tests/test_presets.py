"""Chip presets (core/presets.py), offsets in volts, and old configuration files with the LSB key."""

from __future__ import annotations

import re

import pytest

from convsram.cli import main
from convsram.core import presets
from convsram.core.config import ChipConfig, knob_fields
from convsram.core.configfile import ConfigError, load_config, parse_value
from convsram.core.script import ScriptError, parse


def test_every_preset_by_name_and_back():
    for name in presets.NAMES:
        assert presets.name_of(presets.preset(name)) == name
    assert presets.preset("nominal") == presets.preset("calibrated") == ChipConfig()
    assert presets.preset("ideal").is_ideal()
    assert presets.name_of(ChipConfig(dac_inl=0.1)) == "custom"
    with pytest.raises(ValueError, match="calibrated"):
        presets.preset("typical")


def test_uncalibrated_differs_from_calibrated_only_in_its_offsets():
    cal, unc = ChipConfig(), ChipConfig.uncalibrated()
    changed = {k for k, v in cal.to_dict().items() if unc.to_dict()[k] != v}
    assert changed == {"comparator_offset_sigma", "charge_injection_sigma"}
    assert 5e-3 <= unc.comparator_offset_sigma <= 10e-3  # a StrongARM latch uncalibrated
    assert cal.comparator_offset_sigma < 1e-3  # sub-mV only after calibration


def test_harsh_is_worse_than_uncalibrated_in_every_non_ideality():
    h, u = ChipConfig.harsh(), ChipConfig.uncalibrated()
    for name in ChipConfig.NONIDEALITIES:
        if name != "ktc_noise":
            assert getattr(h, name) > getattr(u, name), name
    assert ChipConfig.harsh(cap_mismatch_sigma=0.0).cap_mismatch_sigma == 0.0  # overrides win


def test_every_offset_is_in_volts_and_says_where_it_comes_from():
    offsets = [s for s in knob_fields() if "offset" in s.name or "injection" in s.name]
    names = {s.name for s in offsets}
    assert names >= {"dac_offset_sigma", "charge_injection_sigma", "comparator_offset_sigma"}
    for s in offsets:
        assert s.unit == "V" and s.shown_unit == "mV", s.name
        assert s.source in ("assumed", "derived", "paper", "physics"), s.name
    doc = {s.name: s.doc for s in offsets}["comparator_offset_sigma"]
    assert "calibration" in doc and "Pelgrom" in doc and "StrongARM" in doc and "[derived" in doc


def test_config_fields_lists_offsets_in_volts_with_the_presets(capsys):
    assert main(["config", "--fields"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("comparator_offset_sigma"))
    assert "[V]" in line and "0.4 mV" in line and "uncalibrated 6 mV" in line and "harsh 10 mV" in line
    assert re.search(r"\[(derived|assumed)", line)
    assert "adc_offset_sigma" not in out


def test_an_old_file_with_the_lsb_key_gets_one_line_saying_how_to_convert(tmp_path, capsys):
    old = tmp_path / "old.toml"
    old.write_text('preset = "nominal"\nadc_offset_sigma = 0.5\n')
    with pytest.raises(ConfigError, match="comparator_offset_sigma in volts") as exc:
        load_config(old)
    assert "0.5 LSB was 0.9 mV on conv1, 0.345 mV on conv2" in str(exc.value)
    assert main(["config", "--check", str(old)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "comparator_offset_sigma" in err and "Traceback" not in err


def test_an_old_knob_name_in_a_script_or_value_says_the_new_one():
    with pytest.raises(ConfigError, match="comparator_offset_sigma"):
        parse_value("adc_offset_sigma", "0.25")
    with pytest.raises(ScriptError, match="comparator_offset_sigma"):
        parse("knob adc_offset_sigma 0.8\n")
    assert parse_value("comparator_offset_sigma", "0.006") == 0.006


def test_preset_in_a_file_and_on_the_command_line(tmp_path, capsys):
    f = tmp_path / "u.toml"
    f.write_text('preset = "uncalibrated"\ncap_mismatch_sigma = 0.05\n')
    cfg = load_config(f)
    assert cfg == ChipConfig.uncalibrated(cap_mismatch_sigma=0.05)
    out = tmp_path / "harsh.toml"
    assert main(["config", "--chip", "harsh", "--out", str(out)]) == 0
    assert load_config(out) == ChipConfig.harsh()
    with pytest.raises(SystemExit) as exc:  # argparse's choices: one line, exit 2
        main(["config", "--chip", "typical"])
    assert exc.value.code == 2 and "uncalibrated" in capsys.readouterr().err
