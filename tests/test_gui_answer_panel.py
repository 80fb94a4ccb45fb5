"""The answer panel's lines fit their width at each screen size, also on the deeper network's long
stage names and five-digit step counts (a real window at about 1600 px showed "layer conv1a.sum, step
1,765 / 4,98", its end cut off), before and after the answer."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets

from convsram.core.paths import MODELS_DIR
from convsram.core.session import Session
from convsram.gui.views.fit_label import text_width

pytest_plugins = ["tests.test_gui_support"]  # fixtures: model_path, no_qt_warnings

RESNET = MODELS_DIR / "resnet-bw.npz"
SIZES = [(1920, 1080), (1600, 950), (1366, 768)]


@pytest.mark.skipif(not RESNET.is_file(), reason="the shipped resnet-bw model is not built")
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_answer_panel_fits_on_the_deeper_network(size, qapp, no_qt_warnings):
    from tests.test_gui_live import build

    session = Session.open(RESNET)
    win = build(session, size)
    try:
        view = win.result_view
        requant = session.current.stage_start[session.stage_names().index("conv1a.requant")] + 100
        for k in (requant, session.current.n_frames - 1):
            session.run("frame", k)
            win.refresh()
            for _ in range(3):
                QtWidgets.QApplication.processEvents()
            labels = [lab for lab in (view.caption, view.truth, view.verdict) if lab.text()]
            assert len(labels) == 3
            for lab in labels:
                assert text_width(lab, lab.text()) <= lab.contentsRect().width() + 1, (lab.text(), size)
        assert "correct" in view.verdict.text() or "wrong" in view.verdict.text()
    finally:
        win.close()
        win.deleteLater()
