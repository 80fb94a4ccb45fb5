"""ChipConfig: the geometry, operating point and non-idealities of one Conv-SRAM macro.

Every field's ``field.metadata`` is the one description of that knob: its unit and allowed range,
its display unit and scale, its slider in the chip lab, its group (section of the knob panel), whether
it is a design setting, a static draw per chip (with its mismatch maps) or per-invocation noise, and
its docstring, which doubles as its tooltip. :func:`knob_fields` reads it as :class:`KnobSpec`
records; the knob panel, the mismatch maps and the views' tooltips are built from those.
Source tags in the docstrings: [paper] published for the chip (Biswas and Chandrakasan, ISSCC 2018 /
JSSC 2019), [derived] arithmetic on published numbers, [physics] a physical law, [assumed] our
modelling choice.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

BOLTZMANN = 1.380649e-23  # J/K, exact SI value (2019 redefinition)


GROUPS: dict[str, str] = {
    # group -> section title, in signal-chain order (the knob panel's sections, the views' tooltips)
    "array": "Array · geometry and supply",
    "dac": "DAC · one per row",
    "lines": "Array · line pair per column",
    "adc": "ADC · one per 16 columns",
}
KINDS = ("design", "static", "noise")  # set at design time / drawn once per chip / drawn every invocation
PER = ("cell", "row", "column", "ADC group")  # what one static draw belongs to


def _knob(default: Any, unit: str, lo: float, hi: float, doc: str, *, label: str, group: str,
          kind: str = "design", shown: tuple[str, float] | None = None,
          slider: tuple[float, int] | None = None, per: str | None = None,
          maps: tuple[tuple[str, str, str], ...] = ()) -> Any:
    """A ChipConfig field with its display metadata: the one place a knob is described.

    unit, lo..hi: the field's unit and valid range. label: short name in its group's section.
    shown: (display unit, scale) with displayed = value x scale; default the field's unit, x1.
    slider: (maximum in the display unit, decimals) to put the knob in the lab's panel.
    per / maps: for a static draw, what one draw belongs to, and its mismatch maps as
    (key, title, what it does to the computation).
    """
    shown_unit, scale = shown or (unit, 1.0)
    return field(default=default, metadata={
        "unit": unit, "min": lo, "max": hi, "doc": doc, "label": label, "group": group, "kind": kind,
        "shown_unit": shown_unit, "scale": scale, "slider": slider, "per": per, "maps": maps})


def _of_kind(namespace: dict[str, Any], *kinds: str) -> tuple[str, ...]:
    """Names of the knob fields of these kinds in a class body being defined, in order."""
    return tuple(name for name, value in namespace.items()
                 if isinstance(value, Field) and value.metadata.get("kind") in kinds)


@dataclass(frozen=True)
class ChipConfig:
    """One Conv-SRAM macro: geometry, analog operating point and non-idealities."""

    # --- geometry -------------------------------------------------------------------------
    rows: int = _knob(64, "rows", 1, 1024,
                      "Rows of the array; one input (DAC) per row, broadcast along the row. "
                      "64 [paper: 16 Kb = 64 x 256].", label="rows", group="array")
    columns: int = _knob(256, "columns", 1, 4096,
                         "Columns of the array; each holds one filter (tile) with its own differential "
                         "line pair. 256 [paper].", label="columns", group="array")
    adc_groups: int = _knob(16, "ADCs", 1, 256,
                            "Local integrating ADCs, each shared by columns/adc_groups adjacent columns; "
                            "at most one column per group is evaluated per invocation. 16 [paper].",
                            label="ADC groups", group="array")
    macros: int = _knob(1, "macros", 1, 64,
                        "Macros the network is placed on, each a rows x columns array with its own DACs "
                        "and ADCs; layers that do not fit at once run in phases with weight rewrites "
                        "between them (core/mapping.py). 1 [paper: one macro].", label="macros",
                        group="array")
    input_bits: int = _knob(7, "bit", 1, 12, "Input (DAC) resolution. 7 b [paper, ISSCC]; 6 b in JSSC.",
                            label="input bits", group="dac")
    adc_bits: int = _knob(7, "bit", 1, 12,
                          "ADC resolution (magnitude bits; signed mode adds a sign). 7 b [paper, ISSCC].",
                          label="ADC bits", group="adc")
    # --- operating point ------------------------------------------------------------------
    vdd: float = _knob(1.2, "V", 0.3, 5.0, "Supply voltage. 1.2 V [paper, 65 nm CMOS].",
                       label="supply VDD", group="array")
    v_precharge: float = _knob(1.0, "V", 0.1, 5.0,
                               "Precharge voltage of the row and column lines; the DAC discharges a row "
                               "from here by code x dac_lsb. 1.0 V [assumed].",
                               label="precharge", group="dac")
    dac_lsb: float = _knob(3e-3, "V", 1e-6, 1.0,
                           "DAC step: row voltage drop per input code. 3 mV [assumed], so one unit of "
                           "sum(w*x) is 60 uV at 50 rows (3 mV / 50), against a kT/C noise of 0.29 mV rms "
                           "on a 50-segment line at 1 fF per segment (ChipConfig.ktc_sigma).",
                           label="DAC step", group="dac", shown=("mV", 1e3))
    c_line: float = _knob(1e-15, "F", 1e-18, 1e-12,
                          "Capacitance of one bitcell's line segment (per side). 1 fF [assumed, typical "
                          "65 nm local-line/MOM segment].",
                          label="line segment capacitance", group="lines", shown=("fF", 1e15))
    temperature: float = _knob(300.0, "K", 1.0, 500.0, "Die temperature for kT/C noise. 300 K [assumed].",
                               label="temperature", group="lines")
    # --- non-idealities: static, drawn once per chip from its seed --------------------------
    dac_gain_sigma: float = _knob(
        0.01, "fraction", 0.0, 1.0, "Per-row DAC gain error, standard deviation (1 % = 0.01). 1 % [assumed].",
        label="gain error σ", group="dac", kind="static", shown=("%", 100.0), slider=(10.0, 2), per="row",
        maps=(("dac_gain", "DAC gain error",
               "A row whose DAC step is too large exaggerates its input in every column."),))
    dac_offset_sigma: float = _knob(
        1e-3, "V", 0.0, 1.0, "Per-row DAC offset (extra discharge), standard deviation. 1 mV [assumed].",
        label="offset σ", group="dac", kind="static", shown=("mV", 1e3), slider=(10.0, 2), per="row",
        maps=(("dac_offset", "DAC offset", "An extra discharge of the row line, whatever the input code."),))
    dac_inl: float = _knob(
        0.5, "LSB", 0.0, 64.0,
        "Peak DAC integral nonlinearity: a smooth mid-scale bow of this many LSB, its amplitude varying "
        "+/-25 % (1 sigma) from row to row. 0.5 LSB [assumed].",
        label="INL bow (peak)", group="dac", kind="static", slider=(5.0, 2), per="row",
        maps=(("dac_inl", "DAC INL bow amplitude",
               "A mid-scale bow of the DAC transfer, its amplitude varying from row to row."),))
    cap_mismatch_sigma: float = _knob(
        0.02, "fraction", 0.0, 0.5,
        "Relative mismatch of each line-segment capacitor, standard deviation (C = C0 (1 + sigma eps)). "
        "2 % [assumed, ~1 fF MOM].",
        label="capacitor mismatch σ", group="lines", kind="static", shown=("%", 100.0), slider=(20.0, 2),
        per="cell",
        maps=(("cap_p", "Capacitor C_P deviation", "A larger C_P segment weighs its row more in the P "
               "line's average: the dot product's weights are no longer all equal."),
              ("cap_n", "Capacitor C_N deviation",
               "A larger C_N segment weighs its row more in the N line's average.")))
    charge_injection_sigma: float = _knob(
        2e-4, "V", 0.0, 1.0,
        "Per-column offset of the line difference from switch charge injection, standard deviation. "
        "0.2 mV [assumed]. Uncalibrated estimate 0.5 mV [derived, Pelgrom]: each of a line's N segment "
        "switches (W L about 0.12 x 0.06 um) injects a channel charge whose mismatch, "
        "Cox W L sigma(dV_T) = Cox A_VT sqrt(W L) with Cox about 15 fF/um^2 and A_VT 3.5 mV.um, is about "
        "4.5 aC, half of it onto the line; N such charges on N x 1 fF give 2.2 aC / (sqrt(N) fF), "
        "0.3 mV per line at N = 50 and 0.45 mV on the difference of the pair. Offset calibration "
        "(core/calibration.py) removes it with the comparator offset.",
        label="charge injection σ", group="lines", kind="static", shown=("mV", 1e3), slider=(2.0, 3),
        per="column",
        maps=(("injection", "Charge injection offset",
               "Switch charge injection shifts the column's line difference by a fixed voltage."),))
    comparator_offset_sigma: float = _knob(
        4e-4, "V", 0.0, 1.0,
        "Per-ADC comparator offset, input-referred, standard deviation: the same volts at the comparator "
        "whatever the layer's ADC step. 0.4 mV [assumed: what offset calibration leaves, "
        "core/calibration.py; a whole-code correction leaves at most half a code, 0.35-0.9 mV on the "
        "shipped LeNet's layers, rms 0.2-0.5 mV]. A sub-mV offset is credible only after calibration: "
        "Pelgrom mismatch, sigma(dV_T) = A_VT / sqrt(W L) with A_VT about 3-4 mV.um at 65 nm [derived: "
        "Pelgrom et al., IEEE JSSC 1989; Kinget, IEEE JSSC 2005], gives 5 mV for a 0.5 um^2 input pair, "
        "and a simple StrongARM latch lands at 5-10 mV uncalibrated [derived: its latch and load add to "
        "the pair's offset, Razavi, IEEE SSC Magazine 2015]; the uncalibrated preset uses 6 mV.",
        label="comparator offset σ", group="adc", kind="static", shown=("mV", 1e3), slider=(10.0, 2),
        per="ADC group",
        maps=(("adc_offset", "ADC comparator offset",
               "Every column of the ADC's group sees its line difference shifted by this voltage."),))
    adc_gain_sigma: float = _knob(
        0.01, "fraction", 0.0, 1.0,
        "Per-ADC gain error (ramp step error), standard deviation. 1 % [assumed].",
        label="gain error σ", group="adc", kind="static", shown=("%", 100.0), slider=(10.0, 2),
        per="ADC group",
        maps=(("adc_gain", "ADC gain error",
               "The ramp step is off by this fraction: large codes are off most."),))
    # --- non-idealities: drawn on every invocation ------------------------------------------
    ktc_noise: bool = _knob(True, "on/off", 0, 1,
                            "Thermal (kT/C) sampling noise on each line after charge sharing, "
                            "sigma = sqrt(kT / C_total) per line [physics]. On by default.",
                            label="kT/C noise on both lines", group="lines", kind="noise")
    comparator_noise_sigma: float = _knob(
        1e-4, "V", 0.0, 1.0,
        "ADC comparator input-referred noise per conversion, standard deviation. 0.1 mV [assumed].",
        label="comparator noise σ", group="adc", kind="noise", shown=("mV", 1e3), slider=(1.0, 3))

    # the non-idealities: every field above whose metadata kind is "static" or "noise"
    NONIDEALITIES = _of_kind(locals(), "static", "noise")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata["min"], f.metadata["max"]
            # each field by its declared type: nothing is coerced (64.0 rows, 1 for true, 'maybe')
            shown = _short(value)
            if f.type in ("bool", bool):
                if not isinstance(value, bool | np.bool_):
                    raise ValueError(f"{f.name} must be true or false, got {shown}")
                continue
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise ValueError(f"{f.name} must be a number in [{lo}, {hi}] {f.metadata['unit']}, "
                                 f"got {shown}")
            if f.type in ("int", int) and not isinstance(value, numbers.Integral):
                raise ValueError(f"{f.name} must be an integer in [{lo}, {hi}] (no decimal point), "
                                 f"got {shown}")
            if not (isinstance(value, numbers.Integral) or math.isfinite(value)) or not lo <= value <= hi:
                raise ValueError(f"{f.name} must be in [{lo}, {hi}] {f.metadata['unit']}, got {shown}")
        if self.columns % self.adc_groups:
            raise ValueError(f"columns ({self.columns}) must be a multiple of adc_groups ({self.adc_groups})")
        if self.v_precharge > self.vdd:
            raise ValueError(f"v_precharge ({self.v_precharge} V) must not exceed vdd ({self.vdd} V)")
        full_scale = (2**self.input_bits - 1) * self.dac_lsb
        if full_scale > self.v_precharge:
            raise ValueError(f"dac_lsb too large: full-scale drop {(full_scale):.3g} V exceeds v_precharge "
                             f"{self.v_precharge} V; lower dac_lsb or input_bits")

    # --- constructors and helpers ------------------------------------------------------------
    @classmethod
    def ideal(cls, **overrides: Any) -> ChipConfig:
        """A config with every non-ideality off: reproduces integer arithmetic exactly."""
        return cls(**{**cls._all_off(), **overrides})

    def idealised(self) -> ChipConfig:
        """This config with every non-ideality off: the same geometry and operating point."""
        return self.with_(**self._all_off())

    @classmethod
    def _all_off(cls) -> dict[str, Any]:
        return {name: (False if name == "ktc_noise" else 0.0) for name in cls.NONIDEALITIES}

    @classmethod
    def harsh(cls, **overrides: Any) -> ChipConfig:
        """The pessimistic corner (core/presets.py: uncalibrated offsets at the top of their range, every
        other non-ideality at 4x the default)."""
        from convsram.core.presets import harsh
        return harsh(**overrides)

    @classmethod
    def uncalibrated(cls, **overrides: Any) -> ChipConfig:
        """Offsets as fabricated, before offset calibration (core/presets.py)."""
        from convsram.core.presets import uncalibrated
        return uncalibrated(**overrides)

    def with_(self, **changes: Any) -> ChipConfig:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def columns_per_group(self) -> int:
        return self.columns // self.adc_groups

    @property
    def max_code(self) -> int:
        """Largest ADC magnitude code, 2^adc_bits - 1."""
        return 2**self.adc_bits - 1

    @property
    def max_input(self) -> int:
        """Largest input code, 2^input_bits - 1."""
        return 2**self.input_bits - 1

    def ktc_sigma(self, n_rows: int) -> float:
        """kT/C noise (V rms) on one line after sharing n_rows nominal segments."""
        return math.sqrt(BOLTZMANN * self.temperature / (n_rows * self.c_line))

    def is_ideal(self) -> bool:
        return all(not getattr(self, n) for n in self.NONIDEALITIES)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def field_info(name: str) -> dict[str, Any]:
    """Unit, range, default and docstring of a ChipConfig field (for tooltips and the CLI)."""
    for f in fields(ChipConfig):
        if f.name == name:
            default = f.default if f.default is not MISSING else None
            return {"name": name, "default": default, **f.metadata}
    raise KeyError(name)


def field_doc(name: str) -> str:
    """The field's docstring with its unit: the tooltip shown in the app."""
    info = field_info(name)
    return f"{info['doc']} [{info['unit']}]"



@dataclass(frozen=True)
class Slider:
    """A knob's slider in the lab's panel, in the display unit."""

    top: float  # maximum; widened if a loaded value is larger
    step: float
    decimals: int


@dataclass(frozen=True)
class MapSpec:
    """One mismatch map drawn from a static knob (core.analysis.MAPS)."""

    key: str
    title: str
    effect: str  # what the mismatch does to the computation


@dataclass(frozen=True)
class KnobSpec:
    """Everything shown about one ChipConfig field, read from its metadata."""

    name: str
    label: str  # short name within its group's section
    unit: str  # the field's unit
    shown_unit: str  # the unit it is displayed in
    scale: float  # field value x scale = displayed value
    lo: float  # valid range, field unit
    hi: float
    default: Any
    group: str  # key of GROUPS
    kind: str  # one of KINDS
    doc: str
    source: str  # first source tag of the doc: paper, derived, assumed or physics
    per: str | None  # static draws: what one draw belongs to (one of PER)
    slider: Slider | None  # None: not in the lab's knob panel
    maps: tuple[MapSpec, ...]

    @property
    def is_bool(self) -> bool:
        return self.unit == "on/off"

    def shown(self, value: float) -> float:
        """A field value in the display unit."""
        return float(value) * self.scale

    def to_field(self, shown: float) -> float:
        """A displayed value back in the field's unit, rounded so 1 % reads back as exactly 0.01."""
        return float(f"{shown / self.scale:.10g}")

    def format(self, value: Any) -> str:
        """A field value as the app shows it: '3 mV', '2 %', 'on'."""
        if self.is_bool:
            return "on" if value else "off"
        return f"{self.shown(value):g} {self.shown_unit}"

    @property
    def title(self) -> str:
        """The label with its display unit, e.g. 'offset σ (mV)'."""
        return f"{self.label} ({self.shown_unit})"


_SOURCE = re.compile(r"\[(paper|derived|assumed|physics)\b")


def knob_spec(f: Field) -> KnobSpec:
    """The KnobSpec of one ChipConfig field."""
    m = f.metadata
    tag = _SOURCE.search(m["doc"])
    slider = None
    if m["slider"] is not None:
        top, decimals = m["slider"]
        slider = Slider(top=top, step=top / 200, decimals=decimals)
    return KnobSpec(
        name=f.name, label=m["label"], unit=m["unit"], shown_unit=m["shown_unit"], scale=m["scale"],
        lo=m["min"], hi=m["max"], default=f.default if f.default is not MISSING else None,
        group=m["group"], kind=m["kind"], doc=m["doc"], source=tag.group(1) if tag else "",
        per=m["per"], slider=slider, maps=tuple(MapSpec(*entry) for entry in m["maps"]))


def knob_fields() -> tuple[KnobSpec, ...]:
    """Every ChipConfig field's KnobSpec, in field order (read afresh from the metadata)."""
    return tuple(knob_spec(f) for f in fields(ChipConfig))


def knobs_by_name() -> dict[str, KnobSpec]:
    return {spec.name: spec for spec in knob_fields()}
