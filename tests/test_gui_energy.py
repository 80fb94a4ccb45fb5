"""The energy panel at the smallest supported conference screen: every line fits its label, and a
line shortened to fit keeps its full wording in the tooltip."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets

from convsram.gui.views.fit_label import FitLabel, text_width

pytest_plugins = ["tests.test_gui_support"]  # fixtures: window, model_path, no_qt_warnings, settings


@pytest.mark.parametrize("size", [(1366, 768), (1280, 720)])
def test_energy_panel_lines_fit_their_width(window, qtbot, size):
    window.resize(*size)
    window.apply_scale()
    window.command("goto", 3)
    window.refresh()
    qtbot.wait(50)
    window.refresh()
    ev = window.energy_view
    labels = [lab for lab in ev.findChildren(QtWidgets.QLabel) if lab.isVisible() and lab.text()]
    assert len(labels) > 30  # the grid's cells, the lines below it, the title
    for lab in labels:
        room = lab.contentsRect().width()
        assert text_width(lab, lab.text()) <= room + 1, (lab.text(), room)
    fits = [ev.time, ev.efficiency, ev.saving_title, *ev.savings]
    for lab in fits:
        assert isinstance(lab, FitLabel) and lab.wordings[0] in lab.toolTip()
    for lab, b in zip(ev.savings, ev.baselines, strict=True):
        assert "× less" in lab.text() or "× more" in lab.text()
        assert b.short in lab.text() or b.name in lab.text()


def test_a_narrow_panel_elides_and_keeps_the_full_text_in_the_tooltip(qtbot):
    lab = FitLabel("where the figure comes from")
    qtbot.addWidget(lab)
    lab.resize(160, 20)
    lab.show()
    long = "<b>2.3× less</b> than a binary-weight digital datapath with SRAM weights"
    lab.set_wordings(long, "<b>2.3× less</b> than a binary-weight datapath")
    assert lab.text().startswith("<b>2.3× less</b>") and lab.text().endswith("…")
    assert long in lab.toolTip() and "where the figure comes from" in lab.toolTip()
    lab.resize(2000, 20)
    assert lab.text() == long
