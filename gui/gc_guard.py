"""Python's cyclic garbage collector runs on the GUI thread only.

Left automatic, a collection can start in whichever thread happens to allocate: a prefetch or lab
worker then finalises a PySide object (a window or plot item from earlier), whose disconnect takes
Qt's signal lock and waits for the GIL while the GUI thread holds the GIL and waits for that lock:
a deadlock (seen as a hung test run). pyqtgraph's GarbageCollector disables automatic collection
and collects from a timer on the GUI thread instead; reference counting still frees everything else
at once.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 0.5
_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> None:
    """Install the collector once (call on the GUI thread, with the QApplication made)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)


def collect_now() -> None:
    """A full collection now, on the calling (GUI) thread: between tests, or before measuring memory."""
    gc.collect()
