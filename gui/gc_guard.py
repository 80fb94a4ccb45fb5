"""Python's cyclic garbage collector runs on the GUI thread only.

Left automatic, a collection can start in whichever thread happens to allocate: a prefetch or lab
worker then finalises a PySide object (a window or plot item from earlier), whose disconnect takes
Qt's signal lock and waits for the GIL while the GUI thread holds the GIL and waits for that lock:
a deadlock (seen as a hung test run). pyqtgraph's GarbageCollector disables automatic collection
and collects from a timer on the GUI thread instead; reference counting still frees everything else
at once.

What lives for the whole run (modules, the windows and their plot items, the session and its timeline:
~114,000 objects with the chip lab open) is moved out of the collector's view once it is built
(:func:`freeze_long_lived`, a moment after a session or the lab is shown): a full collection over it
took 47-66 ms on the GUI thread, a stall of the display every time the collector reached its oldest
generation; after the freeze it takes ~0.1 ms. Frozen objects are still freed by reference counting;
only garbage in reference cycles among them waits for :func:`collect_now`.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6 import QtCore

INTERVAL_S = 0.5
FREEZE_AFTER_MS = 1500  # after a session or the lab is shown: its first frames have been drawn
_collector: GarbageCollector | None = None
_freeze_timer: QtCore.QTimer | None = None


def collect_on_gui_thread() -> None:
    """Install the collector once (call on the GUI thread, with the QApplication made)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)


def collect_now() -> None:
    """A full collection now, on the calling (GUI) thread, frozen objects included: between tests, or
    before measuring memory."""
    gc.unfreeze()
    gc.collect()


def freeze_long_lived() -> None:
    """Freeze what lives now: the collector's later passes look only at what is made after. No
    collection first (that is the 47-66 ms this avoids): cyclic garbage lying around at this moment
    stays until :func:`collect_now`; a freeze happens once per session and once per lab, so it is
    bounded."""
    gc.freeze()


def schedule_freeze() -> None:
    """:func:`freeze_long_lived` on the GUI thread FREEZE_AFTER_MS from now (calls meanwhile restart the
    wait: one freeze after a burst of building)."""
    global _freeze_timer
    if _freeze_timer is None:
        _freeze_timer = QtCore.QTimer()
        _freeze_timer.setSingleShot(True)
        _freeze_timer.setInterval(FREEZE_AFTER_MS)
        _freeze_timer.timeout.connect(freeze_long_lived)
    _freeze_timer.start()
