"""Keep a window on its screen: every top-level window (main, lab, demo, help) is fitted to the screen's
available area when it is created and when its geometry is restored from the settings; full screen
covers the screen even where no window manager acts on the request (kiosk sessions)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

# room for the frame a window manager adds around a window not shown yet (its real frame is unknown
# until the window manager has mapped it): borders and a title bar
DECORATION = QtCore.QMargins(4, 32, 4, 4)


def fitted(rect: QtCore.QRect, available: QtCore.QRect, minimum: QtCore.QSize | None = None,
           frame: QtCore.QMargins | None = None) -> QtCore.QRect:
    """`rect` (the client area) shrunk and moved so that it plus `frame` lies inside `available`; never
    below `minimum` (a screen smaller than the window's minimum keeps the top-left corner visible)."""
    minimum = QtCore.QSize(0, 0) if minimum is None else minimum
    frame = QtCore.QMargins() if frame is None else frame
    room_w = available.width() - frame.left() - frame.right()
    room_h = available.height() - frame.top() - frame.bottom()
    w = max(min(rect.width(), room_w), minimum.width())
    h = max(min(rect.height(), room_h), minimum.height())
    left_min, top_min = available.left() + frame.left(), available.top() + frame.top()
    x = max(min(rect.x(), available.right() + 1 - frame.right() - w), left_min)
    y = max(min(rect.y(), available.bottom() + 1 - frame.bottom() - h), top_min)
    return QtCore.QRect(x, y, w, h)


def screen_of(window: QtWidgets.QWidget) -> QtGui.QScreen:
    """The screen under the window's centre (where a restored geometry puts it), else the primary one."""
    screen = QtGui.QGuiApplication.screenAt(window.geometry().center())
    return screen or window.screen() or QtGui.QGuiApplication.primaryScreen()


def fit_to_screen(window: QtWidgets.QWidget) -> QtCore.QRect:
    """Shrink and move `window` into its screen's available geometry (taskbars and panels excluded);
    returns the new client rectangle. Full-screen and maximised windows are left alone."""
    if window.isFullScreen() or window.isMaximized():
        return window.geometry()
    available = screen_of(window).availableGeometry()
    if window.isVisible() and window.frameGeometry() != window.geometry():
        g, f = window.geometry(), window.frameGeometry()
        frame = QtCore.QMargins(g.left() - f.left(), g.top() - f.top(), f.right() - g.right(),
                                f.bottom() - g.bottom())
    elif window.windowFlags() & QtCore.Qt.WindowType.FramelessWindowHint:
        frame = QtCore.QMargins()
    else:
        frame = DECORATION
    rect = fitted(window.geometry(), available, window.minimumSize(), frame)
    if window.testAttribute(QtCore.Qt.WidgetAttribute.WA_Moved):
        if rect != window.geometry():
            window.setGeometry(rect)  # a restored (or placed) window: its corner moves in too
    elif rect.size() != window.size():
        window.resize(rect.size())  # never placed: the window manager places what now fits
    return rect


def show_full_screen(window: QtWidgets.QWidget, screen: QtGui.QScreen | None = None) -> None:
    """Show `window` full screen on `screen` (default: its own). Without a window manager nobody acts
    on the full-screen request and the window keeps its size in the corner, so it is first placed over
    the whole screen explicitly."""
    screen = screen or screen_of(window)
    window.setGeometry(screen.geometry())
    window.showFullScreen()
