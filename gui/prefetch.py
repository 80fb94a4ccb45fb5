"""Simulating upcoming images in a worker thread, so playback never simulates on the GUI thread.

A superqt generator worker takes image indices from a queue, runs ``Session.run_image`` (which fills
the session's thread-safe cache) and yields a :class:`Simulated` or :class:`SimulationFailed` record
(gui.messages), delivered to the GUI thread through a queued signal.

The worker holds only a weak reference to its Prefetcher and polls its queue with a timeout, so it
ends when told to (:meth:`Prefetcher.stop`, also called at interpreter exit) or when the Prefetcher is
gone; a forgotten window can never keep a thread, or the process, alive.
"""

from __future__ import annotations

import atexit
import queue
import threading
import weakref
from collections.abc import Callable, Generator, Iterable

from PySide6 import QtCore
from superqt.utils import GeneratorWorker

from convsram.core.session import Session
from convsram.gui.gc_guard import collect_on_gui_thread
from convsram.gui.messages import PrefetchMessage, Simulated, SimulationFailed

POLL_S = 0.2
Warm = Callable[[Session, int], None]  # extra per-image work for the worker (e.g. plot statistics)
_LIVE: weakref.WeakSet[Prefetcher] = weakref.WeakSet()


def _work(owner: weakref.ref[Prefetcher], jobs: queue.Queue[tuple[Session, int]], quit_: threading.Event,
          stopped: threading.Event, warm: Warm | None) -> Generator[PrefetchMessage, None, None]:
    try:
        while not quit_.is_set() and owner() is not None:
            try:
                session, image = jobs.get(timeout=POLL_S)
            except queue.Empty:
                continue
            try:
                session.run_image(image)
                if warm is not None:
                    warm(session, image)
            except Exception as exc:  # noqa: BLE001 - reported to the GUI, never kills the thread
                yield SimulationFailed(session.uid, image, f"{type(exc).__name__}: {exc}")
                continue
            yield Simulated(session.uid, image)
    finally:
        stopped.set()


class Prefetcher(QtCore.QObject):
    """Owns one worker thread; `request` images, get `ready(image)` on the GUI thread."""

    ready = QtCore.Signal(int)
    failed = QtCore.Signal(int, str)

    def __init__(self, session: Session | None = None, parent: QtCore.QObject | None = None,
                 warm: Warm | None = None) -> None:
        super().__init__(parent)
        collect_on_gui_thread()  # a worker thread must never run a collection (gc_guard)
        self._session = session
        self._queue: queue.Queue[tuple[Session, int]] = queue.Queue()
        self._pending: set[tuple[int, int]] = set()
        self._quit, self._stopped = threading.Event(), threading.Event()
        self.completed = 0
        self._worker = GeneratorWorker(_work, weakref.ref(self), self._queue, self._quit, self._stopped, warm)
        self._worker.yielded.connect(self._on_yielded)
        pool = QtCore.QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), 4))  # a leftover window must not starve us
        self._worker.start()
        _LIVE.add(self)

    def set_session(self, session: Session | None) -> None:
        self._session = session
        self._pending.clear()

    def request(self, images: Iterable[int]) -> None:
        """Queue images not simulated yet (duplicates and out-of-range indices are ignored)."""
        s = self._session
        if s is None:
            return
        for image in images:
            key = (s.uid, image)
            if 0 <= image < len(s.data) and key not in self._pending and not s.is_simulated(image):
                self._pending.add(key)
                self._queue.put((s, image))

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @QtCore.Slot(object)
    def _on_yielded(self, message: PrefetchMessage) -> None:
        self._pending.discard((message.session_uid, message.image))
        if self._session is None or self._session.uid != message.session_uid:
            return
        if isinstance(message, Simulated):
            self.completed += 1
            self.ready.emit(message.image)
        else:
            self.failed.emit(message.image, message.error)

    def stop(self, timeout_s: float = 2.0) -> None:
        """End the worker thread (idempotent); waits for the image being simulated, if any."""
        self._quit.set()
        self._stopped.wait(timeout_s)


@atexit.register
def _stop_all() -> None:
    for p in list(_LIVE):
        p._quit.set()
    for p in list(_LIVE):
        p._stopped.wait(2.0)
    # the worker still emits its finished signals after the generator ends: let every pool thread
    # finish before the interpreter tears down the Qt objects they emit from (else a 'Signal source
    # has been deleted' traceback at exit)
    QtCore.QThreadPool.globalInstance().waitForDone(3000)
