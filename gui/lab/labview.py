"""What every tab of the chip lab is: a widget that holds the lab's shared analysis cache (`data`, set
by the lab window) and is shown the session's current frame (`show_frame`)."""

from __future__ import annotations

from PySide6 import QtWidgets

from convsram.core.session import Frame
from convsram.gui.lab.common import LabData
from convsram.gui.views.context import Context


class LabView(QtWidgets.QWidget):
    """A tab of the chip lab."""

    data: LabData  # the lab's shared analysis cache (the lab window sets it before the first frame)

    def show_frame(self, frame: Frame, context: Context) -> None:
        """The session moved to `frame`; by default nothing to redraw (a tab that runs on demand)."""

    def show_rest(self) -> bool:
        """Draw what the last show_frame left for the lab's next tick (while playing, a view may draw a
        frame in two parts, each repainted alone); True if there was any."""
        return False
