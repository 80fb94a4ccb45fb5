"""A one-line label that shows the longest of several wordings that fits its width."""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets

from convsram.gui import theme
from convsram.gui.views.plotting import set_font, set_text


def text_width(label: QtWidgets.QLabel, text: str) -> float:
    """Width (px) of a label's rich text on one line in the label's font."""
    doc = QtGui.QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultFont(label.font())
    doc.setHtml(text)
    return doc.idealWidth()


class FitLabel(QtWidgets.QLabel):
    """A one-line label given several wordings, longest first: it shows the longest that fits its
    width (re-chosen on every resize and font change), else the shortest with its plain words elided;
    the tooltip starts with the longest wording, so nothing is lost on a small screen."""

    def __init__(self, tip: str = "", bold: bool = False) -> None:
        super().__init__("")
        self.tip = tip
        self.wordings: tuple[str, ...] = ("",)
        self._fitted: tuple[tuple[str, ...], int, QtGui.QFont] | None = None
        set_font(self, theme.BASE_PX, bold=bold)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.setMinimumWidth(1)  # its text never sets the panel's width
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)

    def set_wordings(self, *wordings: str) -> None:
        if wordings != self.wordings:
            self.wordings = wordings
            self.refit()

    def refit(self) -> None:
        key = (self.wordings, self.contentsRect().width(), self.font())
        if key == self._fitted:
            return
        self._fitted = key
        room = self.contentsRect().width()
        text = next((w for w in self.wordings if text_width(self, w) <= room), None)
        if text is None:
            text = self._elided(self.wordings[-1], room)
        set_text(self, text)
        full = self.wordings[0]
        tip = self.tip
        if full and "<" in full:  # rich text: the tip's own lines as rich text too
            lines = html.escape(self.tip, quote=False).replace("\n", "<br>")
            tip = f"{full}<br><br>{lines}" if tip else full
        elif full:
            tip = f"{full}\n\n{tip}" if tip else full
        if self.toolTip() != tip:
            self.setToolTip(tip)

    def _elided(self, text: str, room: int) -> str:
        """Elide the plain tail after the last closing tag (the bold lead stays whole)."""
        cut = text.rfind(">") + 1
        head, tail = text[:cut], text[cut:]
        spare = room - text_width(self, head)
        elide = QtCore.Qt.TextElideMode.ElideRight
        return head + self.fontMetrics().elidedText(tail, elide, max(0, int(spare)))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.refit()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt API)
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.FontChange:
            self.refit()
