"""The background-run plumbing the chip lab's long tabs share (Monte Carlo, Calibration, Scaling): a
Run and a Cancel button and a progress bar kept in step with one superqt worker at a time; the events
the worker checks (cancel) and sets when it ends (done, so a closing window waits for it, bounded); and
the run's state: idle, running, cancelling, then done, cancelled or failed. A tab says what its worker
runs and how its results look."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets
from superqt.utils import WorkerBase

from convsram.gui.lab.labview import LabView
from convsram.gui.views.plotting import Panel, set_size, spacing

STOP_WAIT_S = 8.0  # closing the window waits at most this long for a run to end


class Cancelled(Exception):
    """Raised in the worker (from a progress callback) once Cancel is pressed."""


def cancel_check(cancel: threading.Event) -> Callable[[int], None]:
    """A progress callback for core code: raises Cancelled once `cancel` is set."""

    def check(_n: int) -> None:
        if cancel.is_set():
            raise Cancelled

    return check


def spin_box(lo: int, hi: int, value: int, tip: str, step: int = 1, min_w: int = 70) -> QtWidgets.QSpinBox:
    """A whole-number field of the control row (`min_w` in design pixels)."""
    s = QtWidgets.QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    s.setToolTip(tip)
    set_size(s, min_w=min_w)
    return s


class BackgroundView(LabView):
    """A lab tab that runs one long job in a worker thread; the window stays live. Subclasses build
    their fields, call `control_row` and set `summary`, and in `start` call `new_run` then `launch`."""

    finished = QtCore.Signal()
    progressed = QtCore.Signal(int)  # a count of what is done, emitted from any thread
    failed_what = "The run"  # failure text: "<failed_what> failed: <error>"
    cancelling_text = "Cancelling: stopping after the chip being evaluated…"  # "" leaves the summary
    summary: QtWidgets.QLabel

    def __init__(self, run_text: str, run_tip: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.lay = QtWidgets.QVBoxLayout(self)
        spacing(self.lay, 6, (6, 6, 6, 6))
        self.run_button = QtWidgets.QPushButton(run_text)
        self.run_button.setToolTip(run_tip)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("%v / %m chips")  # empty until the first run
        self.run_button.clicked.connect(lambda: self.start())
        self.cancel_button.clicked.connect(self.cancel)
        self.progressed.connect(self.progress.setValue)
        self.worker: WorkerBase | None = None
        self.state = "idle"  # idle, running, cancelling, done, cancelled, failed
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._done.set()

    def control_row(self, *widgets: QtWidgets.QWidget) -> QtWidgets.QHBoxLayout:
        """The tab's top row: its fields, Run, Cancel, and the progress bar taking the rest."""
        row = QtWidgets.QHBoxLayout()
        spacing(row, 8)
        for w in (*widgets, self.run_button, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        self.lay.addLayout(row)
        return row

    def add_summary(self, panel: Panel, text: str) -> None:
        """The line under the plots that says what the run found (`summary`), at the foot of `panel`."""
        self.summary = QtWidgets.QLabel(text)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(QtCore.Qt.TextFormat.RichText)
        panel.add(self.summary, 0)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, chips: int | None = None, images: int | None = None) -> None:
        """Run with the tab's fields (`chips`, `images`: set those fields first)."""
        raise NotImplementedError

    def new_run(self) -> tuple[threading.Event, threading.Event]:
        """Fresh (cancel, done) events for the next worker: it checks the first and sets the second when
        it ends, whatever the reason."""
        self._cancel, self._done = threading.Event(), threading.Event()
        return self._cancel, self._done

    def launch(self, worker: WorkerBase, total: int) -> None:
        """Start `worker` (its results connected by the tab) with the progress bar out of `total`."""
        self.worker = worker
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.state = "running"
        worker.start()

    def cancel(self) -> None:
        """Ask the worker to stop after what it is evaluating; what finished stays shown."""
        if self.running and self.state == "running":
            self._cancel.set()
            self.state = "cancelling"
            self.cancel_button.setEnabled(False)
            if self.cancelling_text:
                self.summary.setText(self.cancelling_text)

    def stop(self) -> None:
        """Cancel and wait for the worker to end (window closing), at most STOP_WAIT_S seconds."""
        self._cancel.set()
        if self.worker is not None:
            self._done.wait(STOP_WAIT_S)

    def failure_text(self, exc: BaseException) -> str:
        return f"{self.failed_what} failed: {type(exc).__name__}: {exc}"

    def ended(self) -> None:
        """The run ended (state done, cancelled or failed): the tab's last redraw."""

    @QtCore.Slot(object)
    def _on_error(self, exc: BaseException) -> None:
        self.state = "failed"
        self.summary.setText(self.failure_text(exc))

    @QtCore.Slot()
    def _on_finished(self, *_: object) -> None:
        self.worker = None
        self.state = {"cancelling": "cancelled", "running": "done"}.get(self.state, self.state)
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.ended()
        self.finished.emit()
