"""The transport bar: play/pause, steps, layers, images, jump to image N, speed, and a scrubber over
the current image's invocations (coloured by layer) that works while paused."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from convsram.gui import theme
from convsram.gui.views.plotting import font, set_size, spacing

LAYER_PER_FRAME = float("inf")
SPEEDS: tuple[tuple[float, str], ...] = (
    (1, "1 step/s"), (2, "2 steps/s"), (5, "5 steps/s"), (10, "10 steps/s"),
    (25, "25 steps/s"), (50, "50 steps/s"), (100, "100 steps/s"),
    (250, "250 steps/s"), (500, "500 steps/s"), (1000, "1000 steps/s"),
    (2500, "2500 steps/s"), (LAYER_PER_FRAME, "whole stage per frame"),
)
DEFAULT_SPEED = 100


class Scrubber(QtWidgets.QWidget):
    """A timeline of one image's invocations: one coloured segment per layer, a handle at the
    current invocation. Click or drag to move (emits `scrubbed` with the invocation index)."""

    scrubbed = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        set_size(self, min_w=200, min_h=34)
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.n_frames = 1
        self.segments: list[tuple[int, int, str, str]] = []  # (start, stop, name, colour)
        self.value = 0
        self.setToolTip("Invocations of this image, one segment per layer: click or drag to go there")

    def set_layers(self, starts: list[int], n_frames: int, names: list[str]) -> None:
        ends = [*starts[1:], n_frames]
        self.n_frames = max(1, n_frames)
        self.segments = [(a, b, names[i], theme.layer_color(i)) for i, (a, b) in enumerate(zip(starts, ends,
                                                                                              strict=True))]
        self.update()

    def set_value(self, value: int) -> None:
        if value != self.value:
            self.value = value
            self.update()

    def _x(self, frame: float) -> float:
        return 6 + (self.width() - 12) * frame / max(1, self.n_frames - 1)

    def frame_at_x(self, x: float) -> int:
        f = (x - 6) / max(1.0, self.width() - 12) * (self.n_frames - 1)
        return int(min(max(round(f), 0), self.n_frames - 1))

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QtGui.QPainter(self)
        h = self.height()
        t = theme.px(6)
        track = QtCore.QRectF(6, h / 2 - t, self.width() - 12, 2 * t)
        p.fillRect(track, QtGui.QColor(theme.PANEL_EDGE))
        p.setFont(font(theme.TICK_PX, bold=True))
        for a, b, name, color in self.segments:
            x0, x1 = self._x(a), self._x(b - 1 if b == self.n_frames else b)
            c = QtGui.QColor(color)
            c.setAlpha(110)
            p.fillRect(QtCore.QRectF(x0, h / 2 - t, max(2.0, x1 - x0), 2 * t), c)
            done = min(max(self.value - a + 1, 0), b - a)
            if done:
                p.fillRect(QtCore.QRectF(x0, h / 2 - t, max(2.0, self._x(a + done - 1) - x0), 2 * t),
                           QtGui.QColor(color))
            if x1 - x0 > theme.px(60):
                p.setPen(QtGui.QColor(theme.BG))
                p.drawText(QtCore.QRectF(x0, h / 2 - 2 * t, x1 - x0, 4 * t),
                           QtCore.Qt.AlignmentFlag.AlignCenter, name)
        x = self._x(self.value)
        p.setPen(QtGui.QPen(QtGui.QColor(theme.IDEAL), 3))
        p.drawLine(QtCore.QPointF(x, 2), QtCore.QPointF(x, h - 2))
        p.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self.scrubbed.emit(self.frame_at_x(event.position().x()))

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            self.scrubbed.emit(self.frame_at_x(event.position().x()))


def _caption(text: str) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setObjectName("transport")
    return label


def _button(text: str, tip: str, action: QtGui.QAction | None = None) -> QtWidgets.QToolButton:
    b = QtWidgets.QToolButton()
    b.setText(text)
    b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    b.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
    set_size(b, min_h=34)
    if action is not None:
        b.clicked.connect(action.trigger)
        keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
        b.setToolTip(f"{tip} ({keys})" if keys else tip)
    else:
        b.setToolTip(tip)
    return b


class TransportBar(QtWidgets.QFrame):
    """Buttons wired to the window's actions (so buttons, menus and keys do the same thing)."""

    speedChanged = QtCore.Signal(float)
    imageRequested = QtCore.Signal(int)

    def __init__(self, actions: dict[str, QtGui.QAction], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        lay = QtWidgets.QHBoxLayout(self)
        spacing(lay, 6, (10, 6, 10, 6))
        specs = (("prev_image", "◀ image", "Previous image"), ("prev_layer", "◀◀ layer", "Previous layer"),
                 ("back", "◀ step", "Step back one step"))
        for name, text, tip in specs:
            lay.addWidget(_button(text, tip, actions[name]))
        self.play = _button("▶  Play", "Play / pause", actions["play"])
        self.play.setObjectName("play")
        set_size(self.play, min_w=120, min_h=34)
        lay.addWidget(self.play)
        for name, text, tip in (("step", "step ▶", "Step forward one step (an invocation or a digital step)"),
                                ("next_layer", "layer ▶▶", "Next layer"),
                                ("next_image", "image ▶", "Next image")):
            lay.addWidget(_button(text, tip, actions[name]))
        self.scrubber = Scrubber()
        lay.addWidget(self.scrubber, 1)
        lay.addWidget(_caption("image #"))
        self.image = QtWidgets.QSpinBox()
        self.image.setRange(0, 0)
        self.image.setKeyboardTracking(False)
        self.image.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        self.image.setToolTip("Jump to MNIST test image N (Enter to go; Ctrl+G from anywhere)")
        set_size(self.image, min_w=90)
        self.image.editingFinished.connect(self._image_entered)
        lay.addWidget(self.image)
        lay.addWidget(_caption("speed"))
        self.speed = QtWidgets.QComboBox()
        self.speed.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        for value, text in SPEEDS:
            self.speed.addItem(text, value)
        self.speed.setToolTip("Playback speed: steps per second (a step is one invocation of the array or "
                              "one output position of a digital step: a tile sum, a requantisation, a pool, "
                              "a residual add), up to a whole stage per displayed frame ( + / − keys)")
        self.speed.currentIndexChanged.connect(self._speed_changed)
        lay.addWidget(self.speed)
        self.set_speed(DEFAULT_SPEED)

    def set_playing(self, playing: bool) -> None:
        text = "❚❚  Pause" if playing else "▶  Play"
        if self.play.text() != text:
            self.play.setText(text)

    def set_image(self, image: int, count: int) -> None:
        if self.image.maximum() != count - 1:
            self.image.setRange(0, max(0, count - 1))
        if not self.image.hasFocus() and self.image.value() != image:
            self.image.blockSignals(True)
            self.image.setValue(image)
            self.image.blockSignals(False)

    def set_speed(self, value: float) -> None:
        idx = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i][0] - value) if value != LAYER_PER_FRAME
                  else (0 if SPEEDS[i][0] == LAYER_PER_FRAME else 1))
        self.speed.setCurrentIndex(idx)

    def speed_value(self) -> float:
        return float(self.speed.currentData())

    def faster(self, steps: int) -> None:
        self.speed.setCurrentIndex(min(max(self.speed.currentIndex() + steps, 0), self.speed.count() - 1))

    @QtCore.Slot(int)
    def _speed_changed(self, index: int) -> None:
        self.speedChanged.emit(float(self.speed.itemData(index)))
        self.speed.clearFocus()  # the arrow keys go back to stepping

    @QtCore.Slot()
    def _image_entered(self) -> None:
        self.imageRequested.emit(self.image.value())
        self.image.clearFocus()
