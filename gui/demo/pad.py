"""The drawing pad: a visitor draws a digit with the mouse (or a finger: Qt turns touches the pad does
not handle into mouse events), and a moment after the last stroke the drawing is handed on.

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
        self.idle_ms = IDLE_MS
        self.hint = "✍  draw 0–9 here\nwith the mouse or a finger"
        self.canvas = QtGui.QImage(1, 1, QtGui.QImage.Format.Format_Grayscale8)
        self.canvas.fill(0)
        self.strokes = 0
        self.done = False  # the drawing was handed on; the next touch starts a new one
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

    # --- input -----------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        if self.done:
            self.clear()
        self._idle.stop()
        if self.strokes == 0:
            self.started.emit()
        self.strokes += 1
        self._last = event.position()
        self._ink(self._last, self._last)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._last is None or not event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        self._ink(self._last, pos)
        self._last = pos

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if self._last is None:
            return
        self._ink(self._last, event.position())
        self._last = None
        self._idle.start(self.idle_ms)

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
        p.end()
