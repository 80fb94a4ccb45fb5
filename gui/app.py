"""Entry points: the interactive app and the headless snapshot. Qt is imported here, lazily, so the
command line stays fast and the offscreen platform can be chosen before Qt loads."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from convsram.core.mnist import DataError
from convsram.core.session import Session
from convsram.gui.system_libs import check_platform

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Position:
    """Where to put the session: image, and optionally a layer name and an invocation within it."""

    image: int | None = None
    layer: str | None = None
    step: int | None = None


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080); ValueError (one line) otherwise."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--size must be WIDTHxHEIGHT in pixels, e.g. 1920x1080; got {text!r}")
    w, h = int(parts[0]), int(parts[1])
    if not (320 <= w <= 7680 and 240 <= h <= 4320):
        raise ValueError(f"--size {w}x{h} out of range: width 320..7680, height 240..4320 pixels")
    return w, h


def place_session(session: Session, pos: Position) -> None:
    """Move `session` to `pos`; ValueError (one line) for an image, layer or step that does not exist."""
    image = session.image if pos.image is None else pos.image
    if not 0 <= image < len(session.data):
        raise ValueError(f"--image {image} out of range: the data set has images 0..{len(session.data) - 1}")
    session.run("goto", image)
    # the stages: each weight layer's invocations and each digital step (its tile sums and
    # requantisation, conv2.sum and conv2.requant; a pool, an add), in order
    names = session.stage_names()
    if pos.layer is None:
        if pos.step is not None:
            if not 0 <= pos.step < session.current.n_frames:
                raise ValueError(f"--step {pos.step} out of range 0..{session.current.n_frames - 1} "
                                 "(invocations of the image; give --layer to count within a layer)")
            session.run("frame", pos.step)
        return
    if pos.layer not in names:
        raise ValueError(f"--layer {pos.layer!r} is not a layer or step of the model; these are: "
                         f"{', '.join(names)}")
    st = names.index(pos.layer)
    run = session.current
    start = run.stage_start[st]
    count = (run.stage_start[st + 1] if st + 1 < len(names) else run.n_frames) - start
    step = pos.step or 0
    if not 0 <= step < count:
        raise ValueError(f"--step {step} out of range: {pos.layer} has steps 0..{count - 1}")
    session.run("frame", start + step)


def open_session(model: Path | None, mnist: Path | None, seed: int,
                 image: int) -> tuple[Session | None, str | None]:
    """The session, or None and the one-line reason it cannot be opened."""
    try:
        return Session.open(model, mnist, seed=seed, image=image), None
    except (DataError, ValueError) as exc:
        return None, str(exc)


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def use_offscreen() -> None:
    """Select Qt's offscreen platform (unless one is set) and drop its 'This plugin does not support
    ...' notices (it cannot raise or resize native windows; nothing is wrong). Every other Qt message
    goes on to the handler installed before (pytest-qt's in the tests), else to stderr."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if os.environ["QT_QPA_PLATFORM"] != "offscreen":
        return
    from PySide6 import QtCore

    previous = None

    def handler(kind: QtCore.QtMsgType, context: QtCore.QMessageLogContext, message: str) -> None:
        if message.startswith("This plugin does not support"):
            return
        if previous is not None:
            previous(kind, context, message)
        elif kind != QtCore.QtMsgType.QtDebugMsg:
            print(message, file=sys.stderr)

    previous = QtCore.qInstallMessageHandler(handler)


def show_offscreen(window: Any, size: tuple[int, int]) -> None:
    """Show `window` at `size` without putting it on a screen, laid out, scaled and painted."""
    from PySide6 import QtCore

    app = application()
    window.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(*size)
    window.apply_scale()
    window.show()
    for _ in range(3):
        app.processEvents()


def application() -> QApplication:
    """The process's QApplication (made on first use, after checking the platform's libraries)."""
    from PySide6 import QtWidgets

    existing = QtWidgets.QApplication.instance()
    if existing is not None:
        return cast(QtWidgets.QApplication, existing)
    check_platform()  # a missing system library: one line naming the packages, not Qt's abort
    app = QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("convsram")
    app.setOrganizationName("convsram")
    app.setStyle("Fusion")
    return app


INTERRUPTED = 130  # exit status after Ctrl-C (SIGINT), as for every command


_INTERRUPTED = threading.Event()


@contextmanager
def deferred_sigint() -> Iterator[None]:
    """For the offscreen commands: Ctrl-C only sets a flag while Qt code runs (an exception thrown
    through Qt's C++ frames can crash the process); :func:`check_interrupt` raises KeyboardInterrupt
    at a safe point, and so does the end of the block."""
    _INTERRUPTED.clear()
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: _INTERRUPTED.set())
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
        check_interrupt()
    finally:
        signal.signal(signal.SIGINT, previous)


def check_interrupt() -> None:
    """Raise KeyboardInterrupt if Ctrl-C came during :func:`deferred_sigint`."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


def close_everything(app: QApplication) -> None:
    """Close every window the way the user would (each saves its settings and stops its workers in its
    close event), the hidden main window of demo mode included."""
    from PySide6 import QtWidgets

    app.closeAllWindows()
    app.closeAllWindows()  # a demo window's close shows the main window
    for w in app.topLevelWidgets():
        if isinstance(w, QtWidgets.QMainWindow):  # hidden ones too: close() still runs closeEvent
            w.close()


def exec_app(app: QApplication) -> int:
    """Run the Qt event loop; Ctrl-C (SIGINT) closes every window (settings saved), quits, and returns
    130. Python runs signal handlers only between bytecodes, so a periodic no-op timer gives the
    interpreter a turn while Qt waits for events."""
    from PySide6 import QtCore

    hit: list[int] = []

    def on_sigint(signum: int, frame: object) -> None:
        if not hit:
            hit.append(signum)
            QtCore.QTimer.singleShot(0, quit_everything)

    def quit_everything() -> None:
        close_everything(app)
        app.quit()

    previous = signal.signal(signal.SIGINT, on_sigint)
    if _INTERRUPTED.is_set():  # Ctrl-C came while the window was being built
        on_sigint(signal.SIGINT, None)
    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(100)
    try:
        status = int(app.exec())
    finally:
        wake.stop()
        signal.signal(signal.SIGINT, signal.SIG_IGN if hit else previous)
    if hit:
        _INTERRUPTED.clear()  # handled: the status says so
    return INTERRUPTED if hit else status


def run_app(model: Path | None = None, mnist: Path | None = None, seed: int = 0, image: int | None = None,
            play: bool = True) -> int:
    """Open the main window and run the event loop; returns the exit status."""
    if not has_display():
        raise ValueError("no display found (DISPLAY / WAYLAND_DISPLAY unset); run on a desktop, or render "
                         "a picture with `convsram snapshot --out FILE.png`")
    app = application()
    from convsram.gui.main_window import MainWindow, remembered_image

    start = remembered_image(0) if image is None else image
    session, error = open_session(model, mnist, seed, start)
    if session is not None and image is not None and not 0 <= image < len(session.data):
        raise ValueError(f"--image {image} out of range: the data set has images 0..{len(session.data) - 1}")
    window = MainWindow(session, error, model_path=model, mnist_dir=mnist, seed=seed)
    window.show()
    if play and session is not None:
        window.player.set_playing(True)
    return exec_app(app)


def offscreen_session(out: Path, pos: Position, model: Path | None, mnist: Path | None,
                      seed: int) -> tuple[Path, Session]:
    """For the snapshot commands: check `out` names a writable .png, select the offscreen platform
    (unless one is set), open the session (DataError: one line saying what is missing) and place it."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file, got {out}")
    if not out.parent.exists():
        raise ValueError(f"--out: folder {out.parent} does not exist")
    use_offscreen()
    session = Session.open(model, mnist, seed=seed)
    place_session(session, pos)
    return out, session


def snapshot(out: Path, size: tuple[int, int] = (1920, 1080), pos: Position = Position(),
             model: Path | None = None, mnist: Path | None = None, seed: int = 0,
             technical: bool = False) -> Path:
    """Render the main window at `pos` to a PNG of exactly `size` pixels, offscreen, with plain or
    `technical` captions; returns the path."""
    out, session = offscreen_session(out, pos, model, mnist, seed)
    app = application()

    from convsram.gui.export import save_png
    from convsram.gui.main_window import MIN_SIZE, MainWindow

    w, h = size
    if w < MIN_SIZE[0] or h < MIN_SIZE[1]:
        raise ValueError(f"--size {w}x{h} is smaller than the window's minimum {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    window = MainWindow(session, remember=False, model_path=model, mnist_dir=mnist, seed=seed)
    window.set_technical(technical)
    try:
        show_offscreen(window, (w, h))
        window.refresh()
        app.processEvents()
        save_png(window, out, (w, h))
    finally:
        window.close()
        window.deleteLater()
    return out
