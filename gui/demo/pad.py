"""The drawing pad: a visitor draws a digit with the mouse or a finger (the pad takes touch events
itself: one finger draws; Qt's touch-to-mouse synthesis is not relied on, it is off on some platforms),
and a moment after the last stroke the drawing is handed on. A drawing the chip cannot read with
confidence gets a message on the pad ("not sure - try again") until the next touch.

Ink is white on black in a greyscale canvas the size of the pad; the stroke width is a fixed fraction
of the pad (MNIST strokes are about a sixth of the digit's height once scaled into its 20x20 box).
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.gui import theme
from convsram.gui.views.plotting import font

IDLE_MS = 900  # after the last stroke, wait this long before reading the drawing
STROKE = 1 / 13  # stroke width as a fraction of the pad's shorter side


class DrawingPad(QtWidgets.QWidget):
    """Emits `drawn(canvas)` (float array, ink 1 on 0) once the visitor stops drawing."""

    drawn = QtCore.Signal(object)
    started = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCursor(QtCore.Qt.CursorShape.CrossCursor)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored)
        self.setToolTip("Draw a digit 0–9 with the mouse or a finger; the chip reads it a moment after "
                        "you stop")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.idle_ms = IDLE_MS
        self.hint = "✍  draw 0–9 here\nwith the mouse or a finger"
        self.canvas = QtGui.QImage(1, 1, QtGui.QImage.Format.Format_Grayscale8)
        self.canvas.fill(0)
        self.strokes = 0
        self.done = False  # the drawing was handed on; the next touch starts a new one
        self.message = ""  # shown over the drawing (a rejection), until the next touch
        self._last: QtCore.QPointF | None = None
        self._idle = QtCore.QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self.finish)

    # --- canvas ----------------------------------------------------------------------------------
    def clear(self) -> None:
        self._idle.stop()
        self.canvas = QtGui.QImage(max(1, self.width()), max(1, self.height()),
                                   QtGui.QImage.Format.Format_Grayscale8)
        self.canvas.fill(0)
        self.strokes, self.done, self._last = 0, False, None
        self.message = ""
        self.update()

    def reject(self, message: str) -> None:
        """Say why the drawing was not read (over it); the next touch starts again."""
        self.done = True
        self.message = message
        self.update()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.clear()  # a half-drawn digit at another size would be distorted: start again

    def pen_width(self) -> float:
        return max(4.0, min(self.width(), self.height()) * STROKE)

    def _ink(self, a: QtCore.QPointF, b: QtCore.QPointF) -> None:
        p = QtGui.QPainter(self.canvas)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), self.pen_width(), QtCore.Qt.PenStyle.SolidLine,
                            QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin))
        if a == b:
            p.drawPoint(a)  # a tap leaves a dot (a zero-length line draws nothing)
        else:
            p.drawLine(a, b)
        p.end()
        self.update()

    def array(self) -> np.ndarray:
        """The drawing as floats in 0..1 (rows, columns), ink bright."""
        img = self.canvas
        arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
        return arr[:, :img.width()].astype(np.float32) / 255.0

    # --- input: a pen down, moves, up (from the mouse or the first finger) -------------------------------
    def pen_down(self, pos: QtCore.QPointF) -> None:
        if self.done:
            self.clear()
        self._idle.stop()
        if self.strokes == 0:
            self.started.emit()
        self.strokes += 1
        self._last = QtCore.QPointF(pos)
        self._ink(self._last, self._last)

    def pen_move(self, pos: QtCore.QPointF) -> None:
        if self._last is None:
            return
        self._ink(self._last, pos)
        self._last = QtCore.QPointF(pos)

    def pen_up(self, pos: QtCore.QPointF) -> None:
        if self._last is None:
            return
        self._ink(self._last, pos)
        self._last = None
        self._idle.start(self.idle_ms)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.pen_down(event.position())

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            self.pen_move(event.position())

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self.pen_up(event.position())

    def event(self, event: QtCore.QEvent) -> bool:
        """Touch: the first finger on the pad draws (further fingers are ignored)."""
        kind = event.type()
        touch = (QtCore.QEvent.Type.TouchBegin, QtCore.QEvent.Type.TouchUpdate, QtCore.QEvent.Type.TouchEnd,
                 QtCore.QEvent.Type.TouchCancel)
        if kind not in touch or not isinstance(event, QtGui.QTouchEvent):
            return super().event(event)
        points = event.points()
        if kind == QtCore.QEvent.Type.TouchCancel or not points:
            self._last = None if kind == QtCore.QEvent.Type.TouchCancel else self._last
            event.accept()
            return True
        first = points[0]
        pos, state = first.position(), first.state()
        if kind == QtCore.QEvent.Type.TouchBegin or state == QtGui.QEventPoint.State.Pressed:
            self.pen_down(pos)
        elif kind == QtCore.QEvent.Type.TouchEnd or state == QtGui.QEventPoint.State.Released:
            self.pen_up(pos)
        else:
            self.pen_move(pos)
        event.accept()
        return True

    @QtCore.Slot()
    def finish(self) -> None:
        """Hand the drawing on now (normally called a moment after the last stroke)."""
        self._idle.stop()
        if self.strokes and not self.done:
            self.done = True
            self.update()
            self.drawn.emit(self.array())

    # --- paint -------------------------------------------------------------------------------------------
    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QtGui.QPainter(self)
        r = self.rect()
        p.fillRect(r, QtGui.QColor("#000000"))
        p.drawImage(0, 0, self.canvas)
        edge = QtGui.QColor(theme.PREDICTED if not self.done else theme.TEXT_DIM)
        p.setPen(QtGui.QPen(edge, max(2, theme.px(3)), QtCore.Qt.PenStyle.DashLine))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(QtCore.QRectF(r).adjusted(2, 2, -2, -2), 10, 10)
        if self.strokes == 0:
            p.setPen(QtGui.QColor(theme.TEXT_DIM))
            p.setFont(font(theme.TITLE_PX, bold=True))
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter, self.hint)
        if self.message:
            p.setFont(font(theme.TITLE_PX, bold=True))
            box = QtCore.QRectF(r).adjusted(8, 0, -8, 0)
            box.setTop(r.height() * 0.62)
            box.setHeight(r.height() * 0.34)
            p.fillRect(box, QtGui.QColor(0, 0, 0, 200))
            p.setPen(QtGui.QColor(theme.PREDICTED))
            flags = QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap
            p.drawText(box, flags, self.message)
        p.end()
