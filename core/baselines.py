"""Digital baselines for the network the chip runs: energy, latency and accuracy per inference.

Each baseline does the same inference (the same MACs, the same requantisation, pooling and argmax)
with its own assumptions, listed next to its numbers. Data movement is charged the same way to both
sides: by default every baseline and the chip pay for reading their input codes from an 8 KB SRAM,
one read per code the chip's DACs load (29,600 per LeNet image: every row of every tile position);
``input_fetch=False`` charges it to neither. The digital periphery (adding tile codes,
requantising, pooling, argmax; :func:`core.inference.digital_energy_pj`) is charged to the chip and
to the datapaths alike; a microcontroller does it in its own cycles. Weights written once per chip
(the chip's array, baseline (b)'s latches) are left out of both.

Figures the sources disagree on are :class:`core.energy.Span` ranges (core/energy.py, BAND_TABLE);
every saving carries the name of its baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from convsram.core.energy import BAND_TABLE, Span
from convsram.core.network import Model, op_counts
from convsram.core.stats import wilson

WHICH = ("low", "nominal", "high")
DATAPATH_LANES = 16  # MAC lanes of the digital datapaths [assumed: the chip's 16 parallel dot products]
DATAPATH_CLOCK_HZ = 200e6  # [assumed] a 65 nm standard-cell datapath clock


@dataclass(frozen=True)
class Work:
    """One inference's work: MACs, input codes loaded into the DACs, and digital periphery ops."""

    macs: int
    input_codes: int
    digital_ops: int


def work_of(model: Model) -> Work:
    """The network's work per image: every tile position loads its rows' codes once (the tile's
    column chunks share them), so input codes = sum over layers of positions x rows."""
    counts = op_counts(model)
    codes = sum(c.positions * spec.rows for c, spec in zip(counts, model.layers, strict=True))
    return Work(macs=sum(c.macs for c in counts), input_codes=codes,
                digital_ops=sum(c.digital_ops for c in counts))


@dataclass(frozen=True)
class Baseline:
    """A digital design running the same network; energy from per-MAC or per-cycle figures."""

    key: str
    name: str
    precision: str
    assumptions: tuple[str, ...]
    per_mac: str | None = None  # BAND_TABLE key (datapaths)
    cycles_per_mac: str | None = None  # BAND_TABLE keys (microcontrollers)
    pj_per_cycle: str | None = None
    clock_hz: float = DATAPATH_CLOCK_HZ
    memories_included: bool = False  # whole-MCU figures include the SRAM the inputs come from
    in_app: bool = True  # listed in the app's energy panel
    short_name: str = ""  # a shorter name for narrow screens (the app's panel); the name if empty

    @property
    def short(self) -> str:
        return self.short_name or self.name

    @property
    def is_mcu(self) -> bool:
        return self.cycles_per_mac is not None

    def spans(self) -> list[tuple[str, Span]]:
        keys = [k for k in (self.per_mac, self.cycles_per_mac, self.pj_per_cycle) if k]
        if self.is_mcu:
            keys.append("mcu_cycles_per_op")
        return [(k, BAND_TABLE[k]) for k in keys]

    def cycles(self, work: Work, which: str = "nominal") -> float:
        assert self.cycles_per_mac is not None
        return (work.macs * BAND_TABLE[self.cycles_per_mac].at(which)
                + work.digital_ops * BAND_TABLE["mcu_cycles_per_op"].at(which))

    def energy_pj(self, work: Work, periphery_pj: float, which: str = "nominal",
                  input_fetch: bool = True) -> float:
        """Energy (pJ) of one inference; `which` picks every figure's low, nominal or high value."""
        fetch = work.input_codes * BAND_TABLE["input_code_read"].nominal if input_fetch else 0.0
        if self.is_mcu:
            assert self.pj_per_cycle is not None
            core = self.cycles(work, which) * BAND_TABLE[self.pj_per_cycle].at(which)
            return core if self.memories_included else core + fetch
        assert self.per_mac is not None
        return work.macs * BAND_TABLE[self.per_mac].at(which) + periphery_pj + fetch

    def latency_ns(self, work: Work, which: str = "nominal") -> float:
        """Time of one inference (ns): datapaths run their MACs on 16 lanes; cores run every cycle."""
        if self.is_mcu:
            return self.cycles(work, which) / self.clock_hz * 1e9
        return math.ceil(work.macs / DATAPATH_LANES) / self.clock_hz * 1e9

    def describe(self) -> list[str]:
        """The assumptions and every figure with its range and source."""
        lines = list(self.assumptions)
        for key, s in self.spans():
            lines.append(f"{key}: {s.nominal:g} {s.unit} (range {s.low:g}-{s.high:g}) {s.source}")
        return lines


_FETCH = ("input codes read from an 8 KB SRAM, one read per code the chip loads: charged to the chip "
          "as well")
_SAME_NET = "runs the same binary-weight network exactly: accuracy of the exact integer path"

BASELINES: tuple[Baseline, ...] = (
    Baseline("bw_sram", "binary-weight digital datapath with SRAM weights", "7-b inputs x 1-b weights",
             ("16 MAC lanes at 200 MHz [assumed]", "one add/subtract per MAC, the weight bit read from "
              "an 8 KB SRAM every MAC", _FETCH, "the same digital periphery as the chip", _SAME_NET),
             per_mac="bw_sram_mac", short_name="binary-weight datapath, SRAM weights"),
    Baseline("ws_latch", "weight-stationary binary-weight datapath", "7-b inputs x 1-b weights",
             ("16 MAC lanes at 200 MHz [assumed]", "weights held in latches next to each lane (written "
              "once, like the chip's array), 16-b accumulators", _FETCH,
              "the same digital periphery as the chip", _SAME_NET),
             per_mac="ws_mac", short_name="weight-stationary datapath"),
    Baseline("mac8_sram", "8-b MAC datapath with SRAM weights", "8-b x 8-b (a different precision)",
             ("16 MAC lanes at 200 MHz [assumed]", "8-b multiply and add per MAC, 8-b weights read "
              "from an 8 KB SRAM", _FETCH, "the same digital periphery as the chip",
              "a different precision: it could run an 8-b-weight network (binary weights cost about "
              "1-2 points [paper]); accuracy shown is the binary network's, which it runs exactly"),
             per_mac="mac8_sram", short_name="8-b MAC datapath, SRAM weights"),
    Baseline("m0p_core", "Cortex-M0+ core (CMSIS-NN-style kernels, core only)", "8-b software",
             ("48 MHz [assumed]", "core energy only: excludes flash, SRAM and clocks; the input fetch "
              "is added as for the chip", "requantise, pool and argmax in its own cycles", _SAME_NET),
             cycles_per_mac="m0p_cycles_per_mac", pj_per_cycle="m0p_core_pj_cycle", clock_hz=48e6,
             in_app=False),
    Baseline("m0p_mcu", "Cortex-M0+ microcontroller (CMSIS-NN-style kernels, whole MCU)", "8-b software",
             ("48 MHz [assumed]", "whole-MCU run energy: core, flash, SRAM (so the input fetch), clocks, "
              "regulator; the chip's figure has no regulator or clock tree",
              "requantise, pool and argmax in its own cycles", _SAME_NET),
             cycles_per_mac="m0p_cycles_per_mac", pj_per_cycle="m0p_mcu_pj_cycle", clock_hz=48e6,
             memories_included=True, in_app=False),
    Baseline("m4_core", "Cortex-M4 core (CMSIS-NN kernels, core only)", "8-b software (SIMD)",
             ("80 MHz [assumed]", "core energy only: excludes flash, SRAM and clocks; the input fetch is "
              "added as for the chip", "requantise, pool and argmax in its own cycles", _SAME_NET),
             cycles_per_mac="m4_cycles_per_mac", pj_per_cycle="m4_core_pj_cycle", clock_hz=80e6,
             short_name="Cortex-M4 core (core only)"),
    Baseline("m4_mcu", "Cortex-M4 microcontroller (CMSIS-NN kernels, whole MCU)", "8-b software (SIMD)",
             ("80 MHz [assumed]", "whole-MCU run energy: core, flash, SRAM (so the input fetch), clocks, "
              "regulator; the chip's figure has no regulator or clock tree",
              "requantise, pool and argmax in its own cycles", _SAME_NET),
             cycles_per_mac="m4_cycles_per_mac", pj_per_cycle="m4_mcu_pj_cycle", clock_hz=80e6,
             memories_included=True, in_app=False),
)
FAIREST_KEY = "ws_latch"


def by_key(key: str) -> Baseline:
    for b in BASELINES:
        if b.key == key:
            return b
    raise KeyError(key)


def fairest() -> Baseline:
    """The fairest baseline: the same precision and the same data movement as the chip, with its
    weights kept next to the arithmetic (weight-stationary). The demo's one big figure uses it."""
    return by_key(FAIREST_KEY)


def chip_energy_pj(chip_array_pj: float, periphery_pj: float, work: Work, input_fetch: bool = True) -> float:
    """The chip's side of a comparison: DAC + array + ADC, digital periphery and (by default) the
    same input fetch as the baselines (pJ per image)."""
    fetch = work.input_codes * BAND_TABLE["input_code_read"].nominal if input_fetch else 0.0
    return chip_array_pj + periphery_pj + fetch


def saving(b: Baseline, chip_array_pj: float, periphery_pj: float, work: Work,
           which: str = "nominal", input_fetch: bool = True) -> float:
    """Baseline energy / chip energy for the same inference (both charged alike)."""
    chip = chip_energy_pj(chip_array_pj, periphery_pj, work, input_fetch)
    return b.energy_pj(work, periphery_pj, which, input_fetch) / chip if chip > 0 else math.inf


def saving_text(b: Baseline, factor: float) -> str:
    """'2.1x less energy than a weight-stationary ...': never a factor without its baseline."""
    verdict = f"{factor:.1f}x less" if factor >= 1 else f"{1 / factor:.1f}x more"
    return f"{verdict} energy than {article(b.name)} {b.name}"


def article(noun: str) -> str:
    """'a' or 'an' before a baseline's name (an 8-b ...)."""
    return "an" if noun[:1].lower() in "aeio8" else "a"


def fairest_saving(chip_array_pj: float, periphery_pj: float, work: Work) -> tuple[float, str]:
    """The demo's one figure: (factor, its text naming the baseline), input fetch charged to both."""
    b = fairest()
    x = saving(b, chip_array_pj, periphery_pj, work)
    return x, saving_text(b, x)


def fairest_saving_per_image(model: Model, energy_pj: dict[str, float]) -> tuple[float, str]:
    """The demo's one figure from one image's energy by component (pJ: 'dac', 'array', 'adc',
    'digital'; others such as the one-time 'write' are left out): (factor, text naming the baseline)."""
    array = sum(energy_pj.get(k, 0.0) for k in ("dac", "array", "adc"))
    return fairest_saving(array, energy_pj.get("digital", 0.0), work_of(model))


def compare(chip_array_pj: float, periphery_pj: float, chip_time_ns: float, work: Work,
            exact_correct: int, images: int, input_fetch: bool = True) -> list[dict[str, Any]]:
    """Every baseline next to the chip: energy, latency, accuracy and saving (each with its range)."""
    chip = chip_energy_pj(chip_array_pj, periphery_pj, work, input_fetch)
    chip_without = chip_energy_pj(chip_array_pj, periphery_pj, work, False)
    acc = exact_correct / images if images else 0.0
    rows = []
    for b in BASELINES:
        energies = {w: b.energy_pj(work, periphery_pj, w, input_fetch) for w in WHICH}
        latency = {w: b.latency_ns(work, w) for w in WHICH}
        rows.append({
            "key": b.key,
            "name": b.name,
            "precision": b.precision,
            "energy_per_image_pj": energies["nominal"],
            "energy_range_pj": [energies["low"], energies["high"]],
            "saving": energies["nominal"] / chip,
            "saving_range": [energies["low"] / chip, energies["high"] / chip],
            "saving_without_input_fetch": b.energy_pj(work, periphery_pj, "nominal", False) / chip_without,
            "latency_per_image_ns": latency["nominal"],
            "latency_range_ns": [min(latency.values()), max(latency.values())],
            "speedup_of_chip": latency["nominal"] / chip_time_ns if chip_time_ns else math.inf,
            "accuracy": acc,
            "accuracy_ci95": list(wilson(exact_correct, images)),
            "text": saving_text(b, energies["nominal"] / chip),
            "assumptions": b.describe(),
            "fairest": b.key == FAIREST_KEY,
        })
    return rows


def input_fetch_note(work: Work, input_fetch: bool = True) -> dict[str, Any]:
    """What the comparison charges for moving inputs, for the report and eval --json."""
    s = BAND_TABLE["input_code_read"]
    return {"charged_to": "both" if input_fetch else "neither", "codes_per_image": work.input_codes,
            "pj_per_code": s.nominal, "source": s.source,
            "chip_input_fetch_pj": work.input_codes * s.nominal if input_fetch else 0.0}
