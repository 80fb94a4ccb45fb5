"""The main window's captions: a plain one under every panel, the technical one (the views' own
legends, with their live figures) a key (T) away, also in the View menu and F1's key list and
remembered between runs; each fits its panel at a conference screen's size and at full HD: no line cut
off, nothing drawn over a plot."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core.session import Session
from convsram.gui import captions
from convsram.gui.demo import captions as demo_captions
from convsram.gui.help import shortcut_rows

pytest_plugins = ["tests.test_gui_support"]  # fixtures: window, model_path, no_qt_warnings, settings

Key = QtCore.Qt.Key


def show_at(window, qtbot, size: tuple[int, int]) -> None:
    window.resize(*size)
    window.apply_scale()
    window.command("goto", 3)
    window.command("frame", 40)
    window.refresh()
    qtbot.wait(50)
    window.refresh()


def shown(window) -> dict[str, QtWidgets.QLabel]:
    return {k: lab for k, lab in window.captions.labels.items() if lab.isVisible()}


def press_t(window, qtbot) -> None:
    qtbot.keyClick(window, getattr(Key, f"Key_{captions.TECHNICAL_KEY}"))
    qtbot.wait(20)


def test_t_switches_every_panel_between_plain_and_technical_captions(window, qtbot):
    show_at(window, qtbot, (1366, 768))
    labels = window.captions.labels
    panels = {window.input_view, window.array_view, window.lines_view, window.diff_view, window.codes_view,
              window.hist_view, window.output_view}
    assert {window.captions.panels[k] for k in labels} == panels  # every plotting panel has one
    assert set(shown(window)) == set(labels)
    for key, label in labels.items():
        assert label.text() == captions.PLAIN[key] and label.isVisible()
    legends = window.captions.legends
    assert legends and not any(w.isVisible() for w in legends)  # plain words say what the colours mean
    action = window.named_actions["technical"]
    assert action.isCheckable() and not action.isChecked()

    press_t(window, qtbot)
    assert not shown(window) and all(w.isVisible() for w in legends)
    assert action.isChecked()

    press_t(window, qtbot)
    assert [lab.text() for lab in shown(window).values()] == [captions.PLAIN[k] for k in labels]
    assert not action.isChecked() and not any(w.isVisible() for w in legends)


def test_a_panel_both_windows_show_reads_the_same_words():
    assert demo_captions.PLAIN is captions.PLAIN and demo_captions.TECHNICAL is captions.TECHNICAL
    assert set(captions.TECHNICAL) <= set(captions.PLAIN)


def text_size(label: QtWidgets.QLabel) -> QtCore.QSize:
    """The room `label`'s text needs, word-wrapped at the label's width."""
    width = label.contentsRect().width()
    if QtCore.Qt.mightBeRichText(label.text()):  # a legend's coloured swatches
        doc = QtGui.QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(label.font())
        doc.setHtml(label.text())
        doc.setTextWidth(width)
        return QtCore.QSize(round(doc.idealWidth()), round(doc.size().height()))
    flags = int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop) | int(
        QtCore.Qt.TextFlag.TextWordWrap)
    return QtGui.QFontMetrics(label.font()).boundingRect(QtCore.QRect(0, 0, width, 10**6), flags,
                                                         label.text()).size()


@pytest.mark.parametrize("technical", [False, True], ids=["plain", "technical"])
@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
def test_every_caption_fits_its_label_and_its_panel(window, qtbot, size, technical):
    window.set_technical(technical)
    show_at(window, qtbot, size)
    panel_of = {id(w): p for p in window.captions.panels.values() for w in p.findChildren(QtWidgets.QLabel)}
    legends = [w for w in window.captions.legends if w.isVisible()]
    labels = legends if technical else list(shown(window).values())
    assert len(labels) == 7
    for label in labels:
        room, need = label.contentsRect(), text_size(label)
        fits = need.width() <= room.width() + 1 and need.height() <= room.height() + 1
        assert fits, (label.text(), need, room)
        panel = panel_of[id(label)]
        box = QtCore.QRect(label.mapTo(panel, QtCore.QPoint(0, 0)), label.size())
        assert panel.contentsRect().contains(box), (label.text(), box, panel.contentsRect())
        for other in panel.findChildren(QtWidgets.QWidget):
            if other is label or not other.isVisible() or label.isAncestorOf(other):
                continue
            if isinstance(other.parentWidget(), QtWidgets.QGraphicsView) or other.parentWidget() is not panel:
                continue  # a plot's own viewport; a panel's inner widgets are checked as their holder
            theirs = QtCore.QRect(other.mapTo(panel, QtCore.QPoint(0, 0)), other.size())
            assert not theirs.intersects(box), (label.text(), type(other).__name__, theirs, box)  # drawn over


def test_the_choice_is_in_the_view_menu_and_f1_and_is_remembered(window, qtbot, model_path):
    action = window.named_actions["technical"]
    view_menu = next(m for m in window.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "&View")
    assert action in view_menu.actions()
    assert (captions.TECHNICAL_KEY, action.text()) in shortcut_rows(window.named_actions)
    action.trigger()
    assert window.captions.technical
    window.close()

    from convsram.gui.main_window import MainWindow

    again = MainWindow(Session.open(model_path), model_path=model_path)
    qtbot.addWidget(again)
    assert again.captions.technical and again.named_actions["technical"].isChecked()
    assert not any(lab.isVisibleTo(again) for lab in again.captions.labels.values())
    again.set_technical(False)
    again.close()
    third = MainWindow(Session.open(model_path), model_path=model_path)
    qtbot.addWidget(third)
    assert not third.captions.technical
    third.close()
