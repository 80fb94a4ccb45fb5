"""The session keeps the network's placement and timeline while only analog knobs move (a knob drag
rebuilt them every time: ~20 ms on the GUI thread), and rebuilds them when the geometry changes."""

from __future__ import annotations

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.mapping import place, timeline
from convsram.core.session import Session
from tests.test_session import random_model, small_data


def test_an_analog_knob_keeps_the_timeline_and_a_geometry_change_rebuilds_it():
    model = random_model()
    s = Session(model, small_data(), ChipConfig())
    places = s.places
    s.set_chip(ChipConfig().with_(cap_mismatch_sigma=0.05, comparator_offset_sigma=1e-3))
    assert s.places is places  # the same list: not rebuilt
    assert s.amap.config == s.config  # the map carries the chip's own config all the same
    fresh_session = Session(model, small_data(), s.config)
    np.testing.assert_array_equal(s.current.scores, fresh_session.current.scores)
    np.testing.assert_array_equal(s.current.energy, fresh_session.current.energy)
    wide = ChipConfig().with_(columns=512, adc_groups=32)
    s.set_chip(wide)
    assert s.places is not places
    fresh = timeline(model.graph, place(model.layers, wide))
    assert [(p.layer, p.node, p.position, p.tile) for p in s.places] == \
        [(p.layer, p.node, p.position, p.tile) for p in fresh]
    for a, b in zip(s.places, fresh, strict=True):
        np.testing.assert_array_equal(a.columns, b.columns)
