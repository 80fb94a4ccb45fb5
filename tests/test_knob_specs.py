"""One source of truth for the knobs: the ChipConfig field metadata. The knob panel's sections, labels,
units, sliders and tooltips, the mismatch maps' titles and units and the views' tooltips are all
derived from it, so changing a field's metadata changes what the app shows."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np
import pytest
from PySide6 import QtWidgets

from convsram.core import analysis
from convsram.core.chip import Chip
from convsram.core.config import GROUPS, KINDS, PER, ChipConfig, knob_fields
from convsram.gui.lab.knobs import KnobPanel, sections
from convsram.gui.views.tips import view_tip


def patch_field(monkeypatch: pytest.MonkeyPatch, name: str, **changes: object) -> None:
    """Change one ChipConfig field's metadata for the test (restored afterwards)."""
    f = ChipConfig.__dataclass_fields__[name]
    monkeypatch.setattr(f, "metadata", MappingProxyType({**f.metadata, **changes}))


def test_every_field_declares_its_display_metadata():
    specs = knob_fields()
    assert [s.name for s in specs] == [f.name for f in dataclasses.fields(ChipConfig)]
    for s in specs:
        assert s.unit and s.shown_unit and s.label, s.name  # every field, numeric or not, has a unit
        assert s.scale > 0 and s.lo <= s.default <= s.hi
        assert s.group in GROUPS and s.kind in KINDS
        assert s.source in ("paper", "derived", "assumed", "physics") and f"[{s.source}" in s.doc
        if s.kind == "static":
            assert s.per in PER and s.maps, s.name  # every static draw can be mapped
        else:
            assert s.per is None and not s.maps
        if s.slider is not None:
            assert s.slider.top > 0 and 0 < s.slider.step < s.slider.top
            assert s.shown(s.default) <= s.slider.top  # the nominal value fits the slider
    assert ChipConfig.NONIDEALITIES == tuple(s.name for s in specs if s.kind != "design")


def test_display_scale_round_trips():
    by_name = {s.name: s for s in knob_fields()}
    assert by_name["dac_lsb"].format(3e-3) == "3 mV"
    assert by_name["cap_mismatch_sigma"].format(0.02) == "2 %"
    assert by_name["c_line"].format(1e-15) == "1 fF"
    assert by_name["ktc_noise"].format(False) == "off"
    assert by_name["dac_gain_sigma"].to_field(1.0) == 0.01


def test_every_knob_in_the_panel_comes_from_a_field(qtbot):
    panel = KnobPanel()
    qtbot.addWidget(panel)
    specs = {s.name: s for s in knob_fields()}
    sliders = {n for n, s in specs.items() if s.slider is not None}
    switches = {n for n, s in specs.items() if s.is_bool and s.kind != "design"}
    assert set(panel.sliders) == sliders and set(panel.switches) == switches
    assert panel.ktc is panel.switches["ktc_noise"]
    for name, slider in panel.sliders.items():
        spec = specs[name]
        assert panel.labels[name].text() == f"{spec.label} ({spec.shown_unit})"
        assert slider.maximum() == spec.slider.top
        assert spec.doc in slider.toolTip() and spec.shown_unit in slider.toolTip()
    shown_sections = [w.text() for w in panel.findChildren(QtWidgets.QLabel) if w.objectName() == "section"]
    for title, _colour, _knobs in sections(knob_fields()):
        assert any(text.endswith(title) for text in shown_sections)


def test_changing_a_fields_metadata_changes_the_panel_maps_and_tips(qtbot, monkeypatch):
    patch_field(monkeypatch, "dac_offset_sigma", label="row offset (patched)", shown_unit="uV",
                scale=1e6, slider=(5000.0, 0), doc="Patched docstring of the DAC offset [assumed].",
                maps=(("dac_offset", "Patched offset map", "It moves things."),))
    patch_field(monkeypatch, "adc_gain_sigma", slider=None)  # no longer a slider
    panel = KnobPanel()
    qtbot.addWidget(panel)
    assert panel.labels["dac_offset_sigma"].text() == "row offset (patched) (uV)"
    slider = panel.sliders["dac_offset_sigma"]
    assert "Patched docstring" in slider.toolTip() and "uV" in slider.toolTip()
    assert slider.maximum() == 5000.0
    assert "adc_gain_sigma" not in panel.sliders
    panel.set_chip(ChipConfig(), seed=0, preset="nominal")
    assert slider.value() == pytest.approx(1000.0)  # 1 mV shown in uV
    assert panel.edited_config().dac_offset_sigma == pytest.approx(1e-3)
    maps = analysis._maps()
    assert maps["dac_offset"].title == "Patched offset map" and maps["dac_offset"].unit == "uV"
    assert "dac_offset_sigma = 1000 uV: Patched docstring" in view_tip("DACs.", ChipConfig(), "dac")


def test_mismatch_maps_take_title_unit_and_scale_from_their_knob():
    specs = {s.name: s for s in knob_fields()}
    assert set(analysis.MAPS) == {m.key for s in specs.values() for m in s.maps}
    chip = Chip(ChipConfig(), seed=3)
    for k in analysis.MAPS.values():
        spec = specs[k.knob]
        assert (k.unit, k.scale, k.per, k.label) == (spec.shown_unit, spec.scale, spec.per, spec.label)
        assert k.title and k.effect
    np.testing.assert_allclose(analysis.mismatch_map(chip, "adc_gain")[0, ::16], (chip.adc_gain - 1) * 100)
