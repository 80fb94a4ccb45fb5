"""The keyboard shortcut list (F1) and the About text, generated from the window's actions so they
never disagree with what the keys do."""

from __future__ import annotations

import html

from PySide6 import QtGui, QtWidgets

from convsram import __version__
from convsram.gui import theme
from convsram.gui.screen_fit import fit_to_screen
from convsram.gui.views.plotting import set_font


def shortcut_rows(actions: dict[str, QtGui.QAction]) -> list[tuple[str, str]]:
    rows = []
    for action in actions.values():
        keys = [k.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        if keys:
            rows.append((" or ".join(keys), action.text().replace("&", "")))
    return rows


def shortcuts_html(actions: dict[str, QtGui.QAction]) -> str:
    key_cell = f"<td style='padding:4px 24px 4px 0; color:{theme.ACCENT}'>"
    text_cell = "<td style='padding:4px 0'>"
    body = "".join(f"<tr>{key_cell}<b>{html.escape(k)}</b></td>{text_cell}{html.escape(t)}</td></tr>"
                   for k, t in shortcut_rows(actions))
    return (f"<h2>Keyboard shortcuts</h2><table>{body}</table>"
            "<p>The scrubber under the dashboard moves through the image's invocations (click or drag), "
            "also while paused. Hover the array, the DAC bars or any energy figure for details.</p>")


class ShortcutsDialog(QtWidgets.QDialog):
    def __init__(self, actions: dict[str, QtGui.QAction], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("convsram — keyboard shortcuts")
        lay = QtWidgets.QVBoxLayout(self)
        self.text = QtWidgets.QTextBrowser()
        set_font(self.text, theme.BASE_PX + 2)
        self.text.setHtml(shortcuts_html(actions))
        lay.addWidget(self.text)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.accept)
        lay.addWidget(close)
        self.resize(theme.px(720), theme.px(760))
        fit_to_screen(self)


ABOUT = (f"<h2>convsram {__version__}</h2>"
         "<p>A live simulation of MIT's Conv-SRAM in-memory-computing macro (A. Biswas and "
         "A. P. Chandrakasan, ISSCC 2018; IEEE JSSC 2019) running a binary-weight LeNet on MNIST.</p>"
         "<p>Every number on screen comes from the simulation. Figures tagged [paper] are published for "
         "the chip, [derived] are arithmetic on published numbers, [assumed] are modelling choices; the "
         "tooltips say which.</p>"
         "<p>MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0.</p>")
