"""Demo mode: the booth layout. Full screen, black, big type; the digit, the array lighting up, the
line-pair difference and the ADC codes, the feature maps and class scores, the chip's answer very big
and the energy it took. It plays on its own (cycling test images at a watchable pace, holding each
answer with a green or red highlight), a visitor can draw a digit on the pad for the chip to read, and
a script (core.script) can drive it. Esc leaves.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core import baselines as digital
from convsram.core import classify
from convsram.core.architectures import describe
from convsram.core.digitize import to_mnist
from convsram.core.inference import digital_energy_pj
from convsram.core.script import ScriptError, Step
from convsram.core.script import load as load_script
from convsram.core.session import Frame, Session
from convsram.gui import theme
from convsram.gui.demo import captions
from convsram.gui.demo.pad import DrawingPad
from convsram.gui.demo.script_runner import ScriptRunner
from convsram.gui.pacer import FrameSplit, Pacer, show_views
from convsram.gui.player import Player
from convsram.gui.prefetch import Prefetcher
from convsram.gui.views import colormaps
from convsram.gui.views.array_view import ArrayView
from convsram.gui.views.context import Context, FrameView
from convsram.gui.views.layer_stats import warm
from convsram.gui.views.narration import NarrationView
from convsram.gui.views.outputs import OutputView
from convsram.gui.views.plotting import (
    Panel,
    Segments,
    caption_lines,
    configure_pyqtgraph,
    make_image_plot,
    restyle,
    set_font,
    set_size,
    set_text,
    spacing,
    stretch_box,
    style_axis,
)
from convsram.gui.views.signals import CodesView, DiffView
from convsram.gui.views.where_view import LayerStrip

DESIGN = (1920, 1080)
ZOOM = 1.4  # type and fixed sizes relative to the dashboard at the same window size
SPEED = 300  # steps per second while cycling images: about 7 s per LeNet image (2,136 steps)
HOLD_S = 4.0  # each answer stays up this long
DRAWING_SPEED = 600  # a visitor's digit plays faster (they are waiting for the answer): ~3.6 s
DRAWING_HOLD_S = 9.0
MESSAGE_S = 15.0  # a script error stays on screen this long
ATTRACT_S = 90.0  # paused with nobody touching anything this long: the demo plays again on its own
REJECT_S = 6.0  # a refused drawing's message stays on the pad this long (or until the next touch)

BLACK = "#000000"
PANEL = "#0a0d13"
EDGE = "#3a465c"
WHITE = "#ffffff"


def stylesheet() -> str:
    """High contrast: black ground, white type, bright panel edges; sizes at the current theme scale."""
    px = theme.px
    return f"""
QWidget#demo {{ background: {BLACK}; }}
QWidget {{ color: {WHITE}; }}
QFrame#panel {{ background: {PANEL}; border: {max(1, px(2))}px solid {EDGE}; border-radius: {px(8)}px; }}
QLabel {{ background: transparent; }}
QLabel#title {{ font-size: {px(theme.TITLE_PX + 3)}px; font-weight: bold; color: {WHITE}; }}
QLabel#subtitle {{ font-size: {px(theme.TICK_PX)}px; color: #c3cbd8; }}
QLabel#badge {{ background: #c98a00; color: #000000; font-size: {px(theme.BIG_PX)}px; font-weight: bold;
    padding: {px(8)}px {px(24)}px; border-radius: {px(10)}px; }}
QLabel#caption {{ color: #dfe6f0; }}
QLabel#banner {{ background: #7a1010; color: {WHITE}; font-size: {px(theme.BASE_PX + 2)}px; font-weight: bold;
    padding: {px(6)}px {px(14)}px; border-radius: {px(6)}px; }}
QPushButton {{ background: #1c2433; border: {max(1, px(2))}px solid {EDGE}; border-radius: {px(6)}px;
    padding: {px(4)}px {px(12)}px; color: {WHITE}; font-size: {px(theme.BASE_PX)}px; font-weight: bold; }}
QPushButton:hover {{ border-color: {theme.ACCENT}; }}
QToolTip {{ background: #1f2633; color: {WHITE}; border: 1px solid {theme.ACCENT};
    font-size: {px(theme.TICK_PX)}px; }}
"""


class DigitView(Panel):
    """The digit the chip is reading (a test image or the visitor's drawing after MNIST-style centring),
    with the pixels the current invocation depends on outlined."""

    def __init__(self) -> None:
        super().__init__("The digit", "", subtitle_lines=2)
        self.plot, self.image = make_image_plot()
        self.image.setLookupTable(colormaps.grey_lut())
        self.field = Segments(theme.DAC, width=4)
        self.plot.getPlotItem().addItem(self.field)
        self.add(self.plot, 1)
        self._key: tuple | None = None

    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        key = (frame.image, session.generation)
        if key != self._key:
            self._key = key
            codes = session.run_image(frame.image).codes_in
            self.image.setImage(colormaps.to_index(codes, session.config.max_input), levels=(0, 255),
                                autoLevels=False)
            p = self.plot.getPlotItem()
            p.setRange(xRange=(-0.3, 28.3), yRange=(-0.3, 28.3), padding=0)
            if session.is_drawing(frame.image):
                self.title.setText(f"<span style='color:{theme.PREDICTED}'>Your digit</span>")
                self.set_subtitle("centred and scaled like MNIST: 28×28 pixels, 7-bit codes")
            else:
                self.title.setText(f"Test digit #{frame.image}")
                self.set_subtitle("MNIST test set: 28×28 pixels, 7-bit codes")
        y0, y1, x0, x1 = session.receptive_field(frame)
        y1, x1 = min(y1, 28), min(x1, 28)
        self.field.set_rects(np.array([x0]), np.array([y0]), x1 - x0, y1 - y0)


class Header(QtWidgets.QFrame):
    """What this is, and where the chip is: the layer strip with the running layer lit."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("panel")
        grid = QtWidgets.QGridLayout(self)
        spacing(grid, 4, (16, 4, 16, 6))
        grid.setHorizontalSpacing(theme.px(20))
        self.title = QtWidgets.QLabel("A neural network computing inside memory")
        set_font(self.title, theme.BIG_PX, bold=True)
        self.subtitle = QtWidgets.QLabel()  # names the network (set_session)
        set_font(self.subtitle, theme.BASE_PX)
        self.subtitle.setStyleSheet("color: #c3cbd8;")
        self.subtitle.setWordWrap(True)
        self.strip = LayerStrip()
        set_size(self.strip, min_h=50)
        self.status = QtWidgets.QLabel()
        set_font(self.status, theme.TITLE_PX + 3, bold=True)
        self.status.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.status, 0, 1)
        grid.addWidget(self.subtitle, 1, 0)
        grid.addWidget(self.strip, 1, 1)
        grid.setColumnStretch(0, 50)
        grid.setColumnStretch(1, 50)

    def set_session(self, session: Session) -> None:
        """The layer strip, simplified: the weight layers and the answer (pooling is in the details)."""
        self.subtitle.setText("MIT's Conv-SRAM chip (ISSCC 2018), simulated: a binary-weight "
                              f"{describe(session.model.graph.nodes)} reads handwritten digits inside the "
                              "SRAM array")
        self.strip.set_session(session)
        boxes = []
        for li, spec in enumerate(session.model.layers):
            what = f"{spec.out_channels} classes" if session.is_output(li) else spec.short()
            boxes.append((spec.name, what, li))
        self.strip.boxes = [*boxes, ("answer", "the largest", None)]
        self.strip.update()

    def show_frame(self, frame: Frame, context: Context) -> None:
        p = frame.place
        self.strip.set_position(p.layer, (p.layer_step + 1) / frame.layer_frames, frame.final)
        if p.invocation:
            what, done, total = "array operation", frame.invocations, frame.n_invocations
        else:  # a digital step: the array rests
            what, done, total = "digital step", frame.digital_steps, frame.n_digital_steps
        pct = 100 * (frame.index + 1) / frame.n_frames  # of the whole image, whichever kind of step
        set_text(self.status, f"{what} {done:,} of {total:,} "
                              f"<span style='color:#c3cbd8'>({pct:.0f} % of the image)</span>")


class AnswerView(QtWidgets.QFrame):
    """The chip's answer, very big; green when right, red when wrong, gold for a visitor's digit."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("answer")
        lay = QtWidgets.QHBoxLayout(self)
        spacing(lay, 16, (16, 8, 16, 8))
        self.digit = QtWidgets.QLabel("?")
        set_font(self.digit, 104, bold=True)
        self.digit.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        set_size(self.digit, fixed_w=96)
        lay.addWidget(self.digit, 0)
        col = QtWidgets.QVBoxLayout()
        spacing(col, 4)
        self.caption = QtWidgets.QLabel("The chip says")
        set_font(self.caption, theme.TITLE_PX + 3, bold=True)
        self.verdict = QtWidgets.QLabel()
        set_font(self.verdict, theme.BIG_PX, bold=True)
        self.tally = QtWidgets.QLabel()
        set_font(self.tally, theme.BASE_PX + 1)
        self.tally.setWordWrap(True)
        self.verdict.setWordWrap(True)
        for w in (self.caption, self.verdict, self.tally):
            col.addWidget(w)
        col.addStretch(1)
        self.text_column = col
        lay.addLayout(col, 1)
        self.state = ""  # "", "thinking", "right", "wrong", "drawn", "unsure": what the highlight shows
        self.reading: classify.Reading | None = None  # a drawing's verdict, on its final frame
        self._set_state("thinking")

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        color = {"right": theme.CORRECT, "wrong": theme.WRONG, "drawn": theme.PREDICTED,
                 "unsure": theme.PREDICTED}.get(state, EDGE)
        fill = {"right": "#06301f", "wrong": "#3a0a0a", "drawn": "#33290a", "unsure": PANEL}.get(state, PANEL)
        self.setStyleSheet(f"QFrame#answer {{ background: {fill}; border: {max(2, theme.px(5))}px solid "
                           f"{color}; border-radius: {theme.px(10)}px; }}")

    def show_frame(self, frame: Frame, context: Context) -> None:
        session = context.session
        drawn = session.is_drawing(frame.image)
        self.reading = None
        if frame.final and drawn and frame.scores is not None:
            self.reading = classify.judge(frame.scores, 1.0, session.pixels(frame.image))
        if self.reading is not None and not self.reading.sure:
            state = "unsure"
            set_text(self.digit, f"<span style='color:{theme.PREDICTED}'>?</span>")
            set_text(self.caption, "Not sure")
            set_text(self.verdict, f"<span style='color:{theme.PREDICTED}'>{classify.NOT_SURE}</span>")
        elif frame.final:
            pred = frame.prediction
            if drawn:
                state, color = "drawn", theme.PREDICTED
                verdict = f"<span style='color:{theme.PREDICTED}'>you drew a {pred}</span>"
            elif pred == frame.label:
                state, color = "right", theme.CORRECT
                verdict = f"<span style='color:{theme.CORRECT}'>✓ right</span>"
            else:
                state, color = "wrong", theme.WRONG
                verdict = f"<span style='color:{theme.WRONG}'>✗ wrong, it is a {frame.label}</span>"
            set_text(self.digit, f"<span style='color:{color}'>{pred}</span>")
            set_text(self.caption, "The chip says")
            set_text(self.verdict, verdict)
        else:
            state = "thinking"
            set_text(self.digit, "<span style='color:#5a6578'>?</span>")
            set_text(self.caption, "Reading…")
            set_text(self.verdict, f"<span style='color:{theme.layer_color(frame.place.layer)}'>"
                                   f"layer {frame.layer_name}</span>")
        self._set_state(state)
        stats = session.stats
        n, right = len(stats.images), len(stats.correct)
        parts = [f"{right} of {n} test digits right ({100 * right / n:.1f} %)"] if n else []
        if stats.drawings:
            k = len(stats.drawings)
            parts.append(f"{k} digit{'s' if k > 1 else ''} drawn by visitors")
        tally = " · ".join(parts) or "the first digit…"
        if self.reading is not None and not self.reading.sure:
            tally = (f"best guess {self.reading.digit}, but {self.reading.reason} "
                     f"(score margin {self.reading.margin:.1f}); draw it again, big and clear")
        set_text(self.tally, tally)


class EnergyBar(QtWidgets.QWidget):
    """Where this digit's energy went, as one stacked bar coloured by component."""

    def __init__(self) -> None:
        super().__init__()
        set_size(self, min_h=26)
        self.parts: list[tuple[str, float]] = []

    def set_parts(self, parts: list[tuple[str, float]]) -> None:
        if parts != self.parts:
            self.parts = parts
            self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt API)
        total = sum(v for _, v in self.parts)
        if total <= 0:
            return
        p = QtGui.QPainter(self)
        x, w, h = 0.0, self.width(), self.height()
        for comp, v in self.parts:
            dx = w * v / total
            p.fillRect(QtCore.QRectF(x, 0, dx, h), QtGui.QColor(theme.ENERGY_COLORS[comp]))
            x += dx
        p.end()


class EnergyView(Panel):
    """Why the chip matters: this digit's energy on the chip and on the fairest named digital design
    doing the same inference (core.baselines: input fetch and digital periphery charged to both),
    ``N× less``, big; where the chip's energy went (technical captions)."""

    PARTS = ("dac", "array", "adc", "digital")
    playing_every_s = 0.1  # ten times a second is as fast as anyone reads a number

    def __init__(self) -> None:
        super().__init__("Energy for this digit", "", subtitle_lines=0)
        self.baseline = digital.fairest()
        self.saving = QtWidgets.QLabel()
        set_font(self.saving, theme.BIG_PX + 6, bold=True)
        self.saving.setStyleSheet(f"color: {theme.CORRECT};")
        self.add(self.saving, 0)
        self.what = QtWidgets.QLabel()
        set_font(self.what, theme.BASE_PX)
        self.what.setWordWrap(True)
        self.what.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        caption_lines(self.what, 3, theme.BASE_PX)
        self.add(self.what, 0)
        self.bar = EnergyBar()
        self.add(self.bar, 0)
        self.legend = QtWidgets.QLabel(" ".join(f"<span style='color:{theme.ENERGY_COLORS[c]}'>■</span> "
                                                f"{theme.ENERGY_NAMES[c]}" for c in self.PARTS))
        set_font(self.legend, theme.BASE_PX)
        self.add(self.legend, 0)
        self._key: tuple | None = None
        self._macs = np.zeros(0)
        self._codes = np.zeros(0)
        self._ops_per_pj = 0.0
        self.saving_x = 0.0
        self.chip_pj = self.baseline_pj = 0.0
        self.technical = ("The same inference on both; input fetch (SRAM reads of the input codes) and "
                          "digital steps charged to both. Baseline: 16 MAC lanes, weights held in latches "
                          "(core/baselines.py).")

    def work(self, session: Session, index: int, periphery_pj: float) -> digital.Work:
        """The inference's work up to invocation `index`: MACs, input codes loaded, digital ops (from the
        digital periphery's energy so far)."""
        key = (session.uid, session.generation)
        if key != self._key:
            self._key = key
            # (a digital step repeats its layer's last invocation: it does no MACs and loads no codes)
            self._macs = np.cumsum([(p.rows[1] - p.rows[0]) * len(p.filters) * p.invocation
                                    for p in session.places])
            # input codes the DACs load: a tile's rows, once per position (its chunks share them)
            self._codes = np.cumsum([(p.rows[1] - p.rows[0]) * (p.chunk == 0) * p.invocation
                                     for p in session.places])
            ops = digital.work_of(session.model).digital_ops
            total = float(sum(digital_energy_pj(session.model)))
            self._ops_per_pj = ops / total if total else 0.0
        k = min(index, len(self._macs) - 1)
        return digital.Work(macs=int(self._macs[k]), input_codes=int(self._codes[k]),
                            digital_ops=int(round(periphery_pj * self._ops_per_pj)))

    def show_frame(self, frame: Frame, context: Context) -> None:
        image = sum(frame.energy_image[c] for c in self.PARTS)
        periphery = frame.energy_image["digital"]
        array_pj = sum(frame.energy_image[c] for c in ("dac", "array", "adc"))
        work = self.work(context.session, frame.index, periphery)
        self.chip_pj = digital.chip_energy_pj(array_pj, periphery, work)
        self.baseline_pj = self.baseline.energy_pj(work, periphery)
        self.saving_x = digital.saving(self.baseline, array_pj, periphery, work)
        verdict = f"{self.saving_x:.1f}× less" if self.saving_x >= 1 else f"{1 / self.saving_x:.1f}× more"
        set_text(self.saving, f"{verdict} energy")
        name = self.baseline.name
        set_text(self.what, f"than {digital.article(name)} {name} (a conventional digital chip) doing the "
                            f"same {work.macs:,} multiply-adds: <b style='color:{theme.DAC}'>"
                            f"{theme.fmt_energy(self.chip_pj)}</b> here, "
                            f"<b>{theme.fmt_energy(self.baseline_pj)}</b> there")
        self.setToolTip(f"This digit so far: {theme.fmt_energy(image)} in the chip's DACs, array, ADCs and "
                        f"digital steps; with the input codes read from SRAM (charged to both sides) "
                        f"{theme.fmt_energy(self.chip_pj)}.")
        self.bar.set_parts([(c, frame.energy_image[c]) for c in self.PARTS])


class PauseBadge(QtWidgets.QLabel):
    """Big and unmissable while the demo is paused (Space)."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__("❚❚  PAUSED — press Space to play", parent)
        self.setObjectName("badge")
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.hide()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        self.adjustSize()
        self.move((parent.width() - self.width()) // 2, (parent.height() - self.height()) // 2)
        self.raise_()


class DemoWindow(QtWidgets.QWidget):
    """The booth. `left` is emitted when the visitor (or presenter) presses Esc."""

    left = QtCore.Signal()
    rendered = QtCore.Signal()

    def __init__(self, session: Session, prefetcher: Prefetcher | None = None,
                 script: Path | str | list[Step] | None = None, pacer: Pacer | None = None) -> None:
        super().__init__()
        configure_pyqtgraph()
        self.setObjectName("demo")
        self.setWindowTitle("convsram — demo")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.session = session
        self._scale = 0.0
        self._set_scale(1280, 720)
        self._own_prefetcher = prefetcher is None
        self.prefetcher = prefetcher or Prefetcher(session, self, warm=warm)
        self.player = Player(self.prefetcher, self)
        self.player.set_session(session)
        self.player.set_speed(SPEED)
        self.player.hold_s = HOLD_S
        self.messages: list[str] = []  # every message shown on the banner (tests read them)
        self._build()
        self._throttled: dict[int, float] = {}
        self._drawing: int | None = None  # the visitor's digit being shown
        self._message_until = 0.0
        self._has_left = False
        self.technical = False  # captions: plain (for visitors) or technical (T toggles)
        self._input = True  # someone touched a key or the pad since the last display tick
        self._last_input = 0.0  # display clock of the last touch (the attract loop's reference)
        self._reject_at: float | None = None  # display clock when a refused drawing's message went up
        self.help_dialog: QtWidgets.QDialog | None = None
        self.runner: ScriptRunner | None = None
        if script is not None:
            self.load_script(script)
        # the display loop: the main window's (its player steps aside while the demo is open), or its own
        self._own_pacer = pacer is None
        self.pacer = pacer or Pacer(self.player, self)
        self._outer_player = self.pacer.player
        self.pacer.player = self.player
        if self._own_pacer:
            self.pacer.set_session(session)
        self.pacer.subscribe(self)
        self.pacer.add_hook(self._before_tick)
        self.player.playingChanged.connect(self._on_playing)
        self.pacer.timer.start()
        self.refresh()

    # --- construction ---------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QtWidgets.QVBoxLayout(self)
        spacing(outer, 8, (10, 8, 10, 10))
        self.header = Header()
        self.header.set_session(self.session)
        self.header.strip.layerClicked.connect(self._go_to_layer)
        outer.addWidget(self.header, 0)
        self.narration = NarrationView(theme.BASE_PX + 2, lines=2)
        outer.addWidget(self.narration, 0)
        self.banner = QtWidgets.QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner, 0)

        ignored = QtWidgets.QSizePolicy.Policy.Ignored
        self.digit_view = DigitView()
        self.pad_panel = Panel("Draw a digit!", "", subtitle_lines=0)
        self.pad = DrawingPad()
        self.pad.drawn.connect(self.classify)
        self.pad.started.connect(self._touched)
        self.pad_panel.add(self.pad, 1)
        self.clear_button = QtWidgets.QPushButton("clear")
        self.clear_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.clear_button.clicked.connect(self.pad.clear)
        self.pad_panel.add(self.clear_button, 0)

        self.array_view = ArrayView()
        self.array_view.legend.hide()
        self.array_view.note.hide()
        self.array_view.title.setText("SRAM array, rows driven by the DACs")
        self.array_view.set_session(self.session)
        self.diff_view, self.codes_view = DiffView(), CodesView()
        # it shows only the difference of the two lines, not the lines themselves
        self.diff_view.title.setText("Difference V<sub>N</sub> − V<sub>P</sub>")
        for legend in (self.diff_view.subtitle, self.codes_view.subtitle):  # room for the whole legend
            caption_lines(legend, 3)  # (the difference's ends in its unit, "mV")
        self.codes_view.title.setText("ADC output codes")
        self.output_view = OutputView()
        for panel in (self.output_view, self.codes_view, self.diff_view):
            panel.note.hide()  # the title says it (the narration that the array rests); no room here
        self.output_view.subtitle.hide()
        self.output_view.waiting.hide()  # (its hint is wider than the plot at this size)
        for view in (self.diff_view, self.codes_view):
            style_axis(view.plot.getPlotItem().getAxis("bottom"), "ADC group (column)")
        self.answer = AnswerView()
        self.energy_view = EnergyView()
        for w in (self.digit_view, self.pad_panel, self.array_view, self.diff_view, self.codes_view,
                  self.output_view):
            w.setSizePolicy(ignored, ignored)
        for text_panel in (self.answer, self.energy_view):
            text_panel.setSizePolicy(ignored, QtWidgets.QSizePolicy.Policy.Minimum)
        # under every panel a caption: plain words for a visitor, technical ones a key (T) away
        self.panels: dict[str, QtWidgets.QFrame] = {
            "digit": self.digit_view, "pad": self.pad_panel, "array": self.array_view, "diff": self.diff_view,
            "codes": self.codes_view, "output": self.output_view, "answer": self.answer,
            "energy": self.energy_view}
        self.captions: dict[str, QtWidgets.QLabel] = {}
        for key, frame in self.panels.items():
            label = QtWidgets.QLabel()
            label.setObjectName("caption")
            label.setWordWrap(True)
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
            label.setSizePolicy(ignored, QtWidgets.QSizePolicy.Policy.Fixed)
            set_font(label, theme.BASE_PX)
            caption_lines(label, 2, theme.BASE_PX)
            if isinstance(frame, Panel):
                frame.add(label, 0)
            else:  # the answer: under its text
                self.answer.text_column.addWidget(label)
            self.captions[key] = label
        self.energy_view.saving.setToolTip(self.energy_view.technical)
        self.set_technical(False)


        def box(horizontal: bool, *items: tuple[QtWidgets.QWidget, int]) -> QtWidgets.QWidget:
            return stretch_box(horizontal, 8, *items)

        h, v = True, False
        left = box(v, (self.digit_view, 1), (self.pad_panel, 1))
        centre = box(v, (self.array_view, 52), (box(h, (self.diff_view, 1), (self.codes_view, 1)), 48))
        right = box(v, (self.output_view, 1), (self.answer, 0), (self.energy_view, 0))
        outer.addWidget(box(h, (left, 22), (centre, 46), (right, 32)), 1)
        # every view of the demo, in render order: a new view is built above and listed here
        self.views: list[FrameView] = [self.header, self.digit_view, self.array_view, self.diff_view,
                                       self.codes_view, self.output_view, self.answer, self.energy_view]
        self.setStyleSheet(stylesheet())
        for plot in self.findChildren(QtWidgets.QGraphicsView):
            if hasattr(plot, "setBackground"):
                plot.setBackground(BLACK)
        self.views.insert(1, self.narration)
        self.split = FrameSplit([[self.diff_view, self.codes_view]])  # drawn a tick later at a new stage
        self.badge = PauseBadge(self)

    def set_technical(self, on: bool) -> None:
        """Captions for engineers (the views' own legends and the technical lines) or for visitors."""
        self.technical = on
        size, lines = (theme.TICK_PX, 3) if on else (theme.BASE_PX, 2)
        for key, label in self.captions.items():
            text = (captions.TECHNICAL if on else captions.PLAIN).get(key, "")
            label.setText(text)
            label.setVisible(bool(text))
            set_font(label, size)
            caption_lines(label, lines, size)
            frame = self.panels[key]
            if isinstance(frame, Panel) and key in ("digit", "diff", "codes"):
                frame.subtitle.setVisible(on)  # their legends: technical
        for w in (self.energy_view.bar, self.energy_view.legend):  # where the energy went: technical
            w.setVisible(on)

    # --- scale --------------------------------------------------------------------------------------------
    def _set_scale(self, w: int, h: int) -> bool:
        scale = min(max(min(w / DESIGN[0], h / DESIGN[1]) * ZOOM, 0.5), 3.0)
        if abs(scale - self._scale) < 0.01:
            return False
        self._scale = scale
        theme.set_scale(scale)
        return True

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.apply_scale()
        if hasattr(self, "badge"):
            self.badge.place()

    def apply_scale(self) -> None:
        """Fonts and fixed sizes follow the window (the same picture at 1280x720 as at 1920x1080)."""
        if self._set_scale(self.width(), self.height()) or theme.SCALE != self._scale:
            theme.set_scale(self._scale)
            self.setStyleSheet(stylesheet())
            restyle(self)
            self.answer._set_state(self.answer.state + "!")  # re-apply the highlight at the new scale
            self.answer._set_state(self.answer.state.rstrip("!"))
            self.pacer.invalidate(self)
            self.refresh()

    # --- scripts and messages ----------------------------------------------------------------------------
    def load_script(self, script: Path | str | list[Step]) -> bool:
        """Replay a demo script; a script that does not parse is reported on the banner (with its line)
        and the demo plays on its own."""
        try:
            steps = script if isinstance(script, list) else load_script(script)
        except ScriptError as exc:
            self.show_message(str(exc))
            self.runner = None
            return False
        source = "script" if isinstance(script, list) else str(script)
        if self.runner is not None:
            self.runner.close()
        self.runner = ScriptRunner(steps, self.session, self.player, source, self.show_message,
                                   background=True)
        return True

    def show_message(self, text: str) -> None:
        self.messages.append(text)
        self.banner.setText(f"⚠ {text}")
        self.banner.show()
        self._message_until = time.perf_counter() + MESSAGE_S

    # --- playing --------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Play on its own (unless a script says otherwise: its first steps run now)."""
        if self.runner is None:
            self.player.set_playing(True)
        self.pacer.tick(time.perf_counter())

    @property
    def frame(self) -> Frame:
        """The session's current frame (the session is the one holder of "now")."""
        return self.session.current_frame()

    @property
    def timer(self) -> QtCore.QTimer:
        return self.pacer.timer

    @QtCore.Slot(bool)
    def _on_playing(self, playing: bool) -> None:
        if playing:
            self.badge.hide()
        else:
            self.split.flush(self._show)  # the frame's waiting parts now: paused shows it whole
            self.pacer.invalidate(self)  # paused: the throttled energy counter shows this very frame

    def _before_tick(self, now: float) -> None:
        """Each display tick, before the player moves: the script's steps due, the drawing's end, the
        banner's timeout."""
        s = self.session
        generation, image = s.generation, s.image
        if self._input:
            self._input, self._last_input = False, now
        # the attract loop: a paused demo nobody touches plays again; a refused drawing's message goes
        if (not self.player.playing and self.runner is None and self._drawing is None
                and now - self._last_input > ATTRACT_S):
            self.player.set_playing(True)
        if self.pad.message and self._reject_at is None:
            self._reject_at = now
        if self._reject_at is not None and (not self.pad.message or now - self._reject_at > REJECT_S):
            self._reject_at = None
            if self.pad.message:
                self.pad.clear()
        if self.runner is not None and self.runner.advance(now):
            if s.generation != generation:
                self.array_view.set_session(s)
            if s.image != image:
                self.player.set_session(s)
        if self._drawing is not None and s.image != self._drawing:
            self._drawing = None  # the visitor's answer has been shown: back to cycling
            self.player.set_speed(SPEED)
            self.player.hold_s = HOLD_S
            self.pad.clear()
        if self.banner.isVisible() and now > self._message_until:
            self.banner.hide()

    def refresh(self) -> None:
        """Render the session's current frame now (no-op if it is already on screen)."""
        self.pacer.render(self)

    def render_frame(self, f: Frame, context: Context) -> None:
        """Show `f` in every view (the pacer calls this once per new frame)."""
        s = context.session
        self._show(self.split.now(self.views, f, context), f, context)
        if f.index == 0:
            n = len(s.data)
            nxt = s.resume_image if s.is_drawing(f.image) else f.image
            self.prefetcher.request([(nxt + 1) % n, (nxt + 2) % n])
        self.rendered.emit()

    def render_rest(self) -> bool:
        """The views a stage change left for this tick (see FrameSplit)."""
        return self.split.rest(self._show)

    def _show(self, views: list[FrameView], f: Frame, context: Context) -> None:
        show_views(views, f, context, self._throttled)

    @QtCore.Slot(object)
    def classify(self, drawing: np.ndarray) -> int | None:
        """Run the visitor's drawing through the chip: MNIST-style centring and scaling, then the same
        simulation and views as a test digit. Returns the drawing's image index."""
        if classify.too_little_ink(drawing):  # a tap or a dot: no digit to read
            if classify.ink_extent(drawing) > 0:
                self.pad.reject(f"{classify.NOT_SURE}:\ndraw the digit bigger")
            else:
                self.pad.clear()
            return None
        try:
            pixels = to_mnist(drawing)
        except ValueError:
            self.pad.clear()
            return None
        s = self.session
        index = s.add_drawing(pixels)
        s.run("goto", index)
        self._drawing = index
        self.player.set_session(s)
        self.player.set_speed(DRAWING_SPEED)
        self.player.hold_s = DRAWING_HOLD_S
        self.player.set_playing(True)
        self.refresh()
        return index

    def _next_image(self) -> None:
        self.session.run("next_image")
        self.player.set_session(self.session)

    @QtCore.Slot(int)
    def _go_to_layer(self, layer: int) -> None:
        self.session.run("frame", self.session.current.layer_start[layer])

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt API)
        """Esc leaves, Space pauses, Right skips to the next image (keys reach the window whatever has
        focus inside it; window shortcuts would need it to be the active window)."""
        key = event.key()
        self._touched()
        if key == QtCore.Qt.Key.Key_Escape:
            self.leave()
        elif key == QtCore.Qt.Key.Key_Space:
            self.player.toggle()
            if not self.player.playing:  # paused by hand (not by a script): say so, big
                self.badge.place()
                self.badge.show()
        elif key == QtCore.Qt.Key.Key_Right:
            self._next_image()
        elif key == getattr(QtCore.Qt.Key, f"Key_{captions.TECHNICAL_KEY}"):
            self.set_technical(not self.technical)
        elif key == QtCore.Qt.Key.Key_F1:
            self.show_help()
        else:
            super().keyPressEvent(event)

    @QtCore.Slot()
    def _touched(self) -> None:
        """Someone is at the booth (a key, the pad): the attract loop waits."""
        self._input = True

    def show_help(self) -> None:
        """F1: how the chip works, worked on the frame on screen, the glossary and the demo's keys."""
        from convsram.gui.help import HelpDialog

        keys = [("Space", "pause / play (it plays again by itself after a while untouched)"),
                ("Right", "next digit"), (captions.TECHNICAL_KEY, "technical captions on / off"),
                ("F1", "this page"), ("Esc", "leave the demo")]
        if self.help_dialog is not None:
            self.help_dialog.close()
        self.help_dialog = HelpDialog(self.session, keys, self)
        self.help_dialog.show()

    # --- leaving ---------------------------------------------------------------------------------------
    def leave(self) -> None:
        """Esc: stop playing and close; whoever opened the demo gets `left`."""
        self.player.set_playing(False)
        self.close()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.player.set_playing(False)
        if self.runner is not None:
            self.runner.close()
        self.pacer.unsubscribe(self)
        self.pacer.remove_hook(self._before_tick)
        if self.pacer.player is self.player:
            self.pacer.player = self._outer_player  # the main window's player drives again
        if self._own_pacer:
            self.pacer.timer.stop()
        if self._own_prefetcher:
            self.prefetcher.stop()
        super().closeEvent(event)
        if not self._has_left:  # once: a second close (a test's teardown, say) must not re-open the app
            self._has_left = True
            self.left.emit()
