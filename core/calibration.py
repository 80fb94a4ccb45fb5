"""Offset calibration the way a chip would do it, and what it costs.

For every programmed column, at the operating point it serves (its layer's ADC step and row count):

1. apply a known input, zero on every row (the signed ADC's mid-scale: ideally code 0), so the line
   pair holds only the column's static offset (comparator offset of its ADC, charge injection, the
   DAC offsets a zero code lets through);
2. convert it K times in signed mode with the chip's per-conversion noise (kT/C, comparator), which
   dithers the integer codes, and average: the mean code estimates the offset in codes to a fraction of
   a code;
3. store a per-column correction of a finite number of bits (two's complement, ``frac_bits`` of them
   after the binary point), which the ADC subtracts from every later conversion of that column. With
   ``frac_bits = 0`` it is a preset of the integrating ADC's ramp counter (whole codes) [assumed]; a
   fractional correction needs a trim of the comparator threshold in fractions of a ramp step.

A known input at mid-scale (every row at code 64) is not used for the offset: its expected code is
known from the stored weights, but the DAC and ADC gain errors scale with it (1 % of a 100-code level is
a whole code), so it would mix the gain into the offset estimate.

The cost is charged once per chip (and again whenever the chip changes, e.g. its temperature): the
calibration conversions' DAC, array and ADC energy from the same energy model as inference, the digital
averaging (one add per conversion) and the writes of the correction registers (priced as SRAM bit
writes [assumed]). Applying the correction costs nothing extra: the counter loads the stored value
instead of zero at its reset [assumed].

Deterministic: the calibration noise comes from its own stream of the chip's seed, so the same chip
always calibrates to the same correction, and inference noise is untouched.

Entry points: :func:`calibrate` (a chip with a network on it) and :func:`calibrate_columns` (any columns
at any operating point). Both return a :class:`CalibrationResult`; the chip keeps the correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convsram.core import energy
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.mapping import ArrayMap, place
from convsram.core.network import Model

CAL_STREAM = 2  # the chip's seed streams: 0 static draws, 1 chip noise, 2 calibration noise


@dataclass(frozen=True)
class CalibrationSettings:
    """How the calibration runs; every figure an assumption of this model."""

    samples: int = 64  # conversions averaged per column [assumed]: noise / 8 on the estimate
    bits: int = 7  # correction register per column, two's complement [assumed]
    frac_bits: int = 0  # of them after the binary point: 0 = whole codes (a counter preset) [assumed]

    def __post_init__(self) -> None:
        if not isinstance(self.samples, int) or not 1 <= self.samples <= 1_000_000:
            raise ValueError(f"calibration samples must be an integer in 1..1000000, got {self.samples!r}")
        if not isinstance(self.bits, int) or not 2 <= self.bits <= 16:
            raise ValueError(f"calibration bits must be an integer in 2..16, got {self.bits!r}")
        if not isinstance(self.frac_bits, int) or not 0 <= self.frac_bits < self.bits:
            raise ValueError(f"calibration frac_bits must be in 0..bits-1, got {self.frac_bits!r}")

    @property
    def step(self) -> float:
        """Resolution of the correction, codes."""
        return 2.0 ** -self.frac_bits

    @property
    def limits(self) -> tuple[float, float]:
        """Smallest and largest correction the register holds, codes."""
        half = 2 ** (self.bits - 1)
        return -half * self.step, (half - 1) * self.step


@dataclass(frozen=True)
class Target:
    """Columns calibrated at one operating point: the rows they sum and the ADC volts per code."""

    columns: np.ndarray  # at most one column per ADC group
    n_rows: int
    adc_lsb: float  # V per code
    label: str = ""  # e.g. the layer's name


@dataclass
class CalibrationResult:
    """What one calibration measured, stored and cost. Per-column arrays follow ``columns``."""

    seed: int
    settings: CalibrationSettings
    columns: np.ndarray  # calibrated columns
    label: np.ndarray  # their target's label (layer name), str
    adc_lsb: np.ndarray  # V per code of each column's operating point
    measured: np.ndarray  # mean code at zero input, codes (the estimate)
    stored: np.ndarray  # the correction stored, codes (finite bits, clipped to the register)
    offset_before_v: np.ndarray  # true static offset at the comparator, input-referred, V
    offset_after_v: np.ndarray  # what is left after the correction, V
    clipped: int  # columns whose correction hit the register's range
    conversions: int
    invocations: int
    energy_pj: dict[str, float] = field(default_factory=dict)  # per component, once per chip
    time_ns: float = 0.0

    @property
    def energy_total_pj(self) -> float:
        return float(sum(self.energy_pj.values()))

    def rms_v(self, after: bool) -> float:
        """RMS offset over the calibrated columns, V (before or after the correction)."""
        v = self.offset_after_v if after else self.offset_before_v
        return float(np.sqrt(np.mean(v**2))) if v.size else 0.0

    def by_label(self) -> dict[str, dict[str, float]]:
        """Per target label: columns, ADC LSB (mV), rms offset before and after (mV)."""
        out: dict[str, dict[str, float]] = {}
        for name in dict.fromkeys(self.label.tolist()):
            sel = self.label == name
            out[name] = {"columns": int(sel.sum()), "adc_lsb_mv": float(self.adc_lsb[sel][0] * 1e3),
                         "rms_before_mv": float(np.sqrt(np.mean(self.offset_before_v[sel] ** 2)) * 1e3),
                         "rms_after_mv": float(np.sqrt(np.mean(self.offset_after_v[sel] ** 2)) * 1e3)}
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (eval's report, the report module)."""
        return {"seed": self.seed, "samples": self.settings.samples, "bits": self.settings.bits,
                "frac_bits": self.settings.frac_bits, "columns": int(self.columns.size),
                "conversions": self.conversions, "invocations": self.invocations,
                "energy_pj": self.energy_total_pj, "energy_breakdown_pj": dict(self.energy_pj),
                "time_ns": self.time_ns, "clipped_columns": self.clipped,
                "rms_offset_before_mv": self.rms_v(False) * 1e3,
                "rms_offset_after_mv": self.rms_v(True) * 1e3,
                "max_abs_offset_after_mv": float(np.abs(self.offset_after_v).max() * 1e3)
                if self.columns.size else 0.0,
                "by_layer": self.by_label(), "text": self.describe()}

    def describe(self) -> str:
        """One line for a terminal."""
        return (f"calibrated {self.columns.size} columns ({self.settings.samples} conversions each, "
                f"{self.settings.bits}-b correction): rms offset {self.rms_v(False) * 1e3:.2f} -> "
                f"{self.rms_v(True) * 1e3:.2f} mV; once per chip {self.energy_total_pj / 1e3:.1f} nJ, "
                f"{self.time_ns / 1e3:.1f} us")


def targets_for(model: Model, chip: Chip, amap: ArrayMap | None = None) -> list[Target]:
    """One target per (layer, tile, invocation chunk) of `model` placed on `chip`. ValueError for a
    network in several phases or on several macros: its columns serve other layers, at other operating
    points, after each rewrite, and the other macros are other chips (not modelled yet)."""
    amap = amap or place(model.layers, chip.config)
    macros = amap.macros_used
    if amap.phases > 1 or macros > 1:
        raise ValueError(f"offset calibration is modelled for a network held by one macro at once; this one "
                         f"runs in {amap.phases} phase(s) on {macros} macro(s) of {chip.config.columns} "
                         "columns (per-phase, per-macro calibration is not modelled yet): leave out "
                         "--calibrate, or use a network that fits one macro")
    out = []
    for li, spec in enumerate(model.layers):
        for t, (r0, r1) in enumerate(spec.tiles):
            adc_lsb = chip.adc_lsb_for(model.adc_step[li], r1 - r0)
            for filters in amap.chunks[li][t]:
                out.append(Target(columns=np.asarray(amap.columns[li][t, filters]), n_rows=r1 - r0,
                                  adc_lsb=adc_lsb, label=spec.name))
    return out


def calibrate(chip: Chip, model: Model, amap: ArrayMap | None = None,
              settings: CalibrationSettings | None = None) -> CalibrationResult:
    """Calibrate every column `model` uses on `chip` (programmed) and store the correction in the chip."""
    return calibrate_columns(chip, targets_for(model, chip, amap), settings)


def calibrate_columns(chip: Chip, targets: Sequence[Target],
                      settings: CalibrationSettings | None = None) -> CalibrationResult:
    """Measure, quantise and store the offset correction of each target's columns (see the module doc).
    A correction already stored is cleared first: the chip is measured as fabricated."""
    settings = settings or CalibrationSettings()
    cfg = chip.config
    chip.set_correction(None)
    rng = np.random.default_rng([chip.seed, CAL_STREAM])
    correction = np.zeros(cfg.columns)
    cols_all, labels, lsbs, measured, before = [], [], [], [], []
    ledger = energy.empty_ledger()
    time_ns, invocations = 0.0, 0
    k = settings.samples
    lo, hi = settings.limits
    for tgt in targets:
        x = np.zeros((k, tgt.n_rows), dtype=np.int64)
        inv = chip.invoke_batch(x, tgt.columns, tgt.adc_lsb, "signed", rng=rng, with_ideal=False,
                                detail=False, validate=False)
        for name, v in inv.energy_pj.items():
            ledger[name] += v
        time_ns += inv.time_ns
        invocations += inv.n_invocations
        mean = inv.codes.mean(axis=0)
        q = np.clip(np.round(mean / settings.step) * settings.step, lo, hi)
        correction[tgt.columns] = q
        cols_all.append(tgt.columns)
        labels += [tgt.label] * tgt.columns.size
        lsbs.append(np.full(tgt.columns.size, tgt.adc_lsb))
        measured.append(mean)
        before.append(true_offset_v(chip, tgt))
    chip.set_correction(correction)
    columns = np.concatenate(cols_all) if cols_all else np.zeros(0, dtype=np.int64)
    adc_lsb = np.concatenate(lsbs) if lsbs else np.zeros(0)
    offset_before = np.concatenate(before) if before else np.zeros(0)
    stored = correction[columns]
    gain = chip.adc_gain[chip.group_of(columns)]
    offset_after = offset_before - stored * adc_lsb / gain  # the correction referred to the comparator
    conversions = int(columns.size * k)
    ledger["digital"] += conversions * energy.e("add")  # accumulating the K codes
    n_bits = columns.size * settings.bits
    ledger["write"] += energy.write_energy_pj(n_bits)  # the correction registers
    time_ns += energy.write_time_ns(1) if columns.size else 0.0
    return CalibrationResult(
        seed=chip.seed, settings=settings, columns=columns, label=np.array(labels, dtype=str),
        adc_lsb=adc_lsb,
        measured=np.concatenate(measured) if measured else np.zeros(0), stored=stored,
        offset_before_v=offset_before, offset_after_v=offset_after,
        clipped=int(np.sum((stored <= lo) | (stored >= hi))), conversions=conversions,
        invocations=invocations, energy_pj={k_: v for k_, v in ledger.items() if v}, time_ns=time_ns)


def true_offset_v(chip: Chip, target: Target) -> np.ndarray:
    """The simulator's knowledge (not the chip's): each column's static offset at zero input referred to
    the comparator input, V: line difference (charge injection, DAC offsets) plus comparator offset,
    without noise and without any correction."""
    z = np.zeros((1, target.n_rows), dtype=np.int64)
    dv = chip.dac(z)
    share, _ = chip._sharing(target.n_rows)
    cols = target.columns
    diff = dv @ (share[:, cols] - share[:, cols + chip.config.columns])
    diff = diff[0]
    if chip.config.charge_injection_sigma:
        diff = diff + chip.injection[cols]
    return diff + chip.adc_offset[chip.group_of(cols)]


def residual_offsets_v(chip: Chip, model: Model, amap: ArrayMap | None = None) -> np.ndarray:
    """Per array column (NaN where no column of `model` sits), the static offset left at the comparator
    input with the chip's current correction, V: the 'residual offset map'."""
    out = np.full(chip.config.columns, np.nan)
    for tgt in targets_for(model, chip, amap):
        v = true_offset_v(chip, tgt)
        if chip.correction is not None:
            g = chip.adc_gain[chip.group_of(tgt.columns)]
            v = v - chip.correction[tgt.columns] * tgt.adc_lsb / g
        out[tgt.columns] = v
    return out


def uses(config: ChipConfig) -> bool:
    """Whether calibrating a chip of `config` can change anything (it has a static offset)."""
    return bool(config.comparator_offset_sigma or config.charge_injection_sigma or config.dac_offset_sigma)


@dataclass(frozen=True)
class BeforeAfter:
    """One chip evaluated as fabricated and after calibration (the same images, the same noise)."""

    seed: int
    correct_before: int
    correct_after: int
    images: int
    rms_before_mv: float
    rms_after_mv: float

    @property
    def accuracy_before(self) -> float:
        return self.correct_before / self.images

    @property
    def accuracy_after(self) -> float:
        return self.correct_after / self.images


def before_after(model: Model, images: np.ndarray, labels: np.ndarray, config: ChipConfig, seed: int,
                 progress: Any = None) -> BeforeAfter:
    """Accuracy of chip (config, seed) on `images` without and with offset calibration."""
    from convsram.core.evaluate import evaluate  # evaluate imports this module

    plain = evaluate(model, images, labels, config, seed, progress=progress)
    cal = evaluate(model, images, labels, config, seed, progress=progress, calibrate=True)
    c = cal["calibration"]
    return BeforeAfter(seed=seed, correct_before=int(plain["correct"]), correct_after=int(cal["correct"]),
                       images=int(plain["images"]), rms_before_mv=float(c["rms_offset_before_mv"]),
                       rms_after_mv=float(c["rms_offset_after_mv"]))
