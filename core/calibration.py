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

A network held in several phases or on several macros [assumed: calibrated as the chip would, with
the weights in place]: every macro is its own chip (its own mismatch, from :func:`core.mapping.macro_seed`)
and a column serves other layers, at other operating points, after each rewrite. So each (phase, macro)
is calibrated with that phase's weights written into that macro, at the operating points its layers
use there, and gets its own correction: one per (phase, macro, column). Every image then loads the
phase's correction into the macro's registers with its weights (core/inference.py ``ChipEvaluator``):
a write of ``bits`` x its calibrated columns register bits per rewrite, priced like the weight writes
as SRAM bit writes [assumed]. The one-time cost adds, for phases after the first, the weight writes that
bring each phase into the array to be measured (the first phase is written anyway; every image
rewrites it before its first layer), and keeping the corrections between rewrites is priced as the
same register writes (once each) [assumed: a small on-chip store, its leakage not modelled].

Deterministic: the calibration noise comes from its own stream of each macro's seed (used phase by
phase), so the same chip always calibrates to the same correction, and inference noise is untouched.

Entry points: :func:`calibrate` (a chip with a network on it) and :func:`calibrate_columns` (any columns
at any operating point). Both return a :class:`CalibrationResult`; the chip keeps the correction (of the
first phase, whose weights it holds again afterwards).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convsram.core import energy
from convsram.core.chip import Chip
from convsram.core.config import ChipConfig
from convsram.core.mapping import ArrayMap, macro_chips, place
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
    """What one calibration measured, stored and cost. Per-column arrays follow ``columns`` (a column
    appears once per (phase, macro) it is calibrated in: ``phase`` and ``macro`` say which)."""

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
    phase: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per column entry
    macro: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per column entry
    # (phase, macro) -> the correction registers' content while that phase runs there, codes per column
    corrections: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    phases: int = 1  # phases of the network (each image rewrites them all when more than one)
    macros: int = 1  # macros it uses

    @property
    def energy_total_pj(self) -> float:
        return float(sum(self.energy_pj.values()))

    def register_bits(self, phase: int, macro: int) -> int:
        """Correction register bits loaded when `phase` is written into `macro` (its calibrated columns)."""
        sel = (self.phase == phase) & (self.macro == macro)
        return int(sel.sum()) * self.settings.bits

    def loads(self) -> dict[tuple[int, int], tuple[np.ndarray, int]]:
        """(phase, macro) -> (its correction per column, register bits written to load it): what
        ``ChipEvaluator`` loads with each phase's weights."""
        return {pm: (c, self.register_bits(*pm)) for pm, c in self.corrections.items()}

    @property
    def reload_bits_per_image(self) -> int:
        """Register bits written per image: every phase's correction is loaded with its weights when the
        network runs in several phases; none when one phase stays resident."""
        return sum(self.register_bits(*pm) for pm in self.corrections) if self.phases > 1 else 0

    @property
    def reload_energy_pj_per_image(self) -> float:
        return energy.write_energy_pj(self.reload_bits_per_image)

    @property
    def reload_time_ns_per_image(self) -> float:
        """One register write cycle per (phase, macro) rewrite [assumed, as the one-time store]."""
        return energy.write_time_ns(len(self.corrections)) if self.phases > 1 else 0.0

    def flat_index(self) -> np.ndarray:
        """Each column entry's index into :func:`residual_offsets_v`'s map ((phase, macro, column) order)."""
        columns = self.corrections[next(iter(self.corrections))].size if self.corrections else 0
        return (self.phase * self.macros + self.macro) * columns + self.columns

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

    def by_phase(self) -> list[dict[str, float]]:
        """Per (phase, macro) calibrated: columns, rms offset before and after (mV), register bits."""
        out = []
        for p, m in self.corrections:
            sel = (self.phase == p) & (self.macro == m)
            out.append({"phase": p, "macro": m, "columns": int(sel.sum()),
                        "rms_before_mv": float(np.sqrt(np.mean(self.offset_before_v[sel] ** 2)) * 1e3),
                        "rms_after_mv": float(np.sqrt(np.mean(self.offset_after_v[sel] ** 2)) * 1e3),
                        "register_bits": self.register_bits(p, m)})
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (eval's report, the report module)."""
        return {"seed": self.seed, "samples": self.settings.samples, "bits": self.settings.bits,
                "frac_bits": self.settings.frac_bits, "columns": int(self.columns.size),
                "phases": self.phases, "macros": self.macros, "corrections": len(self.corrections),
                "conversions": self.conversions, "invocations": self.invocations,
                "energy_pj": self.energy_total_pj, "energy_breakdown_pj": dict(self.energy_pj),
                "time_ns": self.time_ns, "clipped_columns": self.clipped,
                "rms_offset_before_mv": self.rms_v(False) * 1e3,
                "rms_offset_after_mv": self.rms_v(True) * 1e3,
                "max_abs_offset_after_mv": float(np.abs(self.offset_after_v).max() * 1e3)
                if self.columns.size else 0.0,
                "reload_bits_per_image": self.reload_bits_per_image,
                "reload_energy_pj_per_image": self.reload_energy_pj_per_image,
                "reload_time_ns_per_image": self.reload_time_ns_per_image,
                "by_layer": self.by_label(), "by_phase": self.by_phase(), "text": self.describe()}

    def describe(self) -> str:
        """One line for a terminal."""
        where = ""
        if self.phases > 1 or self.macros > 1:
            where = (f" in {self.phases} phase(s) on {self.macros} macro(s), {len(self.corrections)} "
                     "corrections")
        reload = ""
        if self.reload_bits_per_image:
            reload = (f"; reloaded with each rewrite: {self.reload_bits_per_image:,} register bits, "
                      f"{self.reload_energy_pj_per_image / 1e3:.2f} nJ per image")
        return (f"calibrated {self.columns.size} columns{where} ({self.settings.samples} conversions each, "
                f"{self.settings.bits}-b correction): rms offset {self.rms_v(False) * 1e3:.2f} -> "
                f"{self.rms_v(True) * 1e3:.2f} mV; once per chip {self.energy_total_pj / 1e3:.1f} nJ, "
                f"{self.time_ns / 1e3:.1f} us{reload}")


def targets_for(model: Model, chip: Chip, amap: ArrayMap | None = None, phase: int = 0,
                macro: int = 0) -> list[Target]:
    """One target per (layer, tile, invocation chunk) of the layers of `phase` held by `macro` (`chip`
    is that macro), in the order the network invokes them; a network of one phase on one macro: all."""
    amap = amap or place(model.layers, chip.config)
    out = []
    for li in amap.phase_layers(phase, macro):
        spec = model.layers[li]
        for t in amap.tiles_on(li, macro, phase):
            r0, r1 = spec.tiles[t]
            adc_lsb = chip.adc_lsb_for(model.adc_step[li], r1 - r0)
            for filters in amap.chunks[li][t]:
                out.append(Target(columns=np.asarray(amap.columns[li][t, filters]), n_rows=r1 - r0,
                                  adc_lsb=adc_lsb, label=spec.name))
    return out


def _pairs(amap: ArrayMap) -> list[tuple[int, int]]:
    """Every (phase, macro) holding layers, in the order the network runs them."""
    return [(p, m) for p in range(amap.phases) for m in range(amap.macros_used) if amap.phase_layers(p, m)]


def calibrate(chip: Chip, model: Model, amap: ArrayMap | None = None,
              settings: CalibrationSettings | None = None) -> CalibrationResult:
    """Calibrate every column `model` uses on `chip` (programmed with the first phase) and store the
    correction in the chip. A network in several phases or on several macros: every (phase, macro) with
    that phase's weights in that macro (see the module doc); `chip` ends holding the first phase's
    weights and correction, the result holds every (phase, macro)'s correction."""
    amap = amap or place(model.layers, chip.config)
    settings = settings or CalibrationSettings()
    if amap.phases == 1 and amap.macros_used == 1:
        return calibrate_columns(chip, targets_for(model, chip, amap), settings)
    chips = macro_chips(chip, amap)
    rngs = [np.random.default_rng([c.seed, CAL_STREAM]) for c in chips]
    parts, weight_writes = [], []
    for p, m in _pairs(amap):
        records = amap.program(chips[m], model, p, m)
        if p > 0:  # the first phase is written anyway (the caller, the evaluator, every image's rewrite)
            weight_writes += records
        parts.append(_measure(chips[m], targets_for(model, chips[m], amap, p, m), settings, rngs[m]))
    amap.program(chip, model, 0, 0)  # the first phase back in place (as the first image would write it)
    result = _result(chip.seed, settings, parts, _pairs(amap), amap.phases, amap.macros_used)
    chip.set_correction(result.corrections.get((0, 0), np.zeros(chip.config.columns)))
    result.energy_pj["write"] = result.energy_pj.get("write", 0.0) + sum(w.energy_pj for w in weight_writes)
    result.time_ns += sum(w.time_ns for w in weight_writes)
    return result


def calibrate_columns(chip: Chip, targets: Sequence[Target],
                      settings: CalibrationSettings | None = None) -> CalibrationResult:
    """Measure, quantise and store the offset correction of each target's columns (see the module doc).
    A correction already stored is cleared first: the chip is measured as fabricated."""
    settings = settings or CalibrationSettings()
    part = _measure(chip, targets, settings, np.random.default_rng([chip.seed, CAL_STREAM]))
    chip.set_correction(part.correction)
    return _result(chip.seed, settings, [part], [(0, 0)], 1, 1)


@dataclass
class _Part:
    """One chip's measurement at a set of targets (one (phase, macro))."""

    correction: np.ndarray  # per column of the chip, codes
    columns: np.ndarray
    labels: list[str]
    adc_lsb: np.ndarray
    measured: np.ndarray
    before: np.ndarray  # V
    after: np.ndarray  # V
    ledger: dict[str, float]
    time_ns: float
    invocations: int


def _measure(chip: Chip, targets: Sequence[Target], settings: CalibrationSettings,
             rng: np.random.Generator) -> _Part:
    """Zero input, K conversions per target, the mean quantised to the register: the chip's correction
    for these targets (the chip is left uncorrected; the caller stores it)."""
    cfg = chip.config
    chip.set_correction(None)
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
    columns = np.concatenate(cols_all) if cols_all else np.zeros(0, dtype=np.int64)
    adc_lsb = np.concatenate(lsbs) if lsbs else np.zeros(0)
    offset_before = np.concatenate(before) if before else np.zeros(0)
    gain = chip.adc_gain[chip.group_of(columns)]
    offset_after = offset_before - correction[columns] * adc_lsb / gain  # referred to the comparator
    conversions = int(columns.size * k)
    ledger["digital"] += conversions * energy.e("add")  # accumulating the K codes
    ledger["write"] += energy.write_energy_pj(columns.size * settings.bits)  # the correction registers
    time_ns += energy.write_time_ns(1) if columns.size else 0.0
    return _Part(correction=correction, columns=columns, labels=labels, adc_lsb=adc_lsb,
                 measured=np.concatenate(measured) if measured else np.zeros(0), before=offset_before,
                 after=offset_after, ledger=ledger, time_ns=time_ns, invocations=invocations)


def _result(seed: int, settings: CalibrationSettings, parts: list[_Part], pairs: list[tuple[int, int]],
            phases: int, macros: int) -> CalibrationResult:
    """The parts' measurements, costs added, as one result."""
    ledger = energy.empty_ledger()
    for part in parts:
        for name, v in part.ledger.items():
            ledger[name] += v
    columns = np.concatenate([p.columns for p in parts])
    stored = np.concatenate([p.correction[p.columns] for p in parts])
    where = [np.full((p.columns.size, 2), pm, dtype=np.int64) for p, pm in zip(parts, pairs, strict=True)]
    phase_macro = np.concatenate(where) if where else np.zeros((0, 2), dtype=np.int64)
    lo, hi = settings.limits
    return CalibrationResult(
        seed=seed, settings=settings, columns=columns,
        label=np.array([name for p in parts for name in p.labels], dtype=str),
        adc_lsb=np.concatenate([p.adc_lsb for p in parts]),
        measured=np.concatenate([p.measured for p in parts]), stored=stored,
        offset_before_v=np.concatenate([p.before for p in parts]),
        offset_after_v=np.concatenate([p.after for p in parts]),
        clipped=int(np.sum((stored <= lo) | (stored >= hi))),
        conversions=int(columns.size * settings.samples), invocations=sum(p.invocations for p in parts),
        energy_pj={k_: v for k_, v in ledger.items() if v}, time_ns=float(sum(p.time_ns for p in parts)),
        phase=phase_macro[:, 0], macro=phase_macro[:, 1],
        corrections={pm: p.correction for p, pm in zip(parts, pairs, strict=True)}, phases=phases,
        macros=macros)


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


def residual_offsets_v(chip: Chip, model: Model, amap: ArrayMap | None = None,
                       result: CalibrationResult | None = None) -> np.ndarray:
    """The static offset left at the comparator input of every array column, V (NaN where no column of
    `model` sits): the 'residual offset map'. One phase on one macro: one value per column of `chip`
    with its current correction (or `result`'s). Several phases or macros: phases x macros x columns
    values in that order (``result.flat_index()`` finds a calibrated column in it), each (phase,
    macro) with its weights in place and `result`'s correction for it (none without a result); macro 0
    is a copy of `chip` (same seed and knobs), which is left untouched."""
    amap = amap or place(model.layers, chip.config)
    cfg = chip.config
    if amap.phases == 1 and amap.macros_used == 1:
        chips, pairs = [chip], [(0, 0)]
    else:
        chips, pairs = macro_chips(Chip(cfg, chip.seed), amap), _pairs(amap)
    out = np.full((amap.phases, amap.macros_used, cfg.columns), np.nan)
    for p, m in pairs:
        if len(pairs) > 1:
            amap.program(chips[m], model, p, m)
        if result is not None:
            correction = result.corrections.get((p, m))
        else:
            correction = chip.correction if len(pairs) == 1 else None
        for tgt in targets_for(model, chips[m], amap, p, m):
            v = true_offset_v(chips[m], tgt)
            if correction is not None:
                g = chips[m].adc_gain[chips[m].group_of(tgt.columns)]
                v = v - correction[tgt.columns] * tgt.adc_lsb / g
            out[p, m, tgt.columns] = v
    return out.ravel()


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
