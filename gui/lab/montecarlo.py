"""Monte Carlo in the app: core.sweep over chip instances with this chip's knob settings, run by a
worker thread that consumes the sweep's generator (the sweep itself runs on all cores, or on the Dask
cluster named in the tab's scheduler field, CONVSRAM_SCHEDULER by default); a progress bar, cancel, and
the accuracy distribution over chips with this chip and the ideal chip marked.

Cancel asks the worker to stop after the chip it is waiting for and close the sweep (which ends its
processes); the chips that finished stay on the plot."""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt.utils import GeneratorWorker

from convsram.core import analysis
from convsram.core.config import ChipConfig
from convsram.core.network import Model, save_model
from convsram.core.stats import accuracy_interval, overlap, wilson
from convsram.core.sweep_engines import ENV_SCHEDULER, EngineError, scheduler_address
from convsram.gui import theme
from convsram.gui.lab import common, style
from convsram.gui.lab.background import BackgroundView, Cancelled, cancel_check, spin_box
from convsram.gui.views.plotting import Panel, bars, font, make_plot, marker, set_size, spacing

Message = tuple


def sweep_work(base: ChipConfig, seeds: list[int], images: int, model_path: str, mnist_dir: str | None,
               workers: int, cancel: threading.Event,
               done: threading.Event | None = None,
               scheduler: str | None = None) -> Generator[Message, None, None]:
    """Runs in the worker thread: ('ideal', accuracy), then ('chip', seed, accuracy, pJ per image) per
    chip as the sweep yields them (on `workers` local processes, or on the Dask cluster at `scheduler`);
    stops (closing the sweep) within a fraction of a second once `cancel` is set; sets `done` when it
    has ended, whatever the reason."""
    from convsram.core.evaluate import evaluate
    from convsram.core.mnist import load
    from convsram.core.network import load_model
    from convsram.core.sweep import sweep

    try:
        model = load_model(model_path)
        data = load("test", mnist_dir, limit=images)
        try:
            ideal = evaluate(model, data.images, data.labels, analysis.ideal_config(base), 0,
                             batch_size=100, progress=cancel_check(cancel))
        except Cancelled:
            return
        yield ("ideal", float(ideal["accuracy"]), len(data))
        if cancel.is_set():
            return
        gen = sweep(base, {}, seeds, images, model_path=model_path, mnist_dir=mnist_dir, workers=workers,
                    cancel=cancel, scheduler=scheduler)
        try:
            for p in gen:
                yield ("chip", int(p.seed), float(p.accuracy), float(p.energy_per_image_pj))
                if cancel.is_set():
                    return
        finally:
            gen.close()  # ends the sweep's worker processes (bounded)
    finally:
        if done is not None:
            done.set()


class MonteCarloView(BackgroundView):
    """The lab's Monte Carlo tab."""

    failed_what = "The sweep"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Run Monte Carlo", "Evaluate every chip on all cores in the background; the window "
                         "stays live", parent)
        self.chips = spin_box(2, 2000, 32, "Chip instances (seeds) to draw: this chip's seed and the next "
                              "ones", min_w=90)
        self.images = spin_box(10, 10000, 500, "MNIST test images per chip (the first N of the test set)",
                               step=100, min_w=100)
        self.scheduler = QtWidgets.QLineEdit(os.environ.get(ENV_SCHEDULER, ""))
        self.scheduler.setPlaceholderText("this computer")
        self.scheduler.setToolTip("Dask scheduler (tcp://HOST:PORT) whose workers evaluate the chips; empty: "
                                  f"this computer's cores. The {ENV_SCHEDULER} environment variable fills "
                                  "it in. Needs convsram[cluster] here and on the workers.")
        self.control_row(QtWidgets.QLabel("chips"), self.chips, QtWidgets.QLabel("images per chip"),
                         self.images, QtWidgets.QLabel("on"), self.scheduler)
        set_size(self.scheduler, min_w=150)

        self.panel = Panel("Accuracy over chips", "", subtitle_lines=2)
        self.plot = make_plot("accuracy on the test images (%)", "chips")
        p = self.plot.getPlotItem()
        self.band = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(theme.rgba(theme.HIST, 40)),
                                        pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.hist = bars(theme.HIST)
        self.this_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(style.THIS_CHIP, width=3), label="this chip",
                                         labelOpts={"position": 0.93, "color": style.THIS_CHIP,
                                                    "anchors": [(0, 0.5), (0, 0.5)]})
        self.ideal_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.IDEAL, width=2,
                                                                 style=QtCore.Qt.PenStyle.DashLine),
                                          label="ideal chip",
                                          labelOpts={"position": 0.82, "color": theme.IDEAL,
                                                     "anchors": [(0, 0.5), (0, 0.5)]})
        self.mean_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.HIST, width=1.5))
        for line in (self.this_line, self.ideal_line):
            line.label.setFont(font(theme.TICK_PX, bold=True))
        for item in (self.band, self.hist, self.mean_line, self.this_line, self.ideal_line):
            p.addItem(item)
        self.this_line.setVisible(False)
        self.ideal_line.setVisible(False)
        self.mean_line.setVisible(False)
        self.band.setVisible(False)
        self.chips_plot = make_plot("chip seed", "accuracy (%)")
        cp = self.chips_plot.getPlotItem()
        self.dots = marker("o", 8, theme.HIST)
        # each chip's accuracy is measured on a sample of images: its 95 % Wilson interval
        self.chip_bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.3,
                                         pen=pg.mkPen(theme.rgba(theme.HIST, 150), width=1))
        self.this_dot = marker("d", 16, style.THIS_CHIP)
        self.ideal_h = pg.InfiniteLine(angle=0, pen=pg.mkPen(theme.IDEAL, width=2,
                                                             style=QtCore.Qt.PenStyle.DashLine))
        self.ideal_h.setVisible(False)
        for item in (self.ideal_h, self.chip_bars, self.dots, self.this_dot):
            cp.addItem(item)
        row = QtWidgets.QHBoxLayout()
        spacing(row, 6)
        row.addWidget(self.plot, 2)
        row.addWidget(self.chips_plot, 1)
        self.panel.body.addLayout(row, 1)
        self.add_summary(self.panel, "Run a sweep to see how accuracy spreads over chips made with these "
                         "knobs.")
        self.panel.set_subtitle(
            f"left: <span style='color:{theme.HIST}'>■</span> chips per accuracy bin, "
            f"<span style='color:{theme.HIST}'>|</span> mean, shaded 5th–95th percentile · right: one dot "
            "per chip "
            "with its 95 % interval on these images "
            f"· <span style='color:{style.THIS_CHIP}'>◆ |</span> this chip (this window's seed and knobs) · "
            f"<b style='color:{theme.IDEAL}'>- -</b> ideal chip (every non-ideality off)")
        self.lay.addWidget(self.panel, 1)
        self.source: Any = None  # callable -> (config, seed, model path or Model, mnist dir)
        self.accuracies: dict[int, float] = {}
        self.ideal_accuracy: float | None = None
        self.n_images = 0
        self.this_seed: int | None = None
        self.config: ChipConfig | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    def start(self, chips: int | None = None, images: int | None = None, workers: int = 0,
              scheduler: str | None = None) -> None:
        """Run a sweep (arguments default to the tab's fields; `scheduler` '' = this computer)."""
        if self.running or self.source is None:
            return
        if scheduler is not None:
            self.scheduler.setText(scheduler)
        address = self.scheduler.text().strip() or None
        if address is not None:
            try:
                address = scheduler_address(address)
            except EngineError as exc:
                self.state = "failed"
                self.summary.setText(f"The sweep could not start: {exc}")
                return
        config, seed, model, mnist = self.source()
        if isinstance(model, Model):  # built in memory: the sweep's processes load a file
            self._tmp = tempfile.TemporaryDirectory(prefix="convsram-mc-")
            model = save_model(model, Path(self._tmp.name) / "model.npz")
        chips = chips or self.chips.value()
        images = images or self.images.value()
        self.chips.setValue(chips)
        self.images.setValue(images)
        seeds = [seed] + [s for s in range(seed + 1, seed + chips)]
        self.accuracies, self.ideal_accuracy, self.n_images = {}, None, images
        self.this_seed, self.config = seed, config
        cancel, done = self.new_run()
        # at least 2: the sweep's process pool (its single-worker path needs the main thread)
        workers = workers or max(2, mp.cpu_count())
        worker = GeneratorWorker(sweep_work, config, seeds, images, str(model),
                                 None if mnist is None else str(mnist), workers, cancel, done, address)
        worker.yielded.connect(self._on_message)
        self.launch(worker, len(seeds))
        where = "all cores" if address is None else f"the Dask cluster at {address}"
        self.summary.setText(f"Evaluating {len(seeds)} chips ({analysis.preset_name(config)} knobs) on "
                             f"{images} images each, on {where}…")
        self._redraw()

    @QtCore.Slot(object)
    def _on_message(self, msg: Message) -> None:
        if msg[0] == "ideal":
            self.ideal_accuracy, self.n_images = msg[1], msg[2]
        else:
            _, seed, acc, _pj = msg
            self.accuracies[seed] = acc
            self.progress.setValue(len(self.accuracies))
        self._redraw()

    def failure_text(self, exc: BaseException) -> str:
        if isinstance(exc, EngineError):  # the cluster: unreachable, no workers, workers without convsram
            return f"The sweep could not run: {exc}"
        return super().failure_text(exc)

    def ended(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self._redraw()

    def note_chip(self, config: ChipConfig, seed: int) -> None:
        """The session's chip changed: say so if the plot is of other knobs."""
        if self.config is not None and not self.running and self.accuracies:
            stale = config != self.config or seed != self.this_seed
            self.panel.set_note("knobs or seed changed since this sweep: run it again" if stale else "",
                                theme.CODE_BAD)

    def chip_intervals(self) -> dict[int, tuple[float, float]]:
        """Each chip's 95 % Wilson interval: its accuracy is measured on `n_images` images."""
        n = self.n_images
        return {k: wilson(round(a * n), n) for k, a in self.accuracies.items()}

    def alike(self, seed: int, intervals: dict[int, tuple[float, float]] | None = None) -> list[int]:
        """The other chips that chip `seed` is not told apart from: their 95 % intervals overlap."""
        intervals = intervals or self.chip_intervals()
        return [k for k, iv in intervals.items() if k != seed and overlap(iv, intervals[seed])]

    def _alike_text(self, seed: int, intervals: dict[int, tuple[float, float]]) -> str:
        others = len(intervals) - 1
        if others == 0:
            return ""
        alike = len(self.alike(seed, intervals))
        if alike == 0:
            return "; its interval overlaps no other chip's: it differs from every one"
        if alike == others:
            return (f"; its interval overlaps every other chip's: on {self.n_images} images it is not "
                    "distinguishable from any of them (the rank is noise; more images narrow it)")
        return (f"; not distinguishable from {alike} of the other {others} chips on {self.n_images} images "
                "(their intervals overlap)")

    def _redraw(self) -> None:
        seeds = np.array(list(self.accuracies), dtype=float)
        acc = np.array(list(self.accuracies.values()))
        p = self.plot.getPlotItem()
        cp = self.chips_plot.getPlotItem()
        seed = self.this_seed
        this = self.accuracies.get(seed) if seed is not None else None
        self.dots.setData(x=seeds, y=acc * 100)
        intervals = self.chip_intervals()
        low = np.array([intervals[k][0] for k in self.accuracies]) * 100
        high = np.array([intervals[k][1] for k in self.accuracies]) * 100
        self.chip_bars.setData(x=seeds, y=acc * 100, top=high - acc * 100, bottom=acc * 100 - low)
        if seed is not None and this is not None:
            self.this_dot.setData(x=[float(seed)], y=[this * 100])
        else:
            self.this_dot.setData(x=[], y=[])
        if acc.size == 0:
            self.hist.setOpts(x=[], height=[], width=0.1)
            self.this_line.setVisible(False)
            self.mean_line.setVisible(False)
            self.band.setVisible(False)
        else:
            centres, counts, width = analysis.accuracy_histogram(acc, self.n_images)
            self.hist.setOpts(x=centres * 100, height=counts, width=width * 100 * 0.85)
            s = analysis.mc_summary(acc, this)
            self.mean_line.setValue(s.mean * 100)
            self.mean_line.setVisible(True)
            self.band.setRegion((s.p5 * 100, s.p95 * 100))
            self.band.setVisible(acc.size >= 3)
            if this is not None:
                self.this_line.setValue(this * 100)
                self.this_line.setVisible(True)
            lo = min(acc.min(), self.ideal_accuracy if self.ideal_accuracy is not None else acc.min())
            hi = max(acc.max(), self.ideal_accuracy if self.ideal_accuracy is not None else acc.max())
            pad = max(0.6 * (hi - lo), 3 * width)
            top = min(hi + pad, 1.0 + 0.6 * width) * 100  # nothing beyond 100 %
            p.setXRange((lo - pad) * 100, top, padding=0)
            # the chips plot also holds each chip's interval (nothing beyond 100 % either)
            cp_lo = min(lo - pad, low.min() / 100 - 0.1 * pad)
            cp_hi = min(max(hi + pad, high.max() / 100 + 0.1 * pad), 1.0 + 0.6 * width)
            cp.setYRange(cp_lo * 100, cp_hi * 100, padding=0)
            first = float(seeds.min())
            last = max(float(seeds.max()), first + self.progress.maximum() - 1)
            cp.setXRange(first - 0.8, last + 0.8, padding=0)
            p.setYRange(0, max(counts.max(), 1) * 1.15, padding=0)
            step = max(1, int(np.ceil(counts.max() / 8)))
            ticks = [(k, str(k)) for k in range(0, int(counts.max()) + 2, step)]
            common.set_ticks(self.plot, "left", [ticks, []])
            m_lo, m_hi = accuracy_interval(acc)
            mean_ci = ("" if np.isnan(m_lo) else
                       f"95 % interval of the mean {m_lo * 100:.2f}–{m_hi * 100:.2f} %, ")
            parts = [f"<b>{s.chips}</b> chips on {self.n_images} images: mean <b>{s.mean * 100:.2f} %</b> "
                     f"({mean_ci}σ {s.std * 100:.2f} %), 5th–95th percentile "
                     f"{s.p5 * 100:.2f}–{s.p95 * 100:.2f} %, worst {s.worst * 100:.2f} %, best "
                     f"{s.best * 100:.2f} %."]
            if this is not None and s.rank is not None and seed is not None:
                lo_i, hi_i = intervals[seed]
                parts.append(f"<span style='color:{style.THIS_CHIP}'>This chip (seed {self.this_seed})</span>"
                             f": <b>{this * 100:.2f} %</b> ({lo_i * 100:.2f}–{hi_i * 100:.2f} %), rank "
                             f"{s.rank} of {s.chips}{self._alike_text(seed, intervals)}.")
            if self.ideal_accuracy is not None:
                parts.append(f"Ideal chip: {self.ideal_accuracy * 100:.2f} %.")
            state = {"running": "running…", "cancelling": "cancelling…",
                     "cancelled": "cancelled: the chips that finished are shown.", "done": "", "failed": "",
                     "idle": ""}[self.state]
            if state:
                parts.append(state)
            self.summary.setText(" ".join(parts))
        if self.ideal_accuracy is not None:
            self.ideal_line.setValue(self.ideal_accuracy * 100)
            self.ideal_line.setVisible(True)
            self.ideal_h.setValue(self.ideal_accuracy * 100)
            self.ideal_h.setVisible(True)
        if self.config is not None:
            self.panel.title.setText(f"Accuracy over chips: {analysis.preset_name(self.config)} knobs, seeds "
                                     f"{self.this_seed}…")
