"""The chip lab window: the knobs (a dock), event jumps, and the designer's views as tabs, all on the
main window's session. It is a display of the main window's pacer: when the session moves, the visible
tab updates to the session's current frame (at most ~7 times a second while playing); a knob change
re-simulates the current image at once (sliders throttled), and the main window and the lab both show
the new chip."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import FunctionWorker

from convsram.core import analysis
from convsram.core.config import ChipConfig
from convsram.core.configfile import ConfigError, load_config, preset, save_config
from convsram.gui import theme
from convsram.gui.gc_guard import freeze_long_lived
from convsram.gui.lab import common, style
from convsram.gui.lab.calibrate import CalibrationView
from convsram.gui.lab.compare import CompareView
from convsram.gui.lab.depth import DepthView
from convsram.gui.lab.errors import ErrorsView
from convsram.gui.lab.events import TITLES, EventSearch
from convsram.gui.lab.knobs import KnobPanel
from convsram.gui.lab.labview import LabView
from convsram.gui.lab.mismatch import MismatchView
from convsram.gui.lab.montecarlo import MonteCarloView
from convsram.gui.lab.scaling import ScalingView
from convsram.gui.lab.waveform import WaveformView
from convsram.gui.messages import ChipSimulated
from convsram.gui.screen_fit import fit_to_screen
from convsram.gui.views.plotting import configure_pyqtgraph, has_sizes, restyle, set_font, set_size, spacing

if TYPE_CHECKING:
    from convsram.gui.main_window import MainWindow

VIEWS: tuple[str, ...] = ("compare", "mismatch", "errors", "waveform", "montecarlo", "calibrate", "scaling",
                           "depth")
TAB_TITLES = {"compare": "Ideal vs this chip", "mismatch": "Mismatch map",
              "errors": "Where the error comes from", "waveform": "Inside one invocation",
              "montecarlo": "Monte Carlo", "calibrate": "Calibration", "scaling": "Scaling what-if",
              "depth": "Depth"}
# while playing, a view updates at most this often: the per-invocation views often, the per-layer
# analyses (a redraw of every axis when the layer changes) seldom
PLAYING_EVERY_MS = {"compare": 150, "waveform": 150, "errors": 700, "mismatch": 700, "montecarlo": 1000,
                    "calibrate": 1000, "scaling": 1000, "depth": 1000}
# a slider being dragged: one knob change at a time is re-simulated and redrawn in both windows; the
# newest value that came meanwhile waits, then goes after a rest of REST_FACTOR x the finished change's
# time (at least REST_MIN_MS), so the event loop stays free part of the time (a knob change that never
# comes back, a failed simulation, frees the sliders after STUCK_MS)
REST_FACTOR = 0.5
REST_MIN_MS = 40
MAX_REST_MS = 300
STUCK_MS = 2000
DESIGN_SIZE = (1920, 1080)
# main-window actions that also work from the lab (keys with a modifier or F-keys: plain keys belong to
# the lab's sliders and boxes)
SHARED_KEYS = ("ideal", "new_chip", "chip_lab", "next_saturation", "next_code_error", "next_misclassified",
               "goto_image", "quit", "shortcuts", "fullscreen")


def _simulate(session: Any, image: int, generation: int) -> ChipSimulated:
    """Worker thread: simulate `image` on the session's (new) chip, filling its cache."""
    t0 = time.perf_counter()
    session.run_image(image)
    return ChipSimulated(session.uid, generation, (time.perf_counter() - t0) * 1e3)


class LabWindow(QtWidgets.QMainWindow):
    """Knobs, ideal comparison, mismatch map, error sources, waveforms and Monte Carlo."""

    updated = QtCore.Signal()

    def __init__(self, main: MainWindow) -> None:
        super().__init__(main, QtCore.Qt.WindowType.Window)
        configure_pyqtgraph()
        self.main = main
        self.setObjectName("lab")
        self.setWindowTitle("convsram — chip lab")
        self.data = common.LabData()
        self._scale = 1.0
        self.update_ms: list[float] = []
        self.knob_cycle_ms: list[float] = []  # knob change to both windows painted
        self._chip_key: tuple | None = None
        self._last_update = 0.0
        self._knob_t0: float | None = None  # when the knob change being shown was applied
        self._knob_redrawn = False  # the dashboard has drawn it
        self._knob_next: ChipConfig | None = None  # the sliders' newest config, waiting for its turn
        self._frozen = False  # the lab's objects were frozen (see show_lab)
        self._rest_timer = QtCore.QTimer(self)
        self._rest_timer.setSingleShot(True)
        self._rest_timer.timeout.connect(self._apply_next_knobs)
        self._from_knobs: ChipConfig | None = None  # the last config the sliders themselves asked for
        self._sims: set[FunctionWorker] = set()  # image simulations running for knob changes
        with style.scaled(1.0):
            self._build()
        self._scale_timer = QtCore.QTimer(self)
        self._scale_timer.setSingleShot(True)
        self._scale_timer.setInterval(120)
        self._scale_timer.timeout.connect(self.apply_scale)
        main.pacer.subscribe(self, own_tick=True)
        main.installEventFilter(self)
        for name in SHARED_KEYS:
            action = main.named_actions.get(name)
            if action is not None:
                self.addAction(action)
        self.resize(1600, 950)
        fit_to_screen(self)

    # --- construction -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.setStyleSheet(style.stylesheet())
        set_font(self, theme.BASE_PX)
        self.knobs = KnobPanel()
        scroll = QtWidgets.QScrollArea()
        scroll.setObjectName("knobscroll")
        scroll.setWidget(self.knobs)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.dock = QtWidgets.QDockWidget("Chip knobs (live)", self)
        self.dock.setObjectName("knobs")
        self.dock.setWidget(scroll)
        self.dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        set_size(scroll, min_w=360)
        self.resizeDocks([self.dock], [theme.px(370)], QtCore.Qt.Orientation.Horizontal)

        central = QtWidgets.QWidget()
        central.setObjectName("labcentral")
        lay = QtWidgets.QVBoxLayout(central)
        spacing(lay, 4, (6, 6, 6, 4))
        bar = QtWidgets.QHBoxLayout()
        spacing(bar, 6)
        bar.addWidget(QtWidgets.QLabel("Jump to the next"))
        self.event_buttons: dict[str, QtWidgets.QPushButton] = {}
        keys = {name: self.main.named_actions[f"next_{name}"].shortcut().toString()
                if f"next_{name}" in self.main.named_actions else "" for name in TITLES}
        for name in ("saturation", "code_error", "misclassified"):
            text = {"saturation": "ADC saturation", "code_error": "code error ≥",
                    "misclassified": "misclassified image"}[name]
            b = QtWidgets.QPushButton(f"{text}" + (f"  ({keys[name]})" if keys[name] and name != "code_error"
                                                    else ""))
            b.clicked.connect(lambda _=False, n=name: self.jump(n))
            self.event_buttons[name] = b
            bar.addWidget(b)
            if name == "code_error":
                self.min_error = QtWidgets.QSpinBox()
                self.min_error.setRange(1, 255)
                self.min_error.setValue(2)
                self.min_error.setSuffix(" LSB")
                self.min_error.setToolTip("Smallest |code − ideal code| that counts as a code error")
                bar.addWidget(self.min_error)
                if keys[name]:
                    bar.addWidget(QtWidgets.QLabel(f"({keys[name]})"))
        self.event_buttons["saturation"].setToolTip(
            "The next invocation (from here on, across images) where an evaluated column's ADC hits its "
            "largest code")
        self.event_buttons["code_error"].setToolTip(
            "The next invocation where a code differs from the ideal ADC's (for the same inputs) by at least "
            "this many LSB")
        self.event_buttons["misclassified"].setToolTip("The answer of the next image the chip gets wrong")
        self.event_status = QtWidgets.QLabel("")
        self.event_status.setObjectName("hint")
        bar.addWidget(self.event_status, 1)
        lay.addLayout(bar)

        self.tabs = QtWidgets.QTabWidget()
        # every view of the lab, by tab: a new view is one file and one entry here (and in VIEWS)
        self.errors_view, self.waveform_view = ErrorsView(), WaveformView()
        self.mc_view, self.cal_view, self.scaling_view = MonteCarloView(), CalibrationView(), ScalingView()
        self.views: dict[str, LabView] = {
            "compare": CompareView(), "mismatch": MismatchView(), "errors": self.errors_view,
            "waveform": self.waveform_view, "montecarlo": self.mc_view, "calibrate": self.cal_view,
            "scaling": self.scaling_view, "depth": DepthView()}
        for view in self.views.values():
            view.data = self.data
        for name in VIEWS:
            self.tabs.addTab(self.views[name], TAB_TITLES[name])
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        lay.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        for label in central.findChildren(QtWidgets.QLabel):
            # texts change with every frame: they must never set the window's minimum size (a re-layout
            # of the whole window, and the knob dock squeezed)
            if not has_sizes(label):
                label.setMinimumWidth(1)
        for view in self.views.values():
            view.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored)

        self.search = EventSearch(self)
        self.search.found.connect(self._on_found)
        self.search.message.connect(self._on_search_message)
        self.search.finished.connect(self._on_search_finished)
        k = self.knobs
        k.configEdited.connect(self._apply_from_knobs)
        k.seedEdited.connect(lambda seed: self.apply_chip(seed=seed))
        k.newChip.connect(lambda: self.main.do("new_chip"))
        k.presetChosen.connect(lambda name: self.apply_config(preset(name)))
        k.idealToggled.connect(self.toggle_ideal)
        k.loadRequested.connect(self.load_config_dialog)
        k.saveRequested.connect(self.save_config_dialog)
        self.errors_view.frameRequested.connect(self._go_frame)
        self.errors_view.columnSelected.connect(self.waveform_view.prefer)
        self.mc_view.source = self._mc_source
        self.scaling_view.source = self._mc_source
        self.cal_view.source = lambda: self.main.session

    # --- showing ------------------------------------------------------------------------------------
    def show_lab(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()
        self.refresh()
        if not self._frozen:  # the lab's views are built: out of the collector's view (gc_guard)
            self._frozen = True
            freeze_long_lived()

    def select(self, view: str) -> LabView:
        """Bring a view's tab to the front (by name: compare, mismatch, errors, waveform, montecarlo)."""
        if view not in self.views:
            raise ValueError(f"unknown lab view {view!r}; one of {', '.join(VIEWS)}")
        self.tabs.setCurrentWidget(self.views[view])
        return self.views[view]

    def current_view(self) -> str:
        return VIEWS[self.tabs.currentIndex()]

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt API)
        if obj is self.main and event.type() == QtCore.QEvent.Type.Close:
            self.shutdown()
            self.close()
        return False

    def shutdown(self) -> None:
        """Stop background work (the main window is closing)."""
        self.search.cancel()
        for view in (self.mc_view, self.scaling_view, self.cal_view):
            view.stop()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self._chip_key = None
        self.main.pacer.invalidate(self)
        QtCore.QTimer.singleShot(0, self.refresh)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.isVisible():
            self._scale_timer.start()
        else:
            self.apply_scale()

    def apply_scale(self) -> None:
        scale = min(self.width() / DESIGN_SIZE[0], self.height() / DESIGN_SIZE[1])
        scale = min(max(scale, 0.5), 2.5)
        if abs(scale - self._scale) < 0.01:
            return
        self._scale = scale
        with style.scaled(scale):
            self.setStyleSheet(style.stylesheet())
            restyle(self)
            self.resizeDocks([self.dock], [theme.px(370)], QtCore.Qt.Orientation.Horizontal)
        self.refresh()

    # --- following the session ----------------------------------------------------------------------
    def render_frame(self, frame: object, context: object) -> None:
        """The pacer's call, on a tick of the lab's own (never in the dashboard's: each window's update
        and repaint stalls the event loop alone): the session moved."""
        self.refresh()

    def render_rest(self) -> bool:
        """The second part of the visible view's frame, on the lab's next tick (see LabView.show_rest)."""
        if not self.isVisible():
            return False
        with style.scaled(self._scale):
            return self.views[self.current_view()].show_rest()

    def due(self, now: float) -> bool:
        """Whether the pacer should update the lab at `now` (s): paused, always; while playing, the
        visible view at most every PLAYING_EVERY_MS."""
        if not self.main.player.playing:
            return True
        since = (now - self._last_update) * 1e3
        return not 0.0 <= since < PLAYING_EVERY_MS[self.current_view()]

    def refresh(self) -> None:
        """Update the knobs (if the chip changed) and the visible view to the session's current frame."""
        s = self.main.session
        if s is None or not self.isVisible():
            return
        f = s.current_frame()
        context = self.main.pacer.context(f)
        t0 = time.perf_counter()
        self._last_update = context.now
        with style.scaled(self._scale):
            key = (s.uid, s.generation)
            if key != self._chip_key:
                self._chip_key = key
                self.knobs.set_chip(s.config, s.seed, analysis.preset_name(s.config),
                                    sliders=s.config != self._from_knobs)
                self.mc_view.note_chip(s.config, s.seed)
            self.errors_view.split = self.main.player.playing or self._knob_t0 is not None
            self.views[self.current_view()].show_frame(f, context)
        t1 = time.perf_counter()
        self.update_ms.append((t1 - t0) * 1e3)
        del self.update_ms[:-500]
        if self._knob_t0 is not None and self._knob_redrawn:
            QtCore.QTimer.singleShot(0, self._knob_cycle_done)  # after this view has painted
        self.updated.emit()

    def _knob_cycle_done(self) -> None:
        """A knob change went all the way (simulated, both windows updated and painted): a slider value
        that came meanwhile goes after a rest in proportion to its cost, so a drag leaves the event
        loop free part of the time."""
        if self._knob_t0 is None:
            return
        cost = (time.perf_counter() - self._knob_t0) * 1e3
        self._knob_t0 = None
        self.knob_cycle_ms.append(cost)
        del self.knob_cycle_ms[:-200]
        if self._knob_next is not None:
            self._rest_timer.start(int(np.clip(REST_FACTOR * cost, REST_MIN_MS, MAX_REST_MS)))

    # --- changing the chip ------------------------------------------------------------------------------
    def apply_config(self, config: ChipConfig) -> None:
        self.apply_chip(config=config)

    def toggle_ideal(self, on: bool) -> None:
        """The ideal chip on the same frame, and back to this chip's knob settings."""
        s = self.main.session
        if s is None:
            return
        self.main.command("ideal", on)  # the session's ideal mode: the same as Ctrl+I

    def _apply_from_knobs(self, config: ChipConfig) -> None:
        """A slider's new value: applied now, or, while the previous change is still on its way to the
        screen, kept (only the newest) and applied after it (see REST_FACTOR)."""
        self._knob_next = config
        self._apply_next_knobs()

    @QtCore.Slot()
    def _apply_next_knobs(self) -> None:
        """The waiting slider value, unless a change is still on its way (its end, or at the latest
        STUCK_MS, brings this back) or resting after one (the rest timer does)."""
        if self._knob_next is None or self._rest_timer.isActive():
            return
        if self._knob_t0 is not None:
            waited = (time.perf_counter() - self._knob_t0) * 1e3
            if waited < STUCK_MS:  # the safety net: a change whose redraw never comes frees the sliders
                self._rest_timer.start(int(STUCK_MS - waited) + 1)
                return
        config, self._knob_next = self._knob_next, None
        self.apply_chip(config=config, from_knobs=True)

    def apply_chip(self, config: ChipConfig | None = None, seed: int | None = None,
                   from_knobs: bool = False) -> bool:
        """Knobs and/or seed to the session (re-simulates the current image); False if refused."""
        s = self.main.session
        if s is None:
            return False
        self._from_knobs = config if from_knobs else None
        if config is not None:
            try:
                analysis.check_fits(s.model.layers, config)
            except ValueError as exc:
                self._warn("This chip configuration does not fit the network", str(exc))
                self.knobs.set_chip(s.config, s.seed, analysis.preset_name(s.config))
                return False
        if (config is None or config == s.config) and (seed is None or seed == s.seed):
            return True
        t0 = time.perf_counter()
        if not self.main.set_chip(config, seed, redraw=False):
            return False
        self._knob_t0, self._knob_redrawn = t0, False
        # the knobs show the new chip at once (a preset, a file, a seed), but a slider that made the
        # change is left where the user's hand is
        self.knobs.set_chip(s.config, s.seed, analysis.preset_name(s.config),
                            sliders=s.config != self._from_knobs)
        # the current image is simulated in a worker; the windows redraw when it is ready (a newer knob
        # change meanwhile makes this one's result moot: the session drops it)
        worker = FunctionWorker(_simulate, s, s.image, s.generation)
        worker.returned.connect(self._on_simulated)
        worker.errored.connect(self._on_simulate_failed)
        # keep the workers referenced until they are done (pruned here, on the GUI thread)
        self._sims = {w for w in self._sims if w.is_running}
        self._sims.add(worker)
        worker.start()
        return True

    @QtCore.Slot(object)
    def _on_simulated(self, result: ChipSimulated) -> None:
        s = self.main.session
        if s is None or s.uid != result.session_uid or s.generation != result.generation:
            return
        self._knob_redrawn = True
        self.main.chip_changed(spread_axes=self._from_knobs is not None)

    @QtCore.Slot(object)
    def _on_simulate_failed(self, exc: object) -> None:
        self._knob_redrawn = True
        self.main.chip_changed()  # simulate on this thread instead; a real error shows there

    # --- files --------------------------------------------------------------------------------------------
    def load_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self._dialog_parent(), "Load chip configuration", "",
                                                        "chip configuration (*.toml);;all files (*)")
        if path:
            self.load_config(path)

    def save_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self._dialog_parent(), "Save chip configuration",
                                                        "chip.toml", "chip configuration (*.toml)")
        if path:
            self.save_config(path)

    def load_config(self, path: str | Path) -> bool:
        try:
            config = load_config(path)
        except ConfigError as exc:
            self._warn("Cannot load the chip configuration", str(exc))
            return False
        ok = self.apply_chip(config=config)
        if ok:
            self._say(f"chip configuration loaded from {path}")
        return ok

    def save_config(self, path: str | Path) -> bool:
        s = self.main.session
        if s is None:
            return False
        try:
            save_config(s.config, path)
        except OSError as exc:
            self._warn("Cannot save the chip configuration", f"{path}: {exc.strerror or exc}")
            return False
        self._say(f"chip configuration saved to {path} (the seed, {s.seed}, is not part of it)")
        return True

    def _dialog_parent(self) -> QtWidgets.QWidget:
        return self if self.isVisible() else self.main

    def _warn(self, title: str, text: str) -> None:
        QtWidgets.QMessageBox.warning(self._dialog_parent(), title, text)

    def _say(self, text: str) -> None:
        self.main.statusBar().showMessage(text, 6000)
        self.event_status.setText(text)

    # --- events -------------------------------------------------------------------------------------------
    def jump(self, event: str) -> None:
        """Search (in a worker) for the next event and go there when found; again to cancel."""
        s = self.main.session
        if s is None:
            return
        if self.search.busy:
            self.search.cancel()
            self._on_search_finished()
            self._say("search cancelled")
            return
        self.main.player.set_playing(False)
        for b in self.event_buttons.values():
            b.setEnabled(False)
        self.event_buttons[event].setEnabled(True)
        self.event_buttons[event].setToolTip(self.event_buttons[event].toolTip().split("\n")[0]
                                             + "\nPress again to cancel the search")
        self.search.start(s, event, self.min_error.value())

    @QtCore.Slot(str, int, int)
    def _on_found(self, event: str, image: int, frame: int) -> None:
        self.main.command("goto", image, frame)
        self.main.refresh()
        what = TITLES[event]
        self._say(f"next {what}: image {image}, invocation {frame + 1}")

    @QtCore.Slot(str)
    def _on_search_message(self, text: str) -> None:
        self._say(text)

    @QtCore.Slot()
    def _on_search_finished(self) -> None:
        for b in self.event_buttons.values():
            b.setEnabled(True)

    @QtCore.Slot(int)
    def _go_frame(self, frame: int) -> None:
        self.main.player.set_playing(False)
        self.main.command("frame", frame)
        self.main.refresh()

    def _mc_source(self) -> tuple:
        s = self.main.session
        if s is None:
            raise ValueError("no model is loaded")
        model: Any = self.main.model_path or s.model_path or s.model
        return s.config, s.seed, model, self.main.mnist_dir

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.search.cancel()
        super().closeEvent(event)
