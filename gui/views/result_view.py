"""The chip's answer: predicted digit, true label, verdict, running accuracy, recent images."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from convsram.core.classify import ideal_prediction
from convsram.core.session import Frame, Session
from convsram.core.stats import wilson
from convsram.gui import theme
from convsram.gui.views.context import Context
from convsram.gui.views.fit_label import FitLabel
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
        self.verdict = FitLabel(bold=True)  # while computing, "layer conv1a.requant, step 1,765 / 4,984"
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
        self.ideal = QtWidgets.QLabel()  # what the ideal chip answers, when it differs
        set_font(self.ideal, theme.BASE_PX, bold=True)
        self.ideal.setToolTip("The ideal chip: the same operating point with every non-ideality off (Ctrl+I "
                              "shows it). When it answers otherwise, this chip's imperfections changed the "
                              "answer; when both are wrong, the network itself misreads the digit.")
        col.addWidget(self.ideal)
        self._ideal: dict[tuple[int, int, int], int] = {}
        self.ideal_answer: int | None = None
        self.history = QtWidgets.QLabel()
        set_font(self.history, theme.BASE_PX)
        self.history.setToolTip("The most recent images completed in this session: chip's answer / "
                                "true label")
        self.add(self.history, 0)


    def _ideal_answer(self, session: Session, image: int) -> int:
        key = (session.uid, session.generation, image)
        if key not in self._ideal:
            if len(self._ideal) > 64:
                self._ideal.clear()
            self._ideal[key] = ideal_prediction(session.model, session.pixels(image), session.config)
        return self._ideal[key]

    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        stats = session.stats
        self.ideal_answer = None
        ideal_text = ""
        if frame.final and frame.prediction is not None and not session.config.is_ideal():
            self.ideal_answer = self._ideal_answer(session, frame.image)
            if self.ideal_answer != frame.prediction:
                verdict = ("right" if self.ideal_answer == frame.label else "wrong too"
                           if frame.label >= 0 else "")
                ideal_text = (f"<span style='color:{theme.IDEAL}'>the ideal chip says {self.ideal_answer}"
                              f"{f' ({verdict})' if verdict else ''}</span>")
            elif frame.label >= 0 and frame.prediction != frame.label:
                ideal_text = (f"<span style='color:{theme.TEXT_DIM}'>the ideal chip says {self.ideal_answer} "
                              "too (the network's error)</span>")
        set_text(self.ideal, ideal_text)
        if frame.final:
            pred = frame.prediction
            ok = pred == frame.label
            self.answer = str(pred)
            set_text(self.predicted, f"<span style='color:{theme.PREDICTED}'>{pred}</span>")
            set_text(self.caption, f"image #{frame.image}: the chip says")
            set_text(self.truth, f"true label {frame.label}")
            verdict = (f"<span style='color:{theme.CORRECT}'>✓ correct</span>" if ok
                       else f"<span style='color:{theme.WRONG}'>✗ wrong</span>")
            self.verdict.set_wordings(verdict)
        else:
            self.answer = "?"
            set_text(self.predicted, f"<span style='color:{theme.TEXT_DIM}'>?</span>")
            set_text(self.caption, f"image #{frame.image}: computing")
            set_text(self.truth, f"true label {frame.label}")
            dim = f"<span style='color:{theme.TEXT_DIM}'>"
            name, step, n = frame.layer_name, f"{frame.index + 1:,}", f"{frame.n_frames:,}"
            count = f"{step} / {n}"
            wordings = (f"layer {name}, step {count}", f"{name}, step {count}", f"{name} · {count}", name)
            self.verdict.set_wordings(*(f"{dim}{w}</span>" for w in wordings))
        set_text(self.accuracy, accuracy_text(stats.history))
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


def in_order(history: list[tuple[int, int, int]]) -> bool:
    """True if the images were answered one after the other (each the next test image): a sample the
    running accuracy may speak for. Jumps (F8 to the next misclassified image, Ctrl+G) pick images."""
    images = [h[0] for h in history]
    return all(b == a + 1 for a, b in zip(images, images[1:], strict=False))


def accuracy_text(history: list[tuple[int, int, int]]) -> str:
    """The running accuracy with its 95 % interval; for images picked by jumps, a count, not an accuracy."""
    n = len(history)
    if not n:
        return "running accuracy: after the first image"
    right = sum(1 for _, pred, label in history if pred == label)
    if not in_order(history):
        return (f"{right} of {n} images right: picked by jumps, not the chip's accuracy "
                "(convsram eval measures it)")
    lo, hi = wilson(right, n)
    return (f"running accuracy {right} / {n} = {100 * right / n:.1f} % "
            f"(95 % CI {100 * lo:.0f}–{100 * hi:.0f} %)")
