import pytest

from convsram.core.config import ChipConfig
from convsram.core.configfile import ConfigError, dumps, from_dict, load_config, save_config


def test_round_trip(tmp_path):
    cfg = ChipConfig(cap_mismatch_sigma=0.07, ktc_noise=False, adc_bits=6)
    path = save_config(cfg, tmp_path / "chip.toml")
    assert load_config(path) == cfg
    assert "cap_mismatch_sigma = 0.07" in dumps(cfg)


def test_preset_and_partial_file(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('preset = "ideal"\ncomparator_offset_sigma = 0.0015\n')
    cfg = load_config(p)
    assert cfg.comparator_offset_sigma == 0.0015 and cfg.cap_mismatch_sigma == 0 and not cfg.ktc_noise


@pytest.mark.parametrize("text,match", [
    ("cap_mismatch_sigma = -0.1\n", "cap_mismatch_sigma"),
    ("cap_mismatch = 0.1\n", "unknown key 'cap_mismatch'"),
    ('preset = "weird"\n', "preset"),
    ("rows = 0\n", "rows"),
    ("this is not toml", "not valid TOML"),
])
def test_bad_files_name_the_problem(tmp_path, text, match):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        load_config(p)
    assert "bad.toml" in str(err.value) and "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.toml")


def test_from_dict_validates():
    with pytest.raises(ConfigError, match="adc_bits"):
        from_dict({"adc_bits": 20})
