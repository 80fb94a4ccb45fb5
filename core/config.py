"""ChipConfig: the geometry, operating point and non-idealities of one Conv-SRAM macro.

Every field carries its unit, its allowed range and a source tag in ``field.metadata``; the ``doc``
entry is the field's docstring and doubles as its tooltip in the app (see :func:`field_doc`).
Tags follow ``../shared/docs/convsram-model.md``: [paper] published for the chip (Biswas and
Chandrakasan, ISSCC 2018 / JSSC 2019), [derived] arithmetic on published numbers, [assumed] our
modelling choice.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

BOLTZMANN = 1.380649e-23  # J/K, exact SI value (2019 redefinition)


def _knob(default: Any, unit: str, lo: float, hi: float, doc: str) -> Any:
    return field(default=default, metadata={"unit": unit, "min": lo, "max": hi, "doc": doc})


@dataclass(frozen=True)
class ChipConfig:
    """One Conv-SRAM macro: geometry, analog operating point and non-idealities."""

    # --- geometry -------------------------------------------------------------------------
    rows: int = _knob(64, "rows", 1, 1024,
                      "Rows of the array; one input (DAC) per row, broadcast along the row. "
                      "64 [paper: 16 Kb = 64 x 256].")
    columns: int = _knob(256, "columns", 1, 4096,
                         "Columns of the array; each holds one filter (tile) with its own differential "
                         "line pair. 256 [paper].")
    adc_groups: int = _knob(16, "ADCs", 1, 256,
                            "Local integrating ADCs, each shared by columns/adc_groups adjacent columns; "
                            "at most one column per group is evaluated per invocation. 16 [paper].")
    input_bits: int = _knob(7, "bit", 1, 12, "Input (DAC) resolution. 7 b [paper, ISSCC]; 6 b in JSSC.")
    adc_bits: int = _knob(7, "bit", 1, 12,
                          "ADC resolution (magnitude bits; signed mode adds a sign). 7 b [paper, ISSCC].")
    # --- operating point ------------------------------------------------------------------
    vdd: float = _knob(1.2, "V", 0.3, 5.0, "Supply voltage. 1.2 V [paper, 65 nm CMOS].")
    v_precharge: float = _knob(1.0, "V", 0.1, 5.0,
                               "Precharge voltage of the row and column lines; the DAC discharges a row "
                               "from here by code x dac_lsb. 1.0 V [assumed].")
    dac_lsb: float = _knob(3e-3, "V", 1e-6, 1.0,
                           "DAC step: row voltage drop per input code. 3 mV [assumed], so one unit of "
                           "sum(w*x) is 60 uV at 50 rows, comparable to kT/C noise (model doc section 3).")
    c_line: float = _knob(1e-15, "F", 1e-18, 1e-12,
                          "Capacitance of one bitcell's line segment (per side). 1 fF [assumed, typical "
                          "65 nm local-line/MOM segment].")
    temperature: float = _knob(300.0, "K", 1.0, 500.0, "Die temperature for kT/C noise. 300 K [assumed].")
    # --- non-idealities: static, drawn once per chip from its seed --------------------------
    dac_gain_sigma: float = _knob(0.01, "fraction", 0.0, 1.0,
                                  "Per-row DAC gain error, standard deviation (1 % = 0.01). 1 % [assumed].")
    dac_offset_sigma: float = _knob(1e-3, "V", 0.0, 1.0,
                                    "Per-row DAC offset (extra discharge), standard deviation. 1 mV "
                                    "[assumed].")
    dac_inl: float = _knob(0.5, "LSB", 0.0, 64.0,
                           "Peak DAC integral nonlinearity: a smooth mid-scale bow of this many LSB, its "
                           "amplitude varying +/-25 % (1 sigma) from row to row. 0.5 LSB [assumed].")
    cap_mismatch_sigma: float = _knob(0.02, "fraction", 0.0, 0.5,
                                      "Relative mismatch of each line-segment capacitor, standard "
                                      "deviation (C = C0 (1 + sigma eps)). 2 % [assumed, ~1 fF MOM].")
    charge_injection_sigma: float = _knob(2e-4, "V", 0.0, 1.0,
                                          "Per-column offset of the line difference from switch charge "
                                          "injection, standard deviation. 0.2 mV [assumed].")
    adc_offset_sigma: float = _knob(0.25, "LSB", 0.0, 64.0,
                                    "Per-ADC offset, standard deviation, in ADC LSB. 0.25 LSB [assumed].")
    adc_gain_sigma: float = _knob(0.01, "fraction", 0.0, 1.0,
                                  "Per-ADC gain error (ramp step error), standard deviation. 1 % [assumed].")
    # --- non-idealities: drawn on every invocation ------------------------------------------
    ktc_noise: bool = _knob(True, "on/off", 0, 1,
                            "Thermal (kT/C) sampling noise on each line after charge sharing, "
                            "sigma = sqrt(kT / C_total) per line [physics]. On by default.")
    comparator_noise_sigma: float = _knob(1e-4, "V", 0.0, 1.0,
                                          "ADC comparator input-referred noise per conversion, standard "
                                          "deviation. 0.1 mV [assumed].")

    NONIDEALITIES = ("dac_gain_sigma", "dac_offset_sigma", "dac_inl", "cap_mismatch_sigma",
                     "charge_injection_sigma", "adc_offset_sigma", "adc_gain_sigma", "ktc_noise",
                     "comparator_noise_sigma")

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
        """A pessimistic corner: every static and dynamic non-ideality at several times nominal."""
        nominal = cls()
        knobs = {name: getattr(nominal, name) * 4 for name in cls.NONIDEALITIES if name != "ktc_noise"}
        knobs.update(overrides)
        return cls(**knobs)

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
