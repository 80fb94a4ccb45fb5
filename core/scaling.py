"""Scaling what-if: this design at another technology node, input and ADC resolution, or rows averaged.

For each point the chip's energy per inference is rebuilt from the 65 nm model, component by
component, with the coefficients of :data:`core.energy.BAND_TABLE` (each with its source):

- DAC and line energy: C.V^2, the capacitance scaled with the cell pitch (node / 65 nm), V the node's
  supply; DAC energy also grows with the input bits (ZigZag: 50 fF.B.VDD^2).
- Array drivers, switches and the digital periphery: the node's digital energy factor (Stillmaker and
  Baas 2017's energy-per-operation fits at the node's supply; core/energy.py, stillmaker_energy).
- ADC energy per conversion: a band over three models (ZigZag-IMC's formula; a floor plus the thermal
  limit on the Schreier-FoM envelope of Murmann's ADC survey; a Walden figure of merit), each anchored at
  the chip's own 65 nm, 7-b energy and used only for how it scales with bits and node.

Accuracy moves as well: each point's chip (:func:`scaled_config`) has the node's supply, DAC step
(the same full-scale fraction of the precharge), line capacitance (so kT/C) and mismatch (Pelgrom:
sigma ~ A_VT / sqrt(W L), with W L scaling as the node squared), and is run over Monte Carlo chips.
Rows averaged sets the paper's operating point (N rows, 16 columns) for energy per invocation and
TOPS/W; the network keeps its own tiles (25, 48 and up to 62 rows) for accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from convsram.core import baselines as digital_baselines
from convsram.core import energy
from convsram.core.config import ChipConfig, field_info
from convsram.core.energy import BAND_TABLE
from convsram.core.stats import wilson

NODES = (65, 45, 28, 22, 7)  # nm
REFERENCE_NODE = 65
ADC_MODELS = ("zigzag", "murmann", "walden")
PAPER_COLUMNS = 16  # columns evaluated per invocation at the paper's operating point [paper]
MEAN_RELU_STEPS = 4.15  # ramp steps per conversion at the paper's point (core/energy.py, adc_step)


def _span(kind: str, node: int) -> energy.Span:
    key = f"{kind}_{node}nm"
    if key not in BAND_TABLE:
        raise ValueError(f"no {kind} figure for {node} nm; nodes: {', '.join(map(str, NODES))}")
    return BAND_TABLE[key]


def vdd(node: int, which: str = "nominal") -> float:
    return _span("vdd", node).at(which)


def digital_factor(node: int, which: str = "nominal") -> float:
    """Energy per digital operation at `node` relative to 65 nm (its supply included)."""
    return _span("digital", node).at(which)


def mismatch_factor(node: int) -> float:
    """Transistor mismatch in volts relative to 65 nm: A_VT ratio x (65 / node) for a layout
    scaled with the node (W L ~ node^2) [derived, Pelgrom]."""
    return _span("avt", node).nominal / _span("avt", REFERENCE_NODE).nominal * REFERENCE_NODE / node


def cap_factor(node: int) -> float:
    """Line capacitance relative to 65 nm (wire-dominated, scales with the cell pitch)."""
    return BAND_TABLE["line_cap_trend"].nominal * node / REFERENCE_NODE


def adc_energy_models(node: int, bits: int, which: str = "nominal") -> dict[str, float]:
    """Energy per conversion (pJ) of each published model at `node`, `bits` (unanchored)."""
    v = vdd(node, which)
    zz = (BAND_TABLE["zigzag_adc_lin"].nominal * bits + BAND_TABLE["zigzag_adc_exp"].nominal * 4.0**bits) \
        * v * v * 1e-3  # fF.V^2 -> pJ
    sndr = 6.02 * bits + 1.76
    thermal = 10 ** ((sndr - BAND_TABLE["murmann_fom_s"].nominal) / 10) / 2 * 1e12  # J -> pJ
    d = digital_factor(node, which)
    murmann = BAND_TABLE["murmann_floor_65nm"].nominal * 1e-3 * d + thermal
    walden = BAND_TABLE["walden_fom_65nm"].nominal * 1e-3 * d * 2.0**bits
    return {"zigzag": zz, "murmann": murmann, "walden": walden}


def adc_ratios(node: int, bits: int, which: str = "nominal") -> dict[str, float]:
    """Each model's ADC energy relative to its own 65 nm, 7-b value (the chip's anchor)."""
    ref = adc_energy_models(REFERENCE_NODE, 7, "nominal")
    now = adc_energy_models(node, bits, which)
    return {m: now[m] / ref[m] for m in ADC_MODELS}


def component_factors(node: int, input_bits: int, adc_bits: int, which: str = "nominal") -> dict[str, float]:
    """Multipliers of the 65 nm, 7-b energy of each component (dac, array, adc, digital, fetch).
    `which` picks the band's edge: the supply and digital factor at that edge, and for the ADC the
    lowest, median or highest of the three models."""
    v_ratio = vdd(node, which) / vdd(REFERENCE_NODE)
    ratios = sorted(adc_ratios(node, adc_bits, which).values())
    adc = {"low": ratios[0], "nominal": ratios[1], "high": ratios[2]}[which]
    d = digital_factor(node, which)
    return {"dac": v_ratio**2 * cap_factor(node) * input_bits / 7, "array": d, "adc": adc, "digital": d,
            "fetch": d}


def scaled_config(base: ChipConfig, node: int, input_bits: int | None = None,
                  adc_bits: int | None = None) -> ChipConfig:
    """`base` (a 65 nm chip) moved to `node`: supply, precharge and DAC step with the supply (the same
    full-scale fraction at any input bits), line capacitance with the cell pitch, mismatch by Pelgrom
    scaling, thermal noise of the comparator with 1/sqrt(C). Fields with no scaling rule are kept."""
    b_in = base.input_bits if input_bits is None else input_bits
    b_adc = base.adc_bits if adc_bits is None else adc_bits
    v = vdd(node) / base.vdd
    dac_lsb = base.dac_lsb * v * (2**base.input_bits - 1) / (2**b_in - 1)
    pel, cap = mismatch_factor(node), cap_factor(node)
    cap_mm = (REFERENCE_NODE / node) ** BAND_TABLE["cap_mismatch_trend"].nominal
    changes: dict[str, Any] = {"vdd": vdd(node), "v_precharge": base.v_precharge * v, "dac_lsb": dac_lsb,
                               "c_line": base.c_line * cap, "input_bits": b_in, "adc_bits": b_adc}
    for name in ChipConfig.NONIDEALITIES:
        value = getattr(base, name)
        if isinstance(value, bool) or not value:
            continue
        info = field_info(name)
        unit, kind = info["unit"], info["kind"]
        if name == "cap_mismatch_sigma":
            scaled = value * cap_mm
        elif kind == "noise" and unit == "V":
            scaled = value / math.sqrt(cap)  # thermal: sqrt(kT / C) with C ~ node
        elif unit == "V" or unit == "fraction":
            scaled = value * pel
        elif unit == "LSB" and "offset" in name:
            scaled = value * pel * base.dac_lsb / dac_lsb  # volts scale by pel; the LSB shrinks
        else:
            continue  # INL in LSB and anything without a rule: kept
        changes[name] = float(min(scaled, info["max"]))
    return base.with_(**changes)


def paper_point_energy(config: ChipConfig, rows: int) -> dict[str, float]:
    """Energy (pJ) per invocation at the paper's operating point with `rows` rows averaged: 16 columns,
    random inputs (mean code half of full scale), mean ReLU ramp of 4.15 steps; 65 nm constants."""
    dv = rows * (config.max_input / 2) * config.dac_lsb
    return energy.energy_total(config, rows, 1, dv, PAPER_COLUMNS, PAPER_COLUMNS * MEAN_RELU_STEPS)


@dataclass(frozen=True)
class Point:
    """One what-if point: energy band, efficiency and accuracy over Monte Carlo chips."""

    node_nm: int
    vdd_v: float
    input_bits: int
    adc_bits: int
    rows: int
    energy_per_image_nj: tuple[float, float, float]  # low, nominal, high
    energy_per_invocation_pj: tuple[float, float, float]
    tops_per_w: tuple[float, float, float]  # at the paper's point (rows x 16 columns): low, nominal, high
    adc_pj_per_conversion: dict[str, float]  # each model anchored at the chip's 65 nm, 7-b energy
    fairest_saving: float  # vs the weight-stationary datapath at the same node, input fetch to both
    ktc_mv: float  # kT/C rms per line at `rows` rows
    signal_uv: float  # one unit of sum(w*x) on the lines at `rows` rows
    mismatch_x: float  # transistor mismatch in volts relative to 65 nm
    chips: int
    images: int
    accuracy_mean: float
    accuracy_p5: float
    accuracy_ci95: tuple[float, float]  # of the mean, all chips' images pooled

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, tuple | list) and len(v) == 3:
                out.update({f"{k}_low": v[0], f"{k}_nominal": v[1], f"{k}_high": v[2]})
            elif isinstance(v, tuple | list) and len(v) == 2:
                out.update({f"{k}_low": v[0], f"{k}_high": v[1]})
            elif isinstance(v, dict):
                out.update({f"adc_pj_{m}": x for m, x in v.items()})
            else:
                out[k] = v
        return out


def columns() -> list[str]:
    """CSV header: Point.row()'s keys in order."""
    dummy = Point(0, 0.0, 0, 0, 0, (0, 0, 0), (0, 0, 0), (0, 0, 0), dict.fromkeys(ADC_MODELS, 0.0), 0.0,
                  0.0, 0.0, 0.0, 0, 0, 0.0, 0.0, (0.0, 0.0))
    return list(dummy.row())


@dataclass(frozen=True)
class Grid:
    nodes: Sequence[int] = NODES
    input_bits: Sequence[int] = (7,)
    adc_bits: Sequence[int] = (7,)
    rows: Sequence[int] = (50,)

    def points(self) -> list[tuple[int, int, int, int]]:
        return [(n, bi, ba, r) for n in self.nodes for bi in self.input_bits for ba in self.adc_bits
                for r in self.rows]

    def check(self, base: ChipConfig) -> None:
        """Every value valid before any work: one line saying what is wrong."""
        for n in self.nodes:
            if n not in NODES:
                raise ValueError(f"node {n} nm has no coefficients; choose from {', '.join(map(str, NODES))}")
        for name, values in (("input_bits", self.input_bits), ("adc_bits", self.adc_bits)):
            lo, hi = field_info(name)["min"], field_info(name)["max"]
            for v in values:
                if not lo <= v <= hi:
                    raise ValueError(f"{name} must be in {lo}..{hi}, got {v}")
        for r in self.rows:
            if not 1 <= r <= base.rows:
                raise ValueError(f"rows averaged must be in 1..{base.rows} (the array's rows), got {r}")
        for n, bi, ba, _ in self.points():
            scaled_config(base, n, bi, ba)  # raises a ValueError naming the field if out of range


def run(base: ChipConfig, model: Any, images: np.ndarray, labels: np.ndarray, grid: Grid, chips: int,
        first_seed: int = 0, progress: Callable[[int], None] | None = None) -> list[Point]:
    """Evaluate every grid point over `chips` seeds (first_seed ...) on `images`; `progress(n)` is told
    of each chip done. Deterministic: every draw comes from the seeds."""
    from convsram.core.evaluate import evaluate

    grid.check(base)
    ref = evaluate(model, images, labels, base.idealised(), first_seed)  # energy at 65 nm, base bits
    ref_parts = {k: ref["energy_breakdown_pj"][k] for k in ("dac", "array", "adc", "digital")}
    work = digital_baselines.work_of(model)
    fetch_65 = digital_baselines.input_fetch_note(work)["chip_input_fetch_pj"]
    ws = digital_baselines.fairest()
    ref_inv = paper_point_energy(base.idealised(), 50)
    out = []
    for node, b_in, b_adc, rows in grid.points():
        cfg = scaled_config(base, node, b_in, b_adc)
        # rows change the paper point's counts; the node's factors scale each 65 nm component
        here = paper_point_energy(base.idealised(), rows)
        band, inv_band = [], []
        for which in digital_baselines.WHICH:
            f = component_factors(node, b_in, b_adc, which)
            band.append(sum(ref_parts[k] * f[k] for k in ref_parts) / 1e3)
            inv_band.append(sum(here[k] * f[k] for k in ("dac", "array", "adc")))
        f = component_factors(node, b_in, b_adc)
        chip_cmp = band[1] * 1e3 + fetch_65 * f["fetch"]
        ws_pj = ws.energy_pj(work, ref_parts["digital"]) * f["digital"]  # all of it digital: one factor
        accs, correct = [], 0
        for seed in range(first_seed, first_seed + chips):
            r = evaluate(model, images, labels, cfg, seed)
            accs.append(r["accuracy"])
            correct += r["correct"]
            if progress:
                progress(1)
        n_total = chips * len(images)
        ops = 2.0 * rows * PAPER_COLUMNS  # per invocation at the paper's point
        anchor = ref_inv["adc"] / PAPER_COLUMNS
        out.append(Point(
            node_nm=node, vdd_v=cfg.vdd, input_bits=b_in, adc_bits=b_adc, rows=rows,
            energy_per_image_nj=(band[0], band[1], band[2]),
            energy_per_invocation_pj=(inv_band[0], inv_band[1], inv_band[2]),
            tops_per_w=(ops / inv_band[2], ops / inv_band[1], ops / inv_band[0]),
            adc_pj_per_conversion={m: anchor * x for m, x in adc_ratios(node, b_adc).items()},
            fairest_saving=ws_pj / chip_cmp,
            ktc_mv=cfg.ktc_sigma(rows) * 1e3, signal_uv=cfg.dac_lsb / rows * 1e6,
            mismatch_x=mismatch_factor(node), chips=chips, images=len(images),
            accuracy_mean=float(np.mean(accs)), accuracy_p5=float(np.percentile(accs, 5)),
            accuracy_ci95=wilson(correct, n_total)))
    return out
