"""Energy and time model: counts of actions times energy per action, from one table.

Every entry of :data:`ENERGY_TABLE` and :data:`TIME_TABLE` names its source. The chip's published
56.94 pJ per invocation [paper] is split into DAC, array and ADC with the ZigZag in-memory-computing
cost model's formulas, quoted next to the entries below: about 25 pJ for the DACs and 16.5 pJ for the
ADCs at 50 rows, 16 columns and 7 b, the remaining 15 pJ for the array and control. How each part
scales with the work (rows, columns, voltage swing, ramp steps) is [assumed]. At that operating point
(random 7-b inputs) the table gives the published energy and 150 ns within 10 %
(tests/test_energy.py; README, "The chip model").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convsram.core.config import ChipConfig

COMPONENTS = ("dac", "array", "adc", "digital", "write")


@dataclass(frozen=True)
class Entry:
    value: float
    unit: str
    source: str


ENERGY_TABLE: dict[str, Entry] = {
    # DAC: 25 pJ for 50 rows at the paper's point = 0.50 pJ per row per conversion
    # (ZigZag: 50 fF x B x VDD^2 = 0.504 pJ at B = 7, 1.2 V), split into a fixed part and a
    # recharge of the row line proportional to the code.
    "dac_fixed": Entry(0.30, "pJ per active row", "[assumed] bias + reference of one row DAC; with "
                       "dac_row_cap gives ZigZag's 50 fF.B.VDD^2 = 0.50 pJ/row at mid-scale"),
    "dac_row_cap": Entry(0.875, "pF per row line", "[assumed] row line recharged by C.VDD.dV; 0.20 pJ at "
                         "the mean drop of 63.5 codes x 3 mV"),
    # Array: 15 pJ for 50 rows x 16 columns at the paper's point.
    "wordline": Entry(0.10, "pJ per active row", "[assumed] word-line / steering-switch drive, shared by "
                      "the row's columns (5 pJ of the 15 pJ array share at 50 rows)"),
    "column": Entry(0.64, "pJ per active column", "[assumed] precharge, share switches and control of one "
                    "column pair (10.2 pJ of the 15 pJ array share at 16 columns)"),
    # line recharge: c_line (ChipConfig) x VDD x dV per segment, computed from the config
    # ADC: 16.5 pJ for 16 conversions = 1.03 pJ each (ZigZag: (100 fF.B + 0.001 fF.4^B).VDD^2 at B = 7).
    "adc_fixed": Entry(0.80, "pJ per conversion", "[assumed] comparator sign decision, counter reset and "
                       "readout of one integrating conversion"),
    "adc_step": Entry(0.055, "pJ per ramp step", "[assumed] one ramp step + counter increment; with "
                      "adc_fixed gives ZigZag's 1.03 pJ at the paper point's mean of 4.15 steps (ReLU)"),
    # Digital periphery (off-array): Horowitz ISSCC 2014, 45 nm / 0.9 V, x2.6 for 65 nm / 1.2 V [derived].
    "add": Entry(0.08, "pJ per 8-b add", "[derived] Horowitz 2014 0.03 pJ x 2.6 (65 nm, 1.2 V)"),
    "mult": Entry(0.5, "pJ per 8-b multiply", "[derived] Horowitz 2014 0.2 pJ x 2.6 (65 nm, 1.2 V)"),
    "compare": Entry(0.08, "pJ per 8-b compare", "[assumed] same as an 8-b add (max-pooling, argmax)"),
    "sram_read32": Entry(13.0, "pJ per 32-b read of 8 KB SRAM", "[derived] Horowitz 2014 5 pJ x 2.6"),
    "dram_read32": Entry(1700.0, "pJ per 32-b DRAM access", "[derived] Horowitz 2014 640 pJ x 2.6"),
    # Weight writes into the Conv-SRAM array.
    "write_bit": Entry(0.41, "pJ per bit written", "[assumed] equal to a read bit of an 8 KB SRAM: "
                       "13 pJ / 32 b [derived, Horowitz 2014 x 2.6]"),
    # A small microcontroller doing the same MACs in software.
    "mcu_cycle": Entry(10.0, "pJ per cycle", "[assumed] 65 nm Cortex-M0-class core, about 10 uW/MHz"),
}

TIME_TABLE: dict[str, Entry] = {
    # 150 ns per invocation [paper]; its split into phases is [assumed].
    "dac": Entry(20.0, "ns", "[assumed] DAC settling of the row lines"),
    "share": Entry(20.0, "ns", "[assumed] steering and charge sharing on the column lines"),
    "sign": Entry(5.0, "ns", "[assumed] comparator sign decision"),
    "ramp_step": Entry(0.8, "ns per step", "[assumed] integrating ADC clock; full scale 127 steps"),
    "readout": Entry(3.4, "ns", "[assumed] code latch; phases sum to the paper's 150 ns at 7 b"),
    "write_row": Entry(5.0, "ns per row written", "[assumed] one 256-bit word-line write cycle"),
}

PAPER_ENERGY_PJ = 56.94  # per invocation at N = 50, 16 columns, 7 b [paper, ISSCC 2018]
PAPER_TIME_NS = 150.0  # per invocation [paper]


def e(name: str) -> float:
    return ENERGY_TABLE[name].value


def t(name: str) -> float:
    return TIME_TABLE[name].value


def invocation_time_ns(config: ChipConfig) -> float:
    """Time of one invocation: synchronous phases with a full-scale ramp budget [assumed]."""
    return t("dac") + t("share") + t("sign") + config.max_code * t("ramp_step") + t("readout")


def _components(config: ChipConfig, n_rows: int, count: int | np.ndarray, dv: float | np.ndarray,
                n_columns: int, steps: float | np.ndarray) -> dict[str, float | np.ndarray]:
    """The energy model (pJ) for `count` invocations with total row drop dv (V) and ramp steps."""
    dac = count * n_rows * e("dac_fixed") + e("dac_row_cap") * config.vdd * dv
    # every row discharges exactly one segment (P or N side) in every evaluated column
    line = config.c_line * 1e12 * config.vdd * dv * n_columns
    array = count * (n_rows * e("wordline") + n_columns * e("column")) + line
    adc = count * n_columns * e("adc_fixed") + e("adc_step") * steps
    zero = np.zeros_like(dv) if isinstance(dv, np.ndarray) else 0.0
    return {"dac": dac, "array": array, "adc": adc, "digital": zero, "write": zero}


def energy_each(config: ChipConfig, n_rows: int, dv: np.ndarray, n_columns: int,
                steps: np.ndarray) -> dict[str, np.ndarray]:
    """Energy (pJ) of each invocation of a batch, per component: arrays of shape (batch,).

    n_rows: active rows. dv: each invocation's total DAC voltage drop over its rows, shape (batch,),
    volts. n_columns: columns evaluated in each. steps: ADC codes (ramp steps = |code|), shape
    (batch, n_columns).
    """
    parts = _components(config, n_rows, 1, np.asarray(dv, float), n_columns, np.abs(steps).sum(axis=1))
    return {name: np.asarray(v) for name, v in parts.items()}


def energy_total(config: ChipConfig, n_rows: int, batch: int, dv_total: float, n_columns: int,
                 steps_total: float) -> dict[str, float]:
    """Energy (pJ) of `batch` invocations summed, from totals (same model as :func:`energy_each`).

    dv_total: DAC voltage drops summed over rows and invocations, V. steps_total: sum of |code|.
    """
    return {k: float(v) for k, v in _components(config, n_rows, batch, dv_total, n_columns,
                                                steps_total).items()}


def invocation_energy(config: ChipConfig, dv_rows: np.ndarray, n_columns: int,
                      steps: np.ndarray) -> dict[str, float]:
    """Energy (pJ) of a batch of invocations (dv_rows: (batch, n_rows) drops, V), summed."""
    each = energy_each(config, dv_rows.shape[1], dv_rows.sum(axis=1), n_columns, steps)
    return {k: float(v.sum()) for k, v in each.items()}


def write_energy_pj(bits: int) -> float:
    return bits * e("write_bit")


def write_time_ns(rows_written: int) -> float:
    return rows_written * t("write_row")


def empty_ledger() -> dict[str, float]:
    return dict.fromkeys(COMPONENTS, 0.0)


# --- digital baselines ----------------------------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    name: str
    pj_per_mac: float
    how: str


def baselines(fanout: int = 16) -> list[Baseline]:
    """Digital designs doing the same 7b x 1b MACs, each per MAC (pJ), at 65 nm [derived/assumed].

    fanout: MACs sharing one input fetch (the chip broadcasts one input to 16 columns).
    """
    input_fetch = e("sram_read32") / 4 / fanout  # 8-b input, 4 per 32-b word, reused `fanout` times
    return [
        Baseline("binary-weight digital datapath (SRAM)",
                 e("add") + e("sram_read32") / 32 + input_fetch,
                 "one 8-b add/subtract per MAC, 1 weight bit and the input read from an 8 KB SRAM "
                 "[derived: Horowitz 2014 scaled to 65 nm]"),
        Baseline("8-b multiply-accumulate datapath (SRAM)",
                 e("mult") + e("add") + e("sram_read32") / 4 + input_fetch,
                 "8-b multiply + add per MAC, 8-b weights and inputs from an 8 KB SRAM "
                 "[derived: Horowitz 2014 scaled to 65 nm]"),
        Baseline("microcontroller core",
                 3 * e("mcu_cycle"),
                 "3 cycles per MAC (load, multiply-accumulate, loop) on a 65 nm Cortex-M0-class core "
                 "[assumed: 10 pJ/cycle]"),
    ]


def savings(energy_pj: float, macs: float) -> list[dict[str, float | str]]:
    """Energy of each baseline for `macs` MACs and the chip's saving factor against it."""
    out: list[dict[str, float | str]] = []
    for b in baselines():
        base = b.pj_per_mac * macs
        out.append({"baseline": b.name, "baseline_pj": base, "chip_pj": energy_pj,
                    "saving_x": base / energy_pj if energy_pj else float("inf"), "how": b.how})
    return out


def tops_per_w(macs: float, energy_pj: float) -> float:
    """Throughput efficiency counting 2 ops per MAC: ops / pJ = TOPS/W."""
    return 2.0 * macs / energy_pj if energy_pj else 0.0
