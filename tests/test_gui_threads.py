"""Signals across threads, in bulk, while the window repaints: the pattern that crashed PySide6 6.12.0
(abort after a few hundred emissions) and some 6.8+ builds (PYSIDE-3124). A crash kills the test run."""

from __future__ import annotations

import threading

from PySide6 import QtCore
from superqt.utils import thread_worker

pytest_plugins = ["tests.test_gui_support"]

N_SIGNALS = 5000


class Receiver(QtCore.QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.total = 0
        self.threads: set[int] = set()

    @QtCore.Slot(object)
    def on_value(self, value: tuple[int, int]) -> None:
        self.count += 1
        self.total += value[1]
        self.threads.add(threading.get_ident())


def test_thousands_of_worker_signals_while_repainting(window, qtbot):
    receiver = Receiver()

    @thread_worker(start_thread=False)
    def produce():
        for i in range(N_SIGNALS):
            yield (i, i % 7)  # immutable payload

    worker = produce()
    worker.yielded.connect(receiver.on_value)
    worker.start()
    s = window.session
    frames = 0
    while receiver.count < N_SIGNALS:
        s.run("step")  # the window repaints every view while the signals arrive
        window.refresh()
        window.repaint()
        frames += 1
        qtbot.wait(1)
        assert frames < 20000, "signals stopped arriving"
    qtbot.waitUntil(lambda: not worker.is_running, timeout=5000)
    assert receiver.count == N_SIGNALS
    assert receiver.total == sum(i % 7 for i in range(N_SIGNALS))
    assert receiver.threads == {threading.get_ident()}  # delivered on the GUI thread


def test_many_gui_thread_emissions_with_repaints(window, qtbot):
    seen = []
    window.rendered.connect(lambda: seen.append(1))
    for k in range(1, 601):  # frame 0 is on screen already
        window.command("frame", k)
        window.refresh()  # emits `rendered` once per new frame
        if k % 50 == 0:
            window.repaint()
    assert len(seen) == 600


def test_prefetcher_simulates_in_the_worker(window, qtbot):
    s = window.session
    wanted = [20, 21, 22, 23]
    got: list[int] = []
    window.prefetcher.ready.connect(got.append)
    window.prefetcher.request(wanted)
    qtbot.waitUntil(lambda: set(wanted) <= set(got), timeout=10000)
    assert all(s.is_simulated(i) for i in wanted)
    window.prefetcher.request(wanted)  # already simulated: nothing queued
    assert not window.prefetcher.busy
