"""Shown instead of the dashboard when the model or the data cannot be loaded: what is missing and how
to fix it, with buttons to open another model or MNIST folder."""

from __future__ import annotations

import html

from PySide6 import QtCore, QtWidgets

from convsram.core.paths import DEFAULT_MODEL, MNIST_DIR
from convsram.gui import theme
from convsram.gui.views.plotting import set_font, set_size


class ProblemPage(QtWidgets.QWidget):
    openModel = QtCore.Signal()
    openMnist = QtCore.Signal()
    retry = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QtWidgets.QVBoxLayout(self)
        outer.addStretch(1)
        box = QtWidgets.QFrame()
        box.setObjectName("panel")
        set_size(box, min_w=700)
        lay = QtWidgets.QVBoxLayout(box)
        lay.setContentsMargins(30, 24, 30, 24)
        lay.setSpacing(14)
        title = QtWidgets.QLabel("The simulation cannot start")
        set_font(title, theme.BIG_PX + 8, bold=True)
        title.setStyleSheet(f"color: {theme.CODE_BAD};")
        lay.addWidget(title)
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        set_font(self.message, theme.TITLE_PX + 4)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message)
        self.howto = QtWidgets.QLabel()
        self.howto.setWordWrap(True)
        set_font(self.howto, theme.BASE_PX + 2)
        self.howto.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.howto)
        buttons = QtWidgets.QHBoxLayout()
        for text, signal in (("Open model…", self.openModel), ("Open MNIST folder…", self.openMnist),
                             ("Retry", self.retry)):
            b = QtWidgets.QPushButton(text)
            b.clicked.connect(signal.emit)
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        row = QtWidgets.QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_problem(self, message: str) -> None:
        self.message.setText(html.escape(message))
        self.howto.setText(
            "<b>How to fix it</b><ul>"
            "<li>No trained model yet? Train the shipped one: "
            f"<code>convsram train --out {DEFAULT_MODEL}</code>, "
            "or open another model file with <b>File › Open model…</b> (Ctrl+O), or start with "
            "<code>convsram app --model PATH</code>.</li>"
            f"<li>MNIST missing or damaged? Put the four MNIST files (gzipped or raw) in {MNIST_DIR} or pick "
            "their folder with <b>File › Open MNIST folder…</b>, or start with "
            "<code>convsram app --mnist DIR</code>.</li>"
            "</ul>")
