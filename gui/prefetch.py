"""Simulating upcoming images in a worker thread, so playback never simulates on the GUI thread.

A superqt generator worker takes image indices from a queue, runs ``Session.run_image`` (which fills
the session's thread-safe cache) and yields ``("ready", image)`` or ``("error", image, message)``:
small immutable tuples, delivered to the GUI thread through a queued signal.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable

from PySide6 import QtCore
from superqt.utils import GeneratorWorker

from core.session import Session

Message = tuple


class Prefetcher(QtCore.QObject):
    """Owns one worker thread for the window's lifetime; `request` images, get `ready(image)`."""

    ready = QtCore.Signal(int)
    failed = QtCore.Signal(int, str)

    def __init__(self, session: Session | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._queue: queue.Queue[tuple[Session, int] | None] = queue.Queue()
        self._pending: set[tuple[int, int]] = set()
        self._stopped = threading.Event()
        self.completed = 0
        self._worker = GeneratorWorker(self._loop)
        self._worker.yielded.connect(self._on_yielded)
        self._worker.start()

    def set_session(self, session: Session | None) -> None:
        self._session = session
        self._pending.clear()

    def request(self, images: Iterable[int]) -> None:
        """Queue images not simulated yet (duplicates and out-of-range indices are ignored)."""
        s = self._session
        if s is None:
            return
        for image in images:
            key = (id(s), image)
            if 0 <= image < len(s.data) and key not in self._pending and not s.is_simulated(image):
                self._pending.add(key)
                self._queue.put((s, image))

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def _loop(self) -> Generator[Message, None, None]:
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                session, image = item
                try:
                    session.run_image(image)
                except Exception as exc:  # noqa: BLE001 - reported to the GUI, never kills the thread
                    yield ("error", id(session), image, f"{type(exc).__name__}: {exc}")
                    continue
                yield ("ready", id(session), image)
        finally:
            self._stopped.set()

    @QtCore.Slot(object)
    def _on_yielded(self, message: Message) -> None:
        kind, sid, image = message[:3]
        self._pending.discard((sid, image))
        if self._session is None or id(self._session) != sid:
            return
        if kind == "ready":
            self.completed += 1
            self.ready.emit(image)
        else:
            self.failed.emit(image, message[3])

    def stop(self, timeout_s: float = 3.0) -> None:
        """End the worker thread (idempotent)."""
        if not self._stopped.is_set():
            self._worker.quit()
            self._queue.put(None)
            self._stopped.wait(timeout_s)
