"""F6 (next ADC saturation) lands on a frame the panels agree on: the histogram counts the saturating
conversions (it used to round 3 of 9,216 to a green "0.0 % saturate") and the codes view outlines the
saturating columns."""

from __future__ import annotations

import re

import numpy as np

from convsram.core.events import layer_saturation, saturating
from convsram.gui.lab.actions import lab_for

pytest_plugins = ["tests.test_gui_support"]


def test_f6_lands_where_the_panels_show_the_saturation(window, qtbot):
    window.do("chip_lab")
    lab = lab_for(window)
    try:
        window.named_actions["next_saturation"].trigger()
        qtbot.waitUntil(lambda: not lab.search.busy, timeout=20000)
        window.refresh()
        s, f = window.session, window.frame
        assert lab.search.last is not None and lab.search.last[0] == "hit", lab.event_status.text()
        top = s.config.max_code
        note = re.sub("<[^>]+>", "", window.hist_view.note.text())
        count = re.fullmatch(r"([\d,]+) of ([\d,]+) saturate", note)
        assert count is not None, note
        shown, total = (int(g.replace(",", "")) for g in count.groups())
        assert 0 < shown < total
        assert (shown, total) == layer_saturation(s.current, f.place.layer, top)
        codes = window.codes_view
        slots = (f.place.columns // s.config.columns_per_group).astype(int)
        assert codes.saturating.size > 0
        for slot in codes.saturating:
            assert np.abs(f.codes[slots == slot]).max() == top  # the outlined column is at the largest code
        assert "saturate" in re.sub("<[^>]+>", "", codes.note.text())
        x, _ = codes.clipped.getData()
        assert x is not None and len(x) == 8 * codes.saturating.size  # one outline (4 segments) per column
    finally:
        lab.shutdown()
        lab.close()


def test_saturating_means_an_end_code():
    assert saturating(np.array([-127, -126, 0, 126, 127]), 127).tolist() == [True, False, False, False, True]
