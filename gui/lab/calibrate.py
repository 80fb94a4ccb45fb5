"""Offset calibration in the chip lab: a Calibrate button runs core.calibration on this chip (its seed,
with the knobs chosen: this chip's or a preset's) and on N chips, in a worker thread.

It shows the residual offset of every array column at the comparator input before and after (mV; a
network in several phases or on several macros: every column of every (phase, macro), one block after
the other, each with that phase's weights and correction), and
each chip's accuracy on the test images before and after, with the mean, the 5th percentile and a 95 %
interval for one chip's accuracy. The chip the other views show is not changed: calibration here is an
experiment on copies of it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt.utils import GeneratorWorker

from convsram.core import calibration, presets
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.inference import programmed_chip
from convsram.core.stats import chips_summary, wilson
from convsram.gui import theme
from convsram.gui.lab import style
from convsram.gui.lab.background import BackgroundView, Cancelled, cancel_check, spin_box
from convsram.gui.views.plotting import Panel, bars, caption_lines, make_plot, marker, set_size, spacing

BEFORE = theme.CODE_BAD  # as fabricated
AFTER = theme.CODE_OK  # calibrated
KNOBS = {"uncalibrated preset": "uncalibrated", "harsh preset": "harsh", "this chip's knobs": ""}


def calibrate_work(model: Any, images: np.ndarray, labels: np.ndarray, config: ChipConfig, seed: int,
                   chips: int, cancel: threading.Event,
                   done: threading.Event | None = None) -> Generator[tuple, None, None]:
    """Worker thread: ('map', result, before, after) for chip `seed`, then ('chip', BeforeAfter) for
    seeds seed .. seed + chips - 1; stops between images once `cancel` is set; sets `done` when it has
    ended, whatever the reason."""
    try:
        chip = Chip(config, seed)
        amap, _ = programmed_chip(model, chip)
        before = calibration.residual_offsets_v(chip, model, amap)
        result = calibration.calibrate(chip, model, amap)
        after = calibration.residual_offsets_v(chip, model, amap, result)
        yield ("map", result, before, after)
        check = cancel_check(cancel)
        for s in range(seed, seed + chips):
            if cancel.is_set():
                return
            try:
                yield ("chip", calibration.before_after(model, images, labels, config, s, progress=check))
            except Cancelled:
                return
    finally:
        if done is not None:
            done.set()


class CalibrationView(BackgroundView):
    """The lab's Calibration tab."""

    failed_what = "Calibration"
    cancelling_text = ""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Calibrate", "Offset calibration as the chip would run it: zero input on every "
                         "column, 64 conversions averaged, a 7-b whole-code correction stored per column "
                         "(core/calibration.py)", parent)
        self.knobs = QtWidgets.QComboBox()
        self.knobs.addItems(list(KNOBS))
        self.knobs.setToolTip("Which chips to calibrate: this chip's seed with the uncalibrated (or harsh) "
                              "preset's knobs, or with this chip's own knobs")
        self.chips = spin_box(1, 200, 20, "Chips (this seed and the next ones) evaluated before and after "
                              "calibration")
        self.images = spin_box(10, 10000, 500, "MNIST test images per chip (the first N): 500 images give "
                               "one chip's accuracy to about +/-0.5 points", step=100, min_w=90)
        self.control_row(QtWidgets.QLabel("knobs"), self.knobs, QtWidgets.QLabel("chips"), self.chips,
                         QtWidgets.QLabel("images per chip"), self.images)
        set_size(self.knobs, min_w=170)

        self.map_panel = Panel("Residual offset per column at the comparator input", "", subtitle_lines=3)
        self.before_plot = make_plot("array column", "before (mV)")
        self.after_plot = make_plot("array column", "after (mV)")
        self.before_bars, self.after_bars = bars(BEFORE), bars(AFTER)
        self.before_plot.getPlotItem().addItem(self.before_bars)
        self.after_plot.getPlotItem().addItem(self.after_bars)
        self.map_panel.body.addWidget(self.before_plot, 1)
        self.map_panel.body.addWidget(self.after_plot, 1)
        self._legend = (
            f"<span style='color:{BEFORE}'>■</span> as fabricated: comparator offset of the column's ADC + "
            "charge injection + the DAC offsets a zero code lets through · "
            f"<span style='color:{AFTER}'>■</span> left after the stored correction (whole codes of the "
            "column's layer)")
        self.map_panel.set_subtitle(self._legend)
        self.acc_panel = Panel("Accuracy per chip, before and after calibration", "", subtitle_lines=2)
        self.acc_plot = make_plot("chip seed", "accuracy (%)")
        ap = self.acc_plot.getPlotItem()
        self.before_dots, self.after_dots = marker("o", 9, BEFORE), marker("d", 12, AFTER)
        self.this_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(style.THIS_CHIP, width=1.5))
        for item in (self.this_line, self.before_dots, self.after_dots):
            ap.addItem(item)
        self.acc_panel.body.addWidget(self.acc_plot, 1)
        self.acc_panel.set_subtitle(
            f"<span style='color:{BEFORE}'>●</span> as fabricated · <span style='color:{AFTER}'>◆</span> "
            f"after calibration · <span style='color:{style.THIS_CHIP}'>|</span> this chip's seed")
        self.add_summary(self.acc_panel, "Press Calibrate: this chip's offsets are measured and corrected, "
                         "then each chip is evaluated before and after.")
        row = QtWidgets.QHBoxLayout()
        spacing(row, 6)
        row.addWidget(self.map_panel, 3)
        row.addWidget(self.acc_panel, 2)
        self.lay.addLayout(row, 1)
        self.source: Callable[[], Any] | None = None  # -> the session
        self.result: calibration.CalibrationResult | None = None
        self.before: np.ndarray | None = None
        self.after: np.ndarray | None = None
        self.chip_results: list[calibration.BeforeAfter] = []
        self.block_lines: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []  # between the map's blocks
        self.config: ChipConfig | None = None
        self.seed = 0

    def chosen_config(self, session: Any) -> ChipConfig:
        name = KNOBS[self.knobs.currentText()]
        if not name:
            return session.config
        return presets.preset(name).with_(**{g: getattr(session.config, g) for g in ("rows", "columns",
                                                                                       "adc_groups")})

    def start(self, chips: int | None = None, images: int | None = None) -> None:
        """Calibrate this chip and evaluate `chips` chips before and after (defaults: the tab's fields)."""
        if self.running or self.source is None:
            return
        s = self.source()
        if s is None:
            return
        if chips:
            self.chips.setValue(chips)
        if images:
            self.images.setValue(images)
        n = min(self.images.value(), len(s.data))
        self.config, self.seed = self.chosen_config(s), int(s.seed)
        self.result, self.before, self.after, self.chip_results = None, None, None, []
        cancel, done = self.new_run()
        worker = GeneratorWorker(calibrate_work, s.model, s.data.images[:n], s.data.labels[:n],
                                 self.config, self.seed, self.chips.value(), cancel, done)
        worker.yielded.connect(self._on_message)
        self.launch(worker, self.chips.value())
        self.summary.setText(f"Calibrating chip {self.seed} ({presets.name_of(self.config)} knobs), then "
                             f"{self.chips.value()} chips on {n} images each, before and after…")

    @QtCore.Slot(object)
    def _on_message(self, msg: tuple) -> None:
        if msg[0] == "map":
            _, self.result, self.before, self.after = msg
        else:
            self.chip_results.append(msg[1])
            self.progress.setValue(len(self.chip_results))
        self._redraw()

    def ended(self) -> None:
        self._redraw()

    def _blocks(self, r: calibration.CalibrationResult) -> None:
        """The map's x axis: array columns, or (several phases or macros) one block of columns per
        (phase, macro), split by lines."""
        blocks = r.phases * r.macros
        columns = len(self.before) // blocks if self.before is not None else 0
        caption_lines(self.map_panel.subtitle, 3 if blocks == 1 else 4)  # room for the phases' line
        for item, line in self.block_lines:
            item.removeItem(line)
        self.block_lines = []
        for plot in (self.before_plot, self.after_plot):
            for k in range(1, blocks):
                line = pg.InfiniteLine(k * columns - 0.5, angle=90, pen=pg.mkPen(theme.TEXT_DIM, width=1))
                plot.getPlotItem().addItem(line)
                self.block_lines.append((plot.getPlotItem(), line))

    @staticmethod
    def _phases_text(r: calibration.CalibrationResult) -> str:
        """Where the columns sit when the network runs in phases or on several macros ('' otherwise)."""
        if r.phases == 1 and r.macros == 1:
            return " per column"
        text = (f" per column and {'phase' if r.macros == 1 else '(phase, macro)'}: {r.phases} phase(s) on "
                f"{r.macros} macro(s), one block of columns each in the maps, each measured with its weights "
                "in place")
        if r.reload_bits_per_image:
            text += (f", loaded with them on every image ({r.reload_bits_per_image:,} register bits, "
                     f"{r.reload_energy_pj_per_image / 1e3:.2f} nJ)")
        return text

    def _redraw(self) -> None:
        if self.before is not None and self.after is not None and self.result is not None:
            cols = np.flatnonzero(~np.isnan(self.before)).astype(float)
            b, a = self.before[~np.isnan(self.before)] * 1e3, self.after[~np.isnan(self.after)] * 1e3
            self.before_bars.setOpts(x=cols, height=b, width=0.8)
            self.after_bars.setOpts(x=cols, height=a, width=0.8)
            for plot, v in ((self.before_plot, b), (self.after_plot, a)):
                top = max(float(np.abs(v).max()), 0.05) * 1.15
                plot.getPlotItem().setYRange(-top, top, padding=0)
                plot.getPlotItem().setXRange(-1, len(self.before), padding=0)
            r = self.result
            s = r.summary()
            self._blocks(r)
            self.map_panel.title.setText(
                f"Residual offset of chip {self.seed}: rms {s['rms_offset_before_mv']:.2f} mV → "
                f"{s['rms_offset_after_mv']:.2f} mV (largest left {s['max_abs_offset_after_mv']:.2f} mV)")
            self.map_panel.set_subtitle(
                f"{self._legend}<br>Calibration: {r.columns.size} columns × {r.settings.samples} conversions "
                f"at zero input, a {r.settings.bits}-b correction{self._phases_text(r)}; once per chip "
                f"{r.energy_total_pj / 1e3:.1f} nJ and {r.time_ns / 1e3:.0f} µs")
        res = self.chip_results
        if not res:
            return
        seeds = np.array([c.seed for c in res], dtype=float)
        before = np.array([c.accuracy_before for c in res]) * 100
        after = np.array([c.accuracy_after for c in res]) * 100
        self.before_dots.setData(x=seeds, y=before)
        self.after_dots.setData(x=seeds, y=after)
        self.this_line.setValue(float(self.seed))
        lo = min(before.min(), after.min())
        hi = max(before.max(), after.max())
        pad = max(0.15 * (hi - lo), 0.3)
        ap = self.acc_plot.getPlotItem()
        ap.setYRange(lo - pad, min(hi + pad, 100.5), padding=0)
        ap.setXRange(self.seed - 0.8, self.seed + max(self.chips.value(), len(res)) - 0.2, padding=0)
        n = res[0].images
        sb = chips_summary([c.accuracy_before for c in res])
        sa = chips_summary([c.accuracy_after for c in res])
        ci_lo, ci_hi = wilson(round(sa["mean"] * n), n)
        parts = [f"<b>{len(res)}</b> chips on {n} images: "
                 f"<span style='color:{BEFORE}'>before</span> mean <b>{sb['mean'] * 100:.2f} %</b>, 5th "
                 f"percentile {sb['p5'] * 100:.2f} %, worst {sb['min'] * 100:.2f} % · "
                 f"<span style='color:{AFTER}'>after</span> mean <b>{sa['mean'] * 100:.2f} %</b>, 5th "
                 f"percentile {sa['p5'] * 100:.2f} %, worst {sa['min'] * 100:.2f} %. One chip's accuracy "
                 f"on {n} images is known to ±{(ci_hi - ci_lo) * 50:.2f} points (95 %)."]
        if self.state in ("cancelled", "cancelling"):
            parts.append("Cancelled: the chips that finished are shown.")
        self.summary.setText(" ".join(parts))
