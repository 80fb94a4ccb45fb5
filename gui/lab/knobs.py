"""The knobs: every non-ideality of ChipConfig as a labelled slider (in a readable unit), kT/C noise on
or off, the chip seed, another chip, presets, and load / save of a chip configuration file.

The panel only edits values; it emits ``configEdited(ChipConfig)`` (already throttled to at most one per
``THROTTLE_MS`` while a slider moves, the last value always delivered), ``seedEdited(int)``, and the
button signals. Every section, label, unit, slider range and tooltip comes from the ChipConfig field
metadata (``core.config.knob_fields``): a field with a slider is a knob, its group is its section.
Section colours follow the dashboard: DAC amber, array (lines) blue, ADC green.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtWidgets
from superqt import QLabeledDoubleSlider
from superqt.utils import qthrottled, signals_blocked

from convsram.core.config import GROUPS, ChipConfig, KnobSpec, knob_fields
from convsram.core.presets import DESCRIPTIONS, NAMES, PRESETS
from convsram.gui import theme
from convsram.gui.views.plotting import set_font, set_size, spacing

THROTTLE_MS = 50  # at most one configEdited per this while a slider moves (the lab then takes one at a time)


GROUP_COLORS = {"array": theme.TEXT, "dac": theme.DAC, "lines": theme.LINE_P, "adc": theme.CODE_OK}
KNOBS: dict[str, KnobSpec] = {k.name: k for k in knob_fields() if k.slider is not None}  # the sliders
KTC = "ktc_noise"
SEED_MAX = 2**31 - 1
KIND_TEXT = {"static": "drawn once per chip from its seed", "noise": "drawn on every conversion",
             "design": "fixed at design time"}


def sections(specs: Sequence[KnobSpec]) -> list[tuple[str, str, list[KnobSpec]]]:
    """(title, colour, knobs) per group that has knobs: the sliders and the on/off non-idealities."""
    out = []
    for group, title in GROUPS.items():
        knobs = [k for k in specs if k.group == group and (k.slider is not None or
                                                           (k.is_bool and k.kind != "design"))]
        if knobs:
            out.append((title, GROUP_COLORS.get(group, theme.TEXT), knobs))
    return out


def tooltip(knob: KnobSpec) -> str:
    """The field's docstring and unit, what the slider shows, and the preset values."""
    values = {name: knob.format(getattr(PRESETS[name](), knob.name)) for name in NAMES if name != "ideal"}
    what = KIND_TEXT[knob.kind]
    if not knob.is_bool:
        field_unit = f" (the field is in {knob.unit})" if knob.unit != knob.shown_unit else ""
        what = f"shown in {knob.shown_unit}{field_unit}; {what}"
    return (f"{knob.name}: {knob.doc} [{knob.unit}]\n\n{what[0].upper()}{what[1:]}. "
            + "Presets: " + ", ".join(f"{name} {v}" for name, v in values.items()) + ".")


class KnobPanel(QtWidgets.QWidget):
    """Sliders for the non-idealities, kT/C, seed, presets, new chip, load / save."""

    configEdited = QtCore.Signal(object)  # ChipConfig (throttled)
    seedEdited = QtCore.Signal(int)
    newChip = QtCore.Signal()
    presetChosen = QtCore.Signal(str)  # a name of core.presets.NAMES
    idealToggled = QtCore.Signal(bool)
    loadRequested = QtCore.Signal()
    saveRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None,
                 specs: Sequence[KnobSpec] | None = None) -> None:
        """specs: the knobs to show (default: every ChipConfig field's, from its metadata)."""
        super().__init__(parent)
        self.setObjectName("knobpanel")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.config = ChipConfig()
        self.specs: dict[str, KnobSpec] = {}  # the knobs shown, by field name
        self.sliders: dict[str, QLabeledDoubleSlider] = {}
        self.labels: dict[str, QtWidgets.QLabel] = {}
        self.switches: dict[str, QtWidgets.QCheckBox] = {}  # on/off non-idealities
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

        presets = QtWidgets.QGridLayout()  # two per row: four names do not fit the dock in one
        spacing(presets, 6)
        self.preset_buttons: dict[str, QtWidgets.QPushButton] = {}
        for i, name in enumerate(NAMES):
            b = QtWidgets.QPushButton(name.capitalize())
            b.setToolTip(DESCRIPTIONS[name])
            b.clicked.connect(lambda _=False, n=name: self.presetChosen.emit(n))
            presets.addWidget(b, i // 2, i % 2)
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
        for title, color, knobs in sections(specs if specs is not None else knob_fields()):
            lay.addWidget(self._section(title, color))
            grid = QtWidgets.QGridLayout()
            spacing(grid, 4)
            grid.setColumnStretch(1, 1)
            r = 0
            for knob in knobs:
                self.specs[knob.name] = knob
                tip = tooltip(knob)
                if knob.slider is None:  # an on/off non-ideality
                    box = QtWidgets.QCheckBox(f"{knob.label} ({knob.kind})")
                    box.setToolTip(tip)
                    box.toggled.connect(lambda _v, n=knob.name: self._edited(n))
                    grid.addWidget(box, r, 0, 1, 2)
                    self.switches[knob.name] = box
                    r += 1
                    continue
                label = QtWidgets.QLabel(knob.title)
                label.setToolTip(tip)
                s = QLabeledDoubleSlider(QtCore.Qt.Orientation.Horizontal)
                s.setDecimals(knob.slider.decimals)
                s.setRange(0.0, knob.slider.top)
                s.setSingleStep(knob.slider.step)  # type: ignore[arg-type]  # superqt types it int; float works
                s.setToolTip(tip)
                s.valueChanged.connect(lambda _v, n=knob.name: self._edited(n))
                tag = QtWidgets.QLabel(knob.kind)
                tag.setObjectName("hint")
                tag.setToolTip("static: drawn once per chip and kept · noise: drawn on every conversion")
                grid.addWidget(label, r, 0, 1, 1)
                grid.addWidget(tag, r, 1, 1, 1, QtCore.Qt.AlignmentFlag.AlignRight)
                grid.addWidget(s, r + 1, 0, 1, 2)
                self.sliders[knob.name] = s
                self.labels[knob.name] = label
                r += 2
            lay.addLayout(grid)
        self.ktc: QtWidgets.QCheckBox | None = self.switches.get(KTC)  # the kT/C switch

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
            shown = self.specs[name].shown(getattr(config, name))
            if shown > s.maximum():
                s.setRange(0.0, shown)
            with signals_blocked(s):
                s.setValue(shown)
        for name, box in self.switches.items():
            with signals_blocked(box):
                box.setChecked(bool(getattr(config, name)))

    def edited_config(self) -> ChipConfig:
        """The config the knobs show now (non-knob fields from the last chip shown)."""
        values: dict[str, object] = {name: self.specs[name].to_field(s.value())
                                     for name, s in self.sliders.items()}
        values.update({name: box.isChecked() for name, box in self.switches.items()})
        return self.config.with_(**values)

    def _edited(self, name: str) -> None:
        self._emit()

    def _emit_config(self) -> None:
        self.configEdited.emit(self.edited_config())

    def set_value(self, name: str, value: float) -> None:
        """Move one knob as a user would (signals and throttling included); value in the field's unit."""
        if name in self.switches:
            self.switches[name].setChecked(bool(value))
            return
        self.sliders[name].setValue(self.specs[name].shown(value))
