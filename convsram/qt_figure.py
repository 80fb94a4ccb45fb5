"""The commands' figures (sweep, depth, scaling, report): pyqtgraph widgets drawn on Qt's offscreen
platform and returned or saved as PNG.

Every Qt object a figure makes is made and destroyed on the calling thread. Python's cyclic garbage
collector is off while a figure is drawn and runs here once the figure's widget is gone: left on, a
collection started by another thread (a Dask client's event loop, a process pool's result thread)
could finalise a figure's leftover Qt objects there, which crashed a sweep's plot (a segfault in about
one run in four of the Dask sweep tests).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from convsram.core.files import write_bytes

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget


def application() -> QApplication:
    """The process's QApplication; a command that has none yet gets one on the offscreen platform
    (a figure never needs a screen)."""
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    if not os.environ.get("QT_QPA_PLATFORM"):  # unset or empty: Qt would try the desktop's platform
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return QApplication([])


def png_bytes(build: Callable[[], QWidget]) -> bytes:
    """The widget `build()` makes, laid out, rendered to PNG bytes and destroyed (see the module doc)."""
    from PySide6 import QtCore

    app = application()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _render(app, build)  # the widget's last reference dies with _render's frame
    finally:
        app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        gc.collect()
        if enabled:
            gc.enable()


def save_png(build: Callable[[], QWidget], path: Path | str) -> Path:
    """:func:`png_bytes` written to `path` atomically (an old file stays whole until the new one is)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes(path, png_bytes(build))


def _render(app: QApplication, build: Callable[[], QWidget]) -> bytes:
    from PySide6 import QtCore

    widget = build()
    widget.show()
    app.processEvents()
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not widget.grab().save(buf, "PNG"):
        raise OSError("cannot render the figure")
    widget.close()
    widget.deleteLater()
    return bytes(buf.data().data())
