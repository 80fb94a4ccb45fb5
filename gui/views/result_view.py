"""The chip's answer: predicted digit, true label, verdict, running accuracy, recent images."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from convsram.core.session import Frame
from convsram.gui import theme
from convsram.gui.views.context import Context
from convsram.gui.views.plotting import Panel, set_font, set_size, set_text, spacing

HISTORY = 14


class ResultView(Panel):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("The chip's answer", "", parent, subtitle_lines=0)
        row = QtWidgets.QHBoxLayout()
        spacing(row, 16)
        self.predicted = QtWidgets.QLabel("?")
        set_font(self.predicted, theme.HUGE_PX, bold=True)
        self.predicted.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        set_size(self.predicted, fixed_w=90)
        self.predicted.setToolTip("The class with the highest score after the fc layer: the chip's answer")
        row.addWidget(self.predicted)
        col = QtWidgets.QVBoxLayout()
        spacing(col, 2)
        self.caption = QtWidgets.QLabel()
        set_font(self.caption, theme.BASE_PX)
        self.truth = QtWidgets.QLabel()
        set_font(self.truth, theme.TITLE_PX + 3, bold=True)
        self.verdict = QtWidgets.QLabel()
        set_font(self.verdict, theme.TITLE_PX + 3, bold=True)
        for w in (self.caption, self.truth, self.verdict):
            col.addWidget(w)
        row.addLayout(col, 1)
        holder = QtWidgets.QWidget()
        holder.setLayout(row)
        self.add(holder, 0)
        self.answer = "?"  # the big figure, as plain text
        self.accuracy = QtWidgets.QLabel()
        set_font(self.accuracy, theme.BASE_PX + 1, bold=True)
        self.accuracy.setToolTip("Images whose last invocation was reached in this session, and how many of "
                                 "them the chip classified correctly")
        self.add(self.accuracy, 0)
        self.history = QtWidgets.QLabel()
        set_font(self.history, theme.BASE_PX)
        self.history.setToolTip("The most recent images completed in this session: chip's answer / "
                                "true label")
        self.add(self.history, 0)


    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        stats = session.stats
        if frame.final:
            pred = frame.prediction
            ok = pred == frame.label
            self.answer = str(pred)
            set_text(self.predicted, f"<span style='color:{theme.PREDICTED}'>{pred}</span>")
            set_text(self.caption, f"image #{frame.image}: the chip says")
            set_text(self.truth, f"true label {frame.label}")
            verdict = (f"<span style='color:{theme.CORRECT}'>✓ correct</span>" if ok
                       else f"<span style='color:{theme.WRONG}'>✗ wrong</span>")
            set_text(self.verdict, verdict)
        else:
            self.answer = "?"
            set_text(self.predicted, f"<span style='color:{theme.TEXT_DIM}'>?</span>")
            set_text(self.caption, f"image #{frame.image}: computing")
            set_text(self.truth, f"true label {frame.label}")
            set_text(self.verdict, f"<span style='color:{theme.TEXT_DIM}'>layer {frame.layer_name}, "
                                   f"{frame.index + 1} / {frame.n_frames}</span>")
        n, right = len(stats.images), len(stats.correct)
        if n:
            set_text(self.accuracy, f"running accuracy {right} / {n} = {100 * right / n:.1f} %")
        else:
            set_text(self.accuracy, "running accuracy: after the first image")
        # as many of the most recent as the row has room for (it used to clip the newest ones)
        metrics, room = self.history.fontMetrics(), self.history.contentsRect().width()
        items: list[str] = []
        plain = "recent (chip/label):"
        for _image, pred, label in reversed(stats.history[-HISTORY:]):
            plain += f" {pred}/{label}"
            if items and metrics.horizontalAdvance(plain) > room:
                break
            color = theme.CORRECT if pred == label else theme.WRONG
            items.insert(0, f"<span style='color:{color}'>{pred}</span><span style='color:{theme.TEXT_DIM}'>"
                            f"/{label}</span>")
        set_text(self.history, ("recent (chip/label): " + " ".join(items)) if items else "")
