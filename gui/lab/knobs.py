"""The knobs: every non-ideality of ChipConfig as a labelled slider (in a readable unit), kT/C noise on
or off, the chip seed, another chip, presets, and load / save of a chip configuration file.

The panel only edits values; it emits ``configEdited(ChipConfig)`` (already throttled to at most one per
``THROTTLE_MS`` while a slider moves, the last value always delivered), ``seedEdited(int)``, and the
button signals. Each knob's tooltip is the field's docstring (``core.config.field_doc``) plus what the
slider shows. Section colours follow the dashboard: DAC amber, array (lines) blue, ADC green.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtWidgets
from superqt import QLabeledDoubleSlider
from superqt.utils import qthrottled, signals_blocked

from convsram.core.config import ChipConfig, field_doc, field_info
from convsram.gui import theme
from convsram.gui.views.plotting import set_font, set_size, spacing

THROTTLE_MS = 100  # at most one re-simulation per this while a slider moves (adapted upwards)


@dataclass(frozen=True)
class Knob:
    name: str  # ChipConfig field
    label: str
    unit: str  # display unit
    scale: float  # field value x scale = displayed value
    top: float  # slider maximum (display unit); widened if a loaded value is larger
    decimals: int
    kind: str  # "static" (drawn once per chip) or "noise" (drawn every operation)


SECTIONS: tuple[tuple[str, str, tuple[Knob, ...]], ...] = (
    ("DAC · one per row", theme.DAC, (
        Knob("dac_gain_sigma", "gain error σ", "%", 100.0, 10.0, 2, "static"),
        Knob("dac_offset_sigma", "offset σ", "mV", 1e3, 10.0, 2, "static"),
        Knob("dac_inl", "INL bow (peak)", "LSB", 1.0, 5.0, 2, "static"),
    )),
    ("Array · line pair per column", theme.LINE_P, (
        Knob("cap_mismatch_sigma", "capacitor mismatch σ", "%", 100.0, 20.0, 2, "static"),
        Knob("charge_injection_sigma", "charge injection σ", "mV", 1e3, 2.0, 3, "static"),
    )),
    ("ADC · one per 16 columns", theme.CODE_OK, (
        Knob("adc_offset_sigma", "offset σ", "LSB", 1.0, 3.0, 2, "static"),
        Knob("adc_gain_sigma", "gain error σ", "%", 100.0, 10.0, 2, "static"),
        Knob("comparator_noise_sigma", "comparator noise σ", "mV", 1e3, 1.0, 3, "noise"),
    )),
)
KNOBS: dict[str, Knob] = {k.name: k for _, _, knobs in SECTIONS for k in knobs}
KTC = "ktc_noise"
SEED_MAX = 2**31 - 1


def to_field(knob: Knob, shown: float) -> float:
    """Displayed value -> field value, rounded so 1 % reads back as exactly 0.01."""
    return float(f"{shown / knob.scale:.10g}")


def tooltip(knob: Knob) -> str:
    info = field_info(knob.name)
    what = "drawn once per chip from its seed" if knob.kind == "static" else "drawn on every conversion"
    nominal, harsh = getattr(ChipConfig(), knob.name), getattr(ChipConfig.harsh(), knob.name)
    return (f"{knob.name}: {field_doc(knob.name)}\n\nShown in {knob.unit} (the field is in {info['unit']}); "
            f"{what}. Nominal {nominal * knob.scale:g} {knob.unit}, harsh {harsh * knob.scale:g} "
            f"{knob.unit}.")


class KnobPanel(QtWidgets.QWidget):
    """Sliders for the non-idealities, kT/C, seed, presets, new chip, load / save."""

    configEdited = QtCore.Signal(object)  # ChipConfig (throttled)
    seedEdited = QtCore.Signal(int)
    newChip = QtCore.Signal()
    presetChosen = QtCore.Signal(str)  # "ideal", "nominal", "harsh"
    idealToggled = QtCore.Signal(bool)
    loadRequested = QtCore.Signal()
    saveRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("knobpanel")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.config = ChipConfig()
        self.sliders: dict[str, QLabeledDoubleSlider] = {}
        lay = QtWidgets.QVBoxLayout(self)
        spacing(lay, 6, (10, 8, 10, 8))

        # --- chip instance --------------------------------------------------------------------
        lay.addWidget(self._section("Chip instance", theme.TEXT))
        row = QtWidgets.QHBoxLayout()
        spacing(row, 6)
        seed_label = QtWidgets.QLabel("seed")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, SEED_MAX)
        self.seed.setKeyboardTracking(False)
        seed_tip = ("The chip instance: every static mismatch (per-row DAC errors, every capacitor, charge "
                    "injection, ADC offsets and gains) is drawn once from this seed. The same seed always "
                    "gives the same chip; the knobs scale its draws.")
        for w in (seed_label, self.seed):
            w.setToolTip(seed_tip)
        self.seed.valueChanged.connect(self.seedEdited.emit)
        self.new_chip = QtWidgets.QPushButton("New chip ⟳")
        self.new_chip.setToolTip("Another chip: the next seed, same knob settings (Ctrl+N)")
        self.new_chip.clicked.connect(self.newChip.emit)
        row.addWidget(seed_label)
        row.addWidget(self.seed, 1)
        row.addWidget(self.new_chip)
        lay.addLayout(row)

        presets = QtWidgets.QHBoxLayout()
        spacing(presets, 6)
        self.preset_buttons: dict[str, QtWidgets.QPushButton] = {}
        tips = {"ideal": "Every non-ideality off: the chip reproduces integer arithmetic exactly",
                "nominal": "The documented default of every knob ([assumed] plausible 65 nm values)",
                "harsh": "A pessimistic corner: every non-ideality at 4x nominal"}
        for name in ("ideal", "nominal", "harsh"):
            b = QtWidgets.QPushButton(name.capitalize())
            b.setToolTip(tips[name])
            b.clicked.connect(lambda _=False, n=name: self.presetChosen.emit(n))
            presets.addWidget(b)
            self.preset_buttons[name] = b
        lay.addLayout(presets)
        self.ideal_toggle = QtWidgets.QPushButton("Ideal chip ⇄ this chip")
        self.ideal_toggle.setCheckable(True)
        self.ideal_toggle.setToolTip("Flip the whole app between this chip and the ideal chip (every "
                                     "non-ideality off, the same operating point) on the same frame; the "
                                     "knob settings come back when you flip again. Ctrl+I does the same; "
                                     "the Ideal preset is the ideal chip at the default operating point.")
        self.ideal_toggle.toggled.connect(self.idealToggled.emit)
        lay.addWidget(self.ideal_toggle)
        self.preset_label = QtWidgets.QLabel("")
        self.preset_label.setObjectName("hint")
        lay.addWidget(self.preset_label)

        # --- knobs ----------------------------------------------------------------------------
        for title, color, knobs in SECTIONS:
            lay.addWidget(self._section(title, color))
            grid = QtWidgets.QGridLayout()
            spacing(grid, 4)
            grid.setColumnStretch(1, 1)
            for r, knob in enumerate(knobs):
                label = QtWidgets.QLabel(f"{knob.label} ({knob.unit})")
                label.setToolTip(tooltip(knob))
                s = QLabeledDoubleSlider(QtCore.Qt.Orientation.Horizontal)
                s.setDecimals(knob.decimals)
                s.setRange(0.0, knob.top)
                s.setSingleStep(knob.top / 200)
                s.setToolTip(tooltip(knob))
                s.valueChanged.connect(lambda _v, n=knob.name: self._edited(n))
                tag = QtWidgets.QLabel("static" if knob.kind == "static" else "noise")
                tag.setObjectName("hint")
                tag.setToolTip("static: drawn once per chip and kept · noise: drawn on every conversion")
                grid.addWidget(label, 2 * r, 0, 1, 1)
                grid.addWidget(tag, 2 * r, 1, 1, 1, QtCore.Qt.AlignmentFlag.AlignRight)
                grid.addWidget(s, 2 * r + 1, 0, 1, 2)
                self.sliders[knob.name] = s
            if title.startswith("Array"):
                self.ktc = QtWidgets.QCheckBox("kT/C noise on both lines (noise)")
                self.ktc.setToolTip(f"{KTC}: {field_doc(KTC)}")
                self.ktc.toggled.connect(lambda _v: self._edited(KTC))
                grid.addWidget(self.ktc, 2 * len(knobs), 0, 1, 2)
            lay.addLayout(grid)

        # --- files ------------------------------------------------------------------------------
        lay.addWidget(self._section("Chip configuration file", theme.TEXT))
        files = QtWidgets.QHBoxLayout()
        spacing(files, 6)
        self.load_button = QtWidgets.QPushButton("Load TOML…")
        self.load_button.setToolTip("Read a chip configuration (.toml, as written by `convsram config`)")
        self.save_button = QtWidgets.QPushButton("Save TOML…")
        self.save_button.setToolTip("Write this chip's configuration (every ChipConfig field) as TOML; the "
                                    "seed is not part of it")
        self.load_button.clicked.connect(self.loadRequested.emit)
        self.save_button.clicked.connect(self.saveRequested.emit)
        files.addWidget(self.load_button)
        files.addWidget(self.save_button)
        lay.addLayout(files)
        lay.addStretch(1)
        for w in self.findChildren(QtWidgets.QLabel):
            if w.objectName() not in ("hint", "section"):
                set_font(w, theme.BASE_PX)
        set_size(self, min_w=330)
        self._emit = qthrottled(self._emit_config, timeout=THROTTLE_MS, leading=True)

    def _section(self, text: str, color: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(f"<span style='color:{color}'>■</span> {text}")
        label.setObjectName("section")
        return label

    # --- values --------------------------------------------------------------------------------
    def set_chip(self, config: ChipConfig, seed: int, preset: str, sliders: bool = True) -> None:
        """Show a chip's settings (no signals). sliders=False leaves the sliders alone (the change came
        from them, and a slider being dragged must not be moved back under the mouse)."""
        self.config = config
        self.preset_label.setText(f"this chip: seed {seed}, {preset} settings")
        with signals_blocked(self.ideal_toggle):
            self.ideal_toggle.setChecked(config.is_ideal())
        with signals_blocked(self.seed):
            self.seed.setValue(int(seed))
        if not sliders:
            return
        for name, s in self.sliders.items():
            knob = KNOBS[name]
            shown = getattr(config, name) * knob.scale
            if shown > s.maximum():
                s.setRange(0.0, shown)
            with signals_blocked(s):
                s.setValue(shown)
        with signals_blocked(self.ktc):
            self.ktc.setChecked(bool(config.ktc_noise))

    def edited_config(self) -> ChipConfig:
        """The config the knobs show now (non-knob fields from the last chip shown)."""
        values: dict[str, object] = {name: to_field(KNOBS[name], s.value())
                                     for name, s in self.sliders.items()}
        values[KTC] = self.ktc.isChecked()
        return self.config.with_(**values)

    def _edited(self, name: str) -> None:
        self._emit()

    def set_throttle(self, ms: int) -> None:
        """At most one re-simulation per `ms` while a slider moves (the lab adapts it to the cost)."""
        if self._emit.timeout() != ms:
            self._emit.setTimeout(ms)

    def _emit_config(self) -> None:
        self.configEdited.emit(self.edited_config())

    def set_value(self, name: str, value: float) -> None:
        """Move one knob as a user would (signals and throttling included); value in the field's unit."""
        if name == KTC:
            self.ktc.setChecked(bool(value))
            return
        self.sliders[name].setValue(value * KNOBS[name].scale)
