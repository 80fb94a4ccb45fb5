""""What is happening now": one plain sentence about the current frame (core.narrate), under the
dashboard's and the demo's header. The words come from core; this view only shows them."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from convsram.core import narrate
from convsram.core.session import Frame
from convsram.gui import theme
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import caption_lines, set_font, set_text


class NarrationView(QtWidgets.QLabel):
    """A word-wrapped line (`lines` lines high, so a longer sentence never moves the layout)."""

    def __init__(self, size: int = theme.BASE_PX, lines: int = 2,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("narration")
        self.setWordWrap(True)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        set_font(self, size)
        caption_lines(self, lines, size)
        self.setToolTip("What is happening now, in plain words (it follows every frame)")
        self.sentence = ""

    def show_frame(self, frame: Frame, context: Context) -> None:
        model = context.session.model
        spec = model.layers[frame.place.layer]
        values = context.session.layer_op_values(frame) if frame.place.op is not None else None
        self.sentence = narrate.sentence(frame, spec, narrate.digital_after(model, spec.name), values)
        set_text(self, f"<b style='color:{theme.ACCENT}'>Now:</b> {self.sentence}")
