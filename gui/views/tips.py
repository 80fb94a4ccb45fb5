"""Tooltips that say where a view's numbers come from: the chip knobs behind it, with this chip's
values and each knob's documented source ([paper], [derived], [assumed])."""

from __future__ import annotations

from convsram.core.config import ChipConfig, field_info

KNOBS = {
    "dac": ("input_bits", "dac_lsb", "v_precharge", "dac_gain_sigma", "dac_offset_sigma", "dac_inl"),
    "lines": ("c_line", "cap_mismatch_sigma", "charge_injection_sigma", "ktc_noise", "temperature"),
    "adc": ("adc_bits", "adc_offset_sigma", "adc_gain_sigma", "comparator_noise_sigma"),
    "array": ("rows", "columns", "adc_groups"),
}


def knob_lines(config: ChipConfig, names: tuple[str, ...]) -> str:
    out = []
    for name in names:
        info = field_info(name)
        value = getattr(config, name)
        shown = ("on" if value else "off") if info["unit"] == "on/off" else f"{value:g} {info['unit']}"
        out.append(f"• {name} = {shown}: {info['doc']}")
    return "\n".join(out)


def view_tip(intro: str, config: ChipConfig, group: str) -> str:
    return f"{intro}\n\nThis chip's settings behind it:\n{knob_lines(config, KNOBS[group])}"
