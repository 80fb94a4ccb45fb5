"""Jump to the next event (like a waveform viewer): next ADC saturation, next code error of at least
k LSB, next misclassified image. The search (core.events.find_next) simulates image after image, which
can take seconds, so it runs in a worker thread, a few images at a time (progress, cancel); the GUI
goes to the hit when it arrives, unless the chip changed meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Generator
from types import SimpleNamespace
from typing import Any

from PySide6 import QtCore
from superqt.utils import GeneratorWorker

from convsram.core.events import EVENTS, find_next
from convsram.gui.messages import SearchEnd, SearchHit, SearchMessage, SearchNone, SearchProgress

CHUNK = 6  # images per find_next call between progress reports
MAX_IMAGES = 1000
PAST_THE_END = 10**9  # a start frame after every frame of an image

TITLES = {"saturation": "ADC saturation", "code_error": "code error", "misclassified": "misclassified image"}


def search(session: Any, event: str, min_error: int, max_images: int, image: int, frame: int,
           cancel: threading.Event, token: int = 0) -> Generator[SearchMessage, None, None]:
    """Yields SearchProgress records, then a SearchHit or a SearchNone, and always SearchEnd last."""
    yield from _search(session, event, min_error, max_images, image, frame, cancel, token)
    yield SearchEnd(token)


def _search(session: Any, event: str, min_error: int, max_images: int, image: int, frame: int,
            cancel: threading.Event, token: int) -> Generator[SearchMessage, None, None]:
    n = min(max_images, len(session.data))
    view = SimpleNamespace(data=session.data, run_image=session.run_image, config=session.config,
                           image=image, frame=frame)
    done = 0
    while done < n and not cancel.is_set():
        take = min(CHUNK, n - done)
        if done == 0:
            hit = find_next(view, event, min_error, max_images=take)
            last = (image + take - 1) % len(session.data)
        else:
            # start on the last image searched, after its last frame: find_next looks at the next ones
            view.image, view.frame = last, PAST_THE_END
            hit = find_next(view, event, min_error, max_images=take + 1)
            last = (last + take) % len(session.data)
        if hit is not None:
            yield SearchHit(token, int(hit[0]), int(hit[1]))
            return
        done += take
        yield SearchProgress(token, done)
    yield SearchNone(token, done)


class EventSearch(QtCore.QObject):
    """One search at a time; starting another cancels the first."""

    found = QtCore.Signal(str, int, int)  # event, image, frame
    message = QtCore.Signal(str)
    finished = QtCore.Signal()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: GeneratorWorker | None = None
        self._token = 0
        self._cancel = threading.Event()
        self._event = ""
        self._generation = -1
        self._session: Any = None
        self.last: tuple | None = None  # the last result: ("hit", image, frame) or ("none", images)

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def start(self, session: Any, event: str, min_error: int = 1, max_images: int = MAX_IMAGES) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}")
        self.cancel()
        self._cancel = threading.Event()
        self._event, self._session, self._generation = event, session, session.generation
        self.last = None
        self._token += 1
        self.worker = GeneratorWorker(search, session, event, int(min_error), max_images, session.image,
                                      session.frame, self._cancel, self._token)
        self.worker.yielded.connect(self._on_message)
        self.worker.errored.connect(self._on_error)
        what = TITLES[event] + (f" of at least {min_error} LSB" if event == "code_error" else "")
        self._what = what
        self.message.emit(f"searching for the next {what}…")
        self.worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self._cancel.set()
            self.worker = None  # its late messages are ignored (see _on_message)

    @QtCore.Slot(object)
    def _on_error(self, exc: object) -> None:
        self.worker = None
        self.message.emit(f"the search failed: {type(exc).__name__}: {exc}")
        self.finished.emit()

    @QtCore.Slot(object)
    def _on_message(self, msg: SearchMessage) -> None:
        if msg.token != self._token or self.worker is None:
            return  # a cancelled search
        if isinstance(msg, SearchEnd):
            self.worker = None
            self.finished.emit()
        elif isinstance(msg, SearchProgress):
            self.message.emit(f"searching for the next {self._what}… {msg.images} images")
        elif isinstance(msg, SearchHit):
            self.last = ("hit", msg.image, msg.frame)
            if self._session.generation != self._generation:
                self.message.emit("the chip changed during the search; search again")
                return
            self.found.emit(self._event, msg.image, msg.frame)
        else:
            self.last = ("none", msg.images)
            self.message.emit(f"no {self._what} in the next {msg.images} images")
