import math

import pytest

from convsram.core.config import ChipConfig, field_doc, field_info


def test_defaults_match_paper_geometry():
    c = ChipConfig()
    assert (c.rows, c.columns, c.adc_groups, c.input_bits, c.adc_bits, c.vdd) == (64, 256, 16, 7, 7, 1.2)
    assert c.columns_per_group == 16
    assert not c.is_ideal()


def test_ideal_turns_every_nonideality_off():
    c = ChipConfig.ideal()
    assert c.is_ideal()
    assert c.ktc_noise is False
    assert all(getattr(c, n) == 0 for n in ChipConfig.NONIDEALITIES)


def test_harsh_is_worse_than_nominal():
    h, n = ChipConfig.harsh(), ChipConfig()
    assert h.cap_mismatch_sigma > n.cap_mismatch_sigma
    u = ChipConfig.uncalibrated()
    assert h.comparator_offset_sigma > u.comparator_offset_sigma > n.comparator_offset_sigma


@pytest.mark.parametrize("field,value", [
    ("cap_mismatch_sigma", -0.1), ("rows", 0), ("input_bits", 0), ("adc_bits", 13),
    ("dac_gain_sigma", math.nan), ("temperature", -1.0), ("rows", 2.5), ("vdd", "high"),
])
def test_impossible_values_name_the_field_and_range(field, value):
    with pytest.raises(ValueError, match=field) as err:
        ChipConfig(**{field: value})
    assert "[" in str(err.value) or "integer" in str(err.value) or "number" in str(err.value)


def test_cross_field_checks():
    with pytest.raises(ValueError, match="adc_groups"):
        ChipConfig(columns=250)
    with pytest.raises(ValueError, match="dac_lsb"):
        ChipConfig(dac_lsb=0.01)  # 127 x 10 mV exceeds the 1.0 V precharge


def test_every_field_documents_unit_and_source():
    for name in ChipConfig.__dataclass_fields__:
        info = field_info(name)
        assert info["unit"] and len(info["doc"]) > 20
        assert any(tag in info["doc"] for tag in ("[paper", "[assumed", "[physics", "[derived", "On by"))
        assert info["unit"] in field_doc(name)
