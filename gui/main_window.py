"""The main window: the dashboard of views around one :class:`core.session.Session`, its actions
(menus, buttons and keys all trigger the same QAction), playback and the status bar.

Data flow: every user action is a session command; the session announces the change and the display
pacer (gui.pacer, shared with the demo and the chip lab) lets the player move the session on at each
tick, then renders the session's current frame once if anything changed. Views are built once, only
update their items, and are listed in one place (``views``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core.analysis import preset_name
from convsram.core.config import ChipConfig
from convsram.core.mnist import DataError
from convsram.core.paths import DEFAULT_MODEL
from convsram.core.session import Frame, Session
from convsram.gui import export, theme
from convsram.gui.actions import ACTIONS, fill_menus, make_actions
from convsram.gui.captions import PanelCaptions
from convsram.gui.gc_guard import schedule_freeze
from convsram.gui.help import ABOUT, ShortcutsDialog
from convsram.gui.lab import actions as lab_actions
from convsram.gui.pacer import FrameSplit, Pacer, show_views
from convsram.gui.player import Player
from convsram.gui.prefetch import Prefetcher
from convsram.gui.problem_page import ProblemPage
from convsram.gui.screen_fit import fit_to_screen
from convsram.gui.settings import TECHNICAL_CAPTIONS, open_settings, read_bool, read_int
from convsram.gui.transport import LAYER_PER_FRAME, TransportBar
from convsram.gui.views.array_view import ArrayView
from convsram.gui.views.context import Context, FrameView
from convsram.gui.views.energy_view import EnergyView
from convsram.gui.views.input_view import InputView
from convsram.gui.views.layer_stats import warm
from convsram.gui.views.narration import NarrationView
from convsram.gui.views.outputs import OutputView
from convsram.gui.views.plotting import (
    Panel,
    RangeQueue,
    configure_pyqtgraph,
    has_sizes,
    restyle,
    set_font,
    set_text,
    spacing,
    stretch_box,
)
from convsram.gui.views.result_view import ResultView
from convsram.gui.views.signals import CodesView, DiffView, HistogramView, LinesView
from convsram.gui.views.tips import view_tip
from convsram.gui.views.where_view import WhereView

EXPORT_ACTIONS = export.ACTION_NAMES
LAB_ACTIONS = lab_actions.ACTION_NAMES
if TYPE_CHECKING:
    from convsram.gui.demo.window import DemoWindow
    from convsram.gui.lab.window import LabWindow

STEPPING = ("step", "back", "frame")  # session commands that pause playback (looking closely)
RANGES_PER_TICK = 1  # axis-range changes applied per display tick during playback
MIN_SIZE = (960, 540)
DESIGN_SIZE = (1920, 1080)  # the layout scales like a slide from this size
WITHOUT_SESSION = ("open_model", "open_mnist", "quit", "shortcuts", "about", "screenshot", "fullscreen",
                   "save_window", "save_view", "record", "technical")

@dataclass(frozen=True)
class Handler:
    """A window action: what it runs, and whether it needs a loaded session."""

    run: Callable[[], object]
    needs_session: bool = False


class MainWindow(QtWidgets.QMainWindow):
    """The app. `session` None means the model or data could not be loaded: `error` says why."""

    rendered = QtCore.Signal()

    def __init__(self, session: Session | None = None, error: str | None = None, *,
                 remember: bool = True, model_path: Path | None = None, mnist_dir: Path | None = None,
                 seed: int = 0) -> None:
        super().__init__()
        configure_pyqtgraph()
        theme.set_scale(1.0)  # built at design size; apply_scale rescales to the window
        self.setWindowTitle("convsram — Conv-SRAM in-memory computing, live")
        self.setStyleSheet(theme.stylesheet())
        set_font(self, theme.BASE_PX)
        self.setMinimumSize(*MIN_SIZE)
        self.remember = remember
        self.model_path, self.mnist_dir, self.seed = model_path, mnist_dir, seed
        self.session: Session | None = None
        self.render_ms: list[float] = []  # recent render times (the benchmark reads them)
        self._image_shown: tuple | None = None
        self.help_dialog: ShortcutsDialog | None = None
        self._throttled: dict[int, float] = {}  # id(view) -> when it last showed a frame
        self.demo: DemoWindow | None = None  # demo mode's window while it is open
        self.recorder: export.Recorder | None = None  # File > Record's recorder while recording
        self.chip_lab: LabWindow | None = None  # the chip lab, once opened

        self.handlers = self._make_handlers()
        self.named_actions = make_actions(self, self.do)
        fill_menus(self.menuBar(), self.named_actions)
        self.prefetcher = Prefetcher(None, self, warm=warm)
        self.player = Player(self.prefetcher, self)
        self.player.playingChanged.connect(self._on_playing)
        self.pacer = Pacer(self.player, self)  # the display loop, shared with the demo and the lab
        self.pacer.subscribe(self, idle=self._idle)
        self.prefetcher.ready.connect(self._on_prefetched)
        self.prefetcher.failed.connect(self._on_prefetch_failed)

        self.stack = QtWidgets.QStackedWidget()
        self.dashboard = self._make_dashboard()
        self.problem = ProblemPage()
        self.problem.openModel.connect(self.named_actions["open_model"].trigger)
        self.problem.openMnist.connect(self.named_actions["open_mnist"].trigger)
        self.problem.retry.connect(self._reopen)
        self.stack.addWidget(self.dashboard)
        self.stack.addWidget(self.problem)
        self.setCentralWidget(self.stack)
        self._make_status_bar()

        self._scale = 1.0
        self._scale_timer = QtCore.QTimer(self)
        self._scale_timer.setSingleShot(True)
        self._scale_timer.setInterval(120)
        self._scale_timer.timeout.connect(self.apply_scale)

        self.restored_geometry = False
        self.resize(1600, 950)
        settings = open_settings() if remember else None
        if settings is not None:
            geometry = settings.value("geometry")
            if isinstance(geometry, QtCore.QByteArray | bytes):
                self.restored_geometry = self.restoreGeometry(geometry)
            self.set_technical(read_bool(settings, TECHNICAL_CAPTIONS, False))
            speed = settings.value("speed")
            if speed is not None:
                try:
                    self.transport.set_speed(float(speed))
                except (TypeError, ValueError):
                    pass
        fit_to_screen(self)  # a fresh 1600x950 or a remembered geometry may not fit this screen
        self.player.set_speed(self.transport.speed_value())
        for label in self.findChildren(QtWidgets.QLabel):
            # a label's text changes every frame; its width must never become the window's minimum
            # (that would re-layout the whole window, and on some platforms resize it)
            if not has_sizes(label):
                label.setMinimumWidth(1)
        if session is not None:
            self.set_session(session)
        else:
            self.show_problem(error or "no model or data loaded")
        self.pacer.timer.start()

    # --- construction ---------------------------------------------------------------------------------
    def _make_dashboard(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        page.setObjectName("central")
        outer = QtWidgets.QVBoxLayout(page)
        spacing(outer, 6, (6, 6, 6, 6))
        self.where = WhereView()
        self.where.strip.layerClicked.connect(self._go_to_layer)
        self.where.strip.stageClicked.connect(  # a pool's or an add's box: that digital step
            lambda st: self.command("frame", self.session.current.stage_start[st]) if self.session else None)
        outer.addWidget(self.where, 0)
        self.narration = NarrationView(theme.TICK_PX + 1, lines=2)  # "what is happening now"
        outer.addWidget(self.narration, 0)
        self.ideal_badge = QtWidgets.QLabel()  # ideal mode, impossible to miss (see _session_changed)
        self.ideal_badge.setObjectName("idealBadge")
        self.ideal_badge.setVisible(False)
        outer.addWidget(self.ideal_badge, 0)

        self.input_view = InputView()
        self.array_view = ArrayView()
        self.array_view.hovered.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.lines_view, self.diff_view = LinesView(), DiffView()
        self.codes_view, self.hist_view = CodesView(), HistogramView()
        self.output_view = OutputView()
        self.result_view = ResultView()
        self.energy_view = EnergyView()
        # stretch factors decide the proportions, not the widgets' size hints (Ignored policies)
        ignored = QtWidgets.QSizePolicy.Policy.Ignored
        # (a label whose text changes can then never push the layout around: no relayout per frame)
        for widget in (self.input_view, self.array_view, self.lines_view, self.diff_view, self.codes_view,
                       self.hist_view, self.output_view):
            widget.setSizePolicy(ignored, ignored)
        for text_panel in (self.result_view, self.energy_view):  # as tall as their text, no taller
            text_panel.setSizePolicy(ignored, QtWidgets.QSizePolicy.Policy.Minimum)


        def box(horizontal: bool, *items: tuple[QtWidgets.QWidget, int]) -> QtWidgets.QWidget:
            return stretch_box(horizontal, 6, *items)

        h, v = True, False
        center = box(v, (self.array_view, 40), (box(h, (self.lines_view, 1), (self.diff_view, 1)), 30),
                     (box(h, (self.codes_view, 1), (self.hist_view, 1)), 30))
        right = box(v, (self.output_view, 1), (self.result_view, 0), (self.energy_view, 0))
        outer.addWidget(box(h, (self.input_view, 19), (center, 52), (right, 29)), 1)
        # under every panel a caption: plain words (the views' legends hidden), technical ones a key away
        self.captions = PanelCaptions(
            {"digit": self.input_view, "array": self.array_view, "lines": self.lines_view,
             "diff": self.diff_view, "codes": self.codes_view, "hist": self.hist_view,
             "output": self.output_view},
            legends=[self.input_view.digit_caption, self.array_view.legend, self.lines_view.subtitle,
                     self.diff_view.subtitle, self.codes_view.subtitle, self.hist_view.subtitle,
                     self.output_view.subtitle])

        self.ranges = RangeQueue(immediate=True)
        for panel in self.dashboard_panels():
            panel.ranges = self.ranges
        # every view of the dashboard, in render order: a new view is built above and listed here
        self.views: list[FrameView] = [self.where, self.narration, self.input_view, self.array_view,
                                       self.lines_view, self.diff_view, self.codes_view, self.hist_view,
                                       self.output_view, self.result_view, self.energy_view]
        # while playing, a frame is drawn over two ticks, the signal plots on the second; into a new
        # stage (a layer change repaints every plot) over three: the digit and its header, then the array,
        # the output and the ledgers, then the signals
        signals: list[FrameView] = [self.lines_view, self.diff_view, self.codes_view, self.hist_view]
        self._dragged = False  # a knob drag's chip change is being drawn (split like a playing frame)
        self.split = FrameSplit([[self.array_view, self.output_view, self.result_view, self.energy_view],
                                 signals], playing=[signals])

        self.transport = TransportBar(self.named_actions)
        self.transport.speedChanged.connect(self._on_speed)
        self.transport.imageRequested.connect(lambda image: self.do("goto", image))
        self.transport.scrubber.scrubbed.connect(lambda k: self.do("frame", k))
        outer.addWidget(self.transport, 0)
        return page

    def dashboard_panels(self) -> list[Panel]:
        return [self.input_view, self.array_view, self.lines_view, self.diff_view, self.codes_view,
                self.hist_view, self.output_view, self.result_view, self.energy_view]

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_model = QtWidgets.QLabel()
        self.status_chip = QtWidgets.QLabel()
        self.status_play = QtWidgets.QLabel()
        for w in (self.status_model, self.status_chip, self.status_play):
            bar.addPermanentWidget(w)

    # --- session --------------------------------------------------------------------------------------
    def set_session(self, session: Session) -> None:
        """Show `session` (replacing any other)."""
        self.session = session
        self.prefetcher.set_session(session)
        self.player.set_session(session)
        self.pacer.set_session(session)
        self.stack.setCurrentWidget(self.dashboard)
        self._session_changed()
        schedule_freeze()  # the session and the views are built: out of the collector's view (gc_guard)
        for name in ACTIONS:
            self.named_actions[name].setEnabled(True)

    def _session_changed(self) -> None:
        """The chip, model or data changed: static parts of the views are redrawn."""
        s = self.session
        assert s is not None
        self.array_view.set_session(s)
        self.where.set_session(s)
        self._set_tips(s.config)
        self.named_actions["ideal"].setChecked(s.config.is_ideal())
        self.ideal_badge.setVisible(s.config.is_ideal())
        back = "this chip" if s.before_ideal is not None else "the calibrated chip's non-idealities"
        set_text(self.ideal_badge, f"IDEAL CHIP · every non-ideality off, same operating point · "
                                   f"Ctrl+I: back to {back}")
        path = self.model_path or s.model_path
        name = Path(path).name if path else "(built in memory)"
        if path is not None and Path(path).resolve() == DEFAULT_MODEL.resolve():
            name += " (shipped)"
        set_text(self.status_model, f"model {name} · {len(s.data):,} test images")
        chip = {"ideal": "ideal", "calibrated": "calibrated chip", "uncalibrated": "uncalibrated chip",
                "harsh": "harsh corner"}.get(
            "ideal" if s.config.is_ideal() else preset_name(s.config), "custom knobs")
        set_text(self.status_chip, f"chip seed {s.seed} ({chip})")
        self._image_shown = None
        self.pacer.invalidate(self)
        self.refresh()

    def _set_tips(self, config: ChipConfig) -> None:
        """Hover texts naming the chip knobs (with values and sources) behind each analog view."""
        self.array_view.dac_plot.setToolTip(view_tip(
            "Row DACs: each input code discharges its row from the precharge by code × dac_lsb, with "
            "per-row gain, offset and INL errors drawn once per chip.", config, "dac"))
        self.array_view.array_plot.setToolTip(view_tip(
            "Hover a cell for its row, column, weight, layer and filter.", config, "array"))
        self.lines_view.setToolTip(view_tip(
            "Each line of a column's pair is precharged, then its cells' segments share charge: a +1 cell "
            "puts its row's DAC voltage on the P side, a −1 cell on the N side, so each line settles at the "
            "average of what its cells hold.", config, "lines"))
        self.codes_view.setToolTip(view_tip(
            "Integrating ADC (one per 16 columns): the comparator decides the sign, then the lower line is "
            "ramped one step per clock until it crosses the other; the step count is the code. White: the "
            "code an ideal chip gives for the same inputs.", config, "adc"))

    def show_problem(self, message: str) -> None:
        """The model or data could not be loaded: say what and how to fix it."""
        self.session = None
        self.prefetcher.set_session(None)
        self.player.set_session(None)
        self.pacer.set_session(None)
        self.player.set_playing(False)
        self.problem.set_problem(message)
        self.stack.setCurrentWidget(self.problem)
        for name in ACTIONS:
            if name not in WITHOUT_SESSION:
                self.named_actions[name].setEnabled(False)
        self.statusBar().showMessage(message)

    def _open(self, model: Path | None, mnist: Path | None) -> None:
        try:
            session = Session.open(model, mnist, seed=self.seed)
        except (DataError, ValueError) as exc:
            self.model_path, self.mnist_dir = model, mnist
            self.show_problem(str(exc))
            return
        self.model_path, self.mnist_dir = model, mnist
        self.set_session(session)

    @QtCore.Slot()
    def _reopen(self) -> None:
        self._open(self.model_path, self.mnist_dir)

    # --- commands ---------------------------------------------------------------------------------------
    def _make_handlers(self) -> dict[str, Handler]:
        """Every window action (menus, keys, buttons) that is not a session command, in one table; the
        Export and chip-lab entries come from their modules' action names."""
        h = {
            "play": Handler(lambda: self.player.toggle()),
            "faster": Handler(lambda: self.transport.faster(1)),
            "slower": Handler(lambda: self.transport.faster(-1)),
            "shortcuts": Handler(self._show_shortcuts),
            "about": Handler(lambda: QtWidgets.QMessageBox.about(self, "About convsram", ABOUT)),
            "quit": Handler(self.close),
            "fullscreen": Handler(self._toggle_full_screen),
            "technical": Handler(lambda: self.set_technical(not self.captions.technical)),
            # File > Save screenshot: the Export menu's "window" entry
            "screenshot": Handler(lambda: export.run_action(self, "save_window")),
            "open_model": Handler(self._ask_model),
            "open_mnist": Handler(self._ask_mnist),
            "demo": Handler(lambda: self.enter_demo(), needs_session=True),
            "demo_script": Handler(lambda: self.enter_demo(ask_script=True), needs_session=True),
            "goto_image": Handler(self._ask_image, needs_session=True),
            "ideal": Handler(self._toggle_ideal, needs_session=True),
            "new_chip": Handler(self._next_seed, needs_session=True),
        }
        for name in EXPORT_ACTIONS:
            h[name] = Handler(partial(export.run_action, self, name))
        for name in LAB_ACTIONS:
            h[name] = Handler(partial(lab_actions.run_action, self, name), needs_session=True)
        return h

    def do(self, name: str, *args: object) -> None:
        """Run a user action by name: a window action from the table, else a session command."""
        handler = self.handlers.get(name)
        if handler is not None:
            if self.session is not None or not handler.needs_session:
                handler.run()
            return
        if self.session is None:
            return
        if name in STEPPING:
            self.player.set_playing(False)  # stepping means looking closely
        self.command(name, *args)

    def set_technical(self, on: bool) -> None:
        """The views' technical legends, or plain captions under the panels (T, the View menu)."""
        self.captions.set_technical(on)
        self.named_actions["technical"].setChecked(on)
        self.pacer.invalidate(self)

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _show_shortcuts(self) -> None:
        if self.help_dialog is None:
            self.help_dialog = ShortcutsDialog(self.named_actions, self)
        self.help_dialog.session = self.session  # the chip page works its equation on this frame
        self.help_dialog.refresh()
        self.help_dialog.show()  # modeless: the demo keeps running behind it
        self.help_dialog.raise_()

    def _ask_model(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open model", str(self.model_path or ""),
                                                        "convsram model (*.npz)")
        if path:
            self._open(Path(path), self.mnist_dir)

    def _ask_mnist(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "MNIST folder", str(self.mnist_dir or ""))
        if path:
            self._open(self.model_path, Path(path))

    def _ask_image(self) -> None:
        s = self.session
        assert s is not None
        last = len(s.data) - 1
        image, ok = QtWidgets.QInputDialog.getInt(self, "Go to image", f"MNIST test image (0–{last})",
                                                  s.image, 0, last)
        if ok:
            self.command("goto", image)

    def _toggle_ideal(self) -> None:
        s = self.session
        assert s is not None
        self.command("ideal", not s.config.is_ideal())

    def _next_seed(self) -> None:
        s = self.session
        assert s is not None
        self.command("seed", s.seed + 1)

    def enter_demo(self, script: Path | str | None = None, ask_script: bool = False,
                   full_screen: bool = True) -> DemoWindow | None:
        """Demo mode (gui.demo) on this session, full screen; Esc comes back here."""
        if ask_script:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Demo script", "", "demo script (*.txt *)")
            if not path:
                return None
            script = path
        from convsram.gui.demo import enter_demo

        return enter_demo(self, script, full_screen=full_screen)

    def set_chip(self, config: ChipConfig | None = None, seed: int | None = None,
                 redraw: bool = True) -> bool:
        """Other knob settings and/or another chip instance (the chip lab's knobs); re-simulates the
        current image and redraws. redraw=False leaves the redraw to a later chip_changed() (the chip
        lab simulates the image in a worker thread first)."""
        s = self.session
        if s is None:
            return False
        try:
            s.set_chip(config, seed)
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 6000)
            return False
        if redraw:
            self._session_changed()
        else:
            self.pacer.defer()  # the caller simulates the image in a worker, then calls chip_changed()
        return True

    def chip_changed(self, spread_axes: bool = False) -> None:
        """Redraw for the session's new chip (after set_chip(..., redraw=False)). spread_axes: the axis
        range changes the new chip brings are applied one per display tick, as during playback (a knob
        being dragged: the redraw then never stalls the event loop for long)."""
        if self.session is None:
            return
        self.pacer.resume()
        if spread_axes:
            self.ranges.immediate = False
        self._dragged = spread_axes  # the redraw split over two ticks, as while playing
        try:
            self._session_changed()
        finally:
            self._dragged = False

    def command(self, name: str, *args: object) -> None:
        """A session command; a bad argument shows in the status bar instead of raising."""
        s = self.session
        if s is None:
            return
        generation = s.generation
        try:
            s.run(name, *args)
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 6000)
            return
        if name in ("goto", "next_image", "prev_image"):
            self.player.set_session(s)  # a jump restarts playback timing (no hold carried over)
        if s.generation != generation:
            self._session_changed()

    # --- display ------------------------------------------------------------------------------------------
    @property
    def frame(self) -> Frame | None:
        """The session's current frame (the session is the one holder of "now")."""
        return None if self.session is None else self.session.current_frame()

    @property
    def timer(self) -> QtCore.QTimer:
        """The display loop's timer (the pacer's)."""
        return self.pacer.timer

    def _idle(self, now: float) -> None:
        """A display tick with no new frame: spread axis changes; say why playback waits."""
        if self.session is None or not self.isVisible():
            return
        if len(self.ranges):
            self.ranges.run(RANGES_PER_TICK)
            if not len(self.ranges):  # spread axis changes (chip_changed) done: paused means immediate
                self.ranges.immediate = not self.player.playing
        if self.player.waiting:
            set_text(self.status_play, "waiting for the next image to be simulated…")

    def refresh(self) -> None:
        """Render the session's current frame now (no-op if it is already on screen)."""
        self.pacer.render(self)

    def render_frame(self, frame: Frame, context: Context) -> None:
        """Show `frame` in every view (the pacer calls this once per new frame)."""
        s = context.session
        t0 = time.perf_counter()
        self._show(self.split.now(self.views, frame, context, busy=self._dragged), frame, context)
        self.transport.scrubber.set_value(frame.index)
        self.transport.set_image(frame.image, len(s.data))
        image_key = (frame.image, s.generation)
        if image_key != self._image_shown:
            self._image_shown = image_key
            run = s.current
            names = [sp.name for sp in s.model.layers]
            self.transport.scrubber.set_layers(run.layer_start, run.n_frames, names)
            n = len(s.data)
            self.prefetcher.request([(frame.image + 1) % n, (frame.image + 2) % n, (frame.image - 1) % n])
        self._update_play_status()
        if self.player.playing or not self.ranges.immediate:
            self.ranges.run(RANGES_PER_TICK)
        else:
            self.ranges.flush()
        self.render_ms.append((time.perf_counter() - t0) * 1e3)
        del self.render_ms[:-500]
        self.rendered.emit()

    def render_rest(self) -> bool:
        """The next part of a frame spread over ticks: while playing, or a dragged knob's (FrameSplit)."""
        return self.split.rest(self._show)

    def _show(self, views: list[FrameView], frame: Frame, context: Context) -> None:
        show_views(views, frame, context, self._throttled)

    def _update_play_status(self) -> None:
        if self.player.playing:
            speed = self.player.speed
            rate = "a whole stage per frame" if speed == LAYER_PER_FRAME else f"{speed:,g} steps/s"
            short = self.player.falls_short()
            if short is not None:  # say what is delivered, not only what was asked
                rate = f"{short:,.0f} of the {speed:,g} steps/s asked (display-limited)"
            set_text(self.status_play, f"▶ playing at {rate}")
        else:
            set_text(self.status_play, "❚❚ paused — Space to play, ← → to step, F1 for all keys")

    @QtCore.Slot(bool)
    def _on_playing(self, playing: bool) -> None:
        self.ranges.immediate = not playing
        if not playing:
            self.split.flush(self._show)  # the frame's waiting parts now: paused shows it whole
            self.ranges.flush()
            self.pacer.invalidate()  # paused: every view shows this very frame (no throttling)
        self.transport.set_playing(playing)
        self._update_play_status()

    @QtCore.Slot(int)
    def _go_to_layer(self, layer: int) -> None:
        if self.session is not None:
            self.command("frame", self.session.current.layer_start[layer])

    @QtCore.Slot(float)
    def _on_speed(self, speed: float) -> None:
        self.player.set_speed(speed)
        self._update_play_status()

    @QtCore.Slot(int)
    def _on_prefetched(self, image: int) -> None:
        if self.player.waiting:
            self._update_play_status()

    @QtCore.Slot(int, str)
    def _on_prefetch_failed(self, image: int, message: str) -> None:
        self.statusBar().showMessage(f"simulating image {image} failed: {message}", 10000)

    # --- scaling ----------------------------------------------------------------------------------------
    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.isVisible():
            self._scale_timer.start()  # rescale once the user stops dragging
        else:
            self.apply_scale()

    def apply_scale(self) -> None:
        """Scale fonts and fixed sizes with the window, so any size shows the same picture."""
        scale = min(self.width() / DESIGN_SIZE[0], self.height() / DESIGN_SIZE[1])
        scale = min(max(scale, 0.5), 2.5)
        if abs(scale - self._scale) < 0.01:
            return
        self._scale = scale
        theme.set_scale(scale)
        self.setStyleSheet(theme.stylesheet())
        restyle(self)
        self.pacer.invalidate(self)

    # --- life cycle ---------------------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.pacer.timer.stop()
        self.player.set_playing(False)
        if self.remember:
            settings = open_settings()
            settings.setValue("geometry", self.saveGeometry())
            settings.setValue("speed", self.player.speed)
            settings.setValue(TECHNICAL_CAPTIONS, self.captions.technical)
            if self.session is not None:
                settings.setValue("image", self.session.image)
            settings.sync()
        self.prefetcher.stop()
        super().closeEvent(event)


def remembered_image(default: int = 0) -> int:
    """The image the last run ended on."""
    return read_int(open_settings(), "image", default)
