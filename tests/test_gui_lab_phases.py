"""The chip lab on a network run in phases (resnet-bw on one macro: five phases, the same columns
holding conv0-conv2 in phase 0 and conv3a in phase 1): a column is described by what it holds while
the layer on screen runs, not by phase 0 (it said "conv2 filter 0" over conv3a's column and drew
conv2's kernel)."""

from __future__ import annotations

import numpy as np
import pytest

from convsram.core.paths import MODELS_DIR
from convsram.core.session import Session
from convsram.gui import theme

pytest_plugins = ["tests.test_gui_support"]  # fixtures: no_qt_warnings

RESNET = MODELS_DIR / "resnet-bw.npz"


@pytest.mark.skipif(not RESNET.is_file(), reason="the shipped resnet-bw model is not built")
def test_the_lab_names_what_a_column_holds_in_the_phase_on_screen(qapp, qtbot, no_qt_warnings):
    from convsram.gui.lab.actions import lab_for
    from convsram.gui.lab.common import column_owner
    from tests.test_gui_live import build

    session = Session.open(RESNET)
    names = [s.name for s in session.model.layers]
    li = names.index("conv3a")
    assert session.amap.phase_of(li, 0) == 1 and list(session.amap.layer_phases(0)) == [0]
    win = build(session, (1600, 950))
    win.do("chip_lab")
    lab = lab_for(win)
    try:
        session.run("frame", session.current.layer_start[li] + 40)
        win.refresh()
        frame = session.frame_at()
        column = int(frame.place.columns[0])
        layer, tile, filt = column_owner(session, column, li)
        assert (layer, tile) == (li, frame.place.tile)
        assert session.amap.owner(0, 0)[column][0] != li  # phase 0 holds another layer there
        # the errors view's column detail: its title, and the kernel it draws
        lab.select("errors")
        lab.refresh()
        errors = lab.views["errors"]
        errors.select_column(column)
        assert f"conv3a filter {filt}, tile {tile + 1}/5" in errors.detail.title.text()
        assert f"filter {filt} of conv3a" in errors.detail.kernel_caption.text()
        # inside one invocation: the columns box
        lab.select("waveform")
        lab.refresh()
        box = lab.views["waveform"].column_box
        assert all("conv3a filter" in box.itemText(i) for i in range(box.count()))
        # the mismatch map's layer strip: conv3a's colour over the columns it holds now
        lab.select("mismatch")
        lab.refresh()
        strip = lab.views["mismatch"].strip.image
        assert tuple(strip[0, column]) == theme.hex_rgb(theme.layer_color(li))
    finally:
        lab.shutdown()
        lab.close()
        win.close()
        win.deleteLater()
    assert np.all(frame.place.columns >= 0)
