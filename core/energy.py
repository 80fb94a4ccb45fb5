"""Energy and time model: counts of actions times energy per action, from one table.

Every entry of :data:`ENERGY_TABLE` and :data:`TIME_TABLE` names its source. The chip's published
56.94 pJ per invocation [paper] is split into DAC, array and ADC with the ZigZag in-memory-computing
cost model's formulas, quoted next to the entries below: about 25 pJ for the DACs and 16.5 pJ for the
ADCs at 50 rows, 16 columns and 7 b, the remaining 15 pJ for the array and control. How each part
scales with the work (rows, columns, voltage swing, ramp steps) is [assumed]. At that operating point
(random 7-b inputs) the table gives the published energy and 150 ns within 10 %
(tests/test_energy.py; README, "The chip model").

:data:`BAND_TABLE` holds the figures the sources disagree on, each a :class:`Span` (low, nominal,
high) with its source: the digital baselines' per-MAC and per-cycle energies (core/baselines.py) and
the scaling what-if's node, ADC-model and mismatch coefficients (core/scaling.py).
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


# --- figures with a range: digital baselines and the scaling what-if ---------------------------
@dataclass(frozen=True)
class Span:
    """A figure the sources disagree on: low, nominal and high value in one unit, with its source."""

    low: float
    nominal: float
    high: float
    unit: str
    source: str

    def at(self, which: str) -> float:
        """'low', 'nominal' or 'high'."""
        return float(getattr(self, which))


# Digital baselines (core/baselines.py), per MAC at 65 nm / 1.2 V unless the unit says otherwise.
_H = "Horowitz ISSCC 2014 (45 nm, 0.9 V) x 2.6 for 65 nm / 1.2 V"
BAND_TABLE: dict[str, Span] = {
    "input_code_read": Span(1.6, 3.25, 3.25, "pJ per 8-b input code read",
                            f"[derived] a quarter of a 32-b read of an 8 KB SRAM, 13 pJ ({_H}); low: a 2 KB "
                            "buffer at about half the read energy [assumed]"),
    "bw_sram_mac": Span(0.28, 0.49, 0.54, "pJ per MAC",
                        f"[derived] 8-b add (0.08 pJ) + one weight bit of a 32-b 8 KB SRAM read (13/32 pJ), "
                        f"{_H}; low: a 2 KB weight SRAM (half the read energy) [assumed]; high: a 16-b add"),
    "ws_mac": Span(0.14, 0.23, 0.37, "pJ per MAC",
                   f"[derived] 16-b add 0.13 pJ (Horowitz: 0.03 pJ at 8 b, 0.1 pJ at 32 b, interpolated; "
                   f"{_H}) + 16-b accumulator register 0.08 pJ (16 flip-flops x 5 fJ [assumed]) + input "
                   "broadcast 0.02 pJ [assumed]; low/high: 0.08/0.16 pJ add, 3/10 fJ per flip-flop, "
                   "0.01/0.05 pJ broadcast"),
    "mac8_sram": Span(2.2, 3.83, 3.83, "pJ per MAC",
                      f"[derived] 8-b multiply 0.5 pJ + add 0.08 pJ + one 8-b weight (a quarter of a 32-b "
                      f"8 KB SRAM read, 3.25 pJ), {_H}; low: a 2 KB weight SRAM [assumed]"),
    "m0p_cycles_per_mac": Span(5.0, 7.0, 9.0, "cycles per MAC",
                               "[derived] Cortex-M0+ (Armv6-M, no SIMD) inner loop from the core's "
                               "published instruction timings: two 2-cycle byte loads, a 1-cycle MULS "
                               "(fast multiplier), an add, loop overhead; low: add/subtract for binary "
                               "weights, no multiply"),
    "m4_cycles_per_mac": Span(1.7, 2.5, 3.5, "cycles per MAC",
                              "[derived] CMSIS-NN (Lai, Suda and Chandra 2018): its CIFAR-10 CNN (about "
                              "12.3 M MACs) in 99.1 ms on a 216 MHz Cortex-M7 = 1.7 cycles per MAC for "
                              "the whole network (dual-issue: the low end); a single-issue M4 doing the "
                              "same SMLAD kernels with q7-to-q15 expansion [assumed] 2.5, up to 3.5"),
    "mcu_cycles_per_op": Span(1.0, 2.0, 3.0, "cycles per digital op",
                              "[assumed] requantise, pool and argmax steps on the core (load, op, store "
                              "amortised over SIMD lanes)"),
    "m0p_core_pj_cycle": Span(4.0, 7.0, 10.0, "pJ per cycle",
                              "[derived] Arm's published Cortex-M0+ core-only dynamic power, about 9 "
                              "uW/MHz in a 90 nm LP process and under 4 uW/MHz in 40 nm LP; 65 nm "
                              "between them [assumed]"),
    "m4_core_pj_cycle": Span(12.0, 20.0, 33.0, "pJ per cycle",
                             "[derived] Arm's published Cortex-M4 core-only dynamic power, about 12 "
                             "uW/MHz in 40 nm LP and 33 uW/MHz in 90 nm LP; 65 nm between them [assumed]"),
    "m0p_mcu_pj_cycle": Span(90.0, 150.0, 270.0, "pJ per cycle",
                             "[derived] whole low-power Cortex-M0+ MCUs (core, flash, SRAM, clocks, "
                             "regulator) in vendor datasheets: about 50-90 uA/MHz run current at 1.8-3 V"),
    "m4_mcu_pj_cycle": Span(30.0, 200.0, 430.0, "pJ per cycle",
                            "[derived] whole Cortex-M4 MCUs in vendor datasheets: about 100-130 uA/MHz at "
                            "1.8-3.3 V (180-430 pJ); low: near-threshold M4 MCUs at about 10 uA/MHz x 3 V"),
}

BAND_TABLE.update({
    # Scaling what-if (core/scaling.py): node -> supply, digital energy factor, Pelgrom coefficient.
    "vdd_65nm": Span(1.2, 1.2, 1.2, "V", "[paper] the chip's supply"),
    "vdd_45nm": Span(0.9, 0.9, 1.0, "V", "[derived] Horowitz 2014's 45 nm point; 1.0 V in Stillmaker and "
                     "Baas 2017's nominal-supply table"),
    "vdd_28nm": Span(0.9, 0.9, 1.0, "V", "[assumed] typical 28 nm core supply"),
    "vdd_22nm": Span(0.8, 0.8, 0.9, "V", "[derived] Stillmaker and Baas 2017, nominal supply at 22 nm"),
    "vdd_7nm": Span(0.7, 0.7, 0.75, "V", "[derived] Stillmaker and Baas 2017, nominal supply at 7 nm"),
    "digital_65nm": Span(1.0, 1.0, 1.0, "x energy per op at 65 nm", "[derived] the reference node"),
    "digital_45nm": Span(0.33, 0.385, 0.45, "x energy per op at 65 nm",
                         "[derived] 1/2.6, the factor this table scales Horowitz's 45 nm figures by; band "
                         "+/-15 % [assumed]"),
    "digital_28nm": Span(0.19, 0.25, 0.31, "x energy per op at 65 nm",
                         "[assumed] read off the trend of Stillmaker and Baas 2017's energy-per-operation "
                         "fits at nominal supply (approximate); band +/-25 %"),
    "digital_22nm": Span(0.13, 0.17, 0.22, "x energy per op at 65 nm",
                         "[assumed] read off the trend of Stillmaker and Baas 2017 (approximate); band "
                         "+/-25 %"),
    "digital_7nm": Span(0.05, 0.07, 0.10, "x energy per op at 65 nm",
                        "[assumed] read off the trend of Stillmaker and Baas 2017 (approximate): about 5x "
                        "below 45 nm, far from the 40x of classical scaling; band +/-30 %"),
    "avt_65nm": Span(3.0, 3.5, 4.0, "mV.um", "[derived] Pelgrom coefficient A_VT at 65 nm, 3-4 mV.um "
                     "(bulk, SiO2/SiON gate)"),
    "avt_45nm": Span(2.5, 3.0, 3.5, "mV.um", "[assumed] A_VT tracks gate-oxide thickness (Pelgrom trend)"),
    "avt_28nm": Span(1.8, 2.2, 2.6, "mV.um", "[assumed] high-k metal gate, A_VT about 2 mV.um"),
    "avt_22nm": Span(1.6, 2.0, 2.4, "mV.um", "[assumed] high-k metal gate, A_VT about 2 mV.um"),
    "avt_7nm": Span(1.0, 1.3, 1.6, "mV.um", "[assumed] FinFET, A_VT about 1-1.5 mV.um"),
    # ADC energy per conversion: three published models; core/scaling.py anchors each at the chip's
    # own 65 nm, 7-b ADC energy and uses only how it scales with bits and node.
    "zigzag_adc_lin": Span(100.0, 100.0, 100.0, "fF per bit",
                           "[derived] ZigZag IMC cost model: E_ADC = (100 fF.B + 0.001 fF.4^B).VDD^2"),
    "zigzag_adc_exp": Span(0.001, 0.001, 0.001, "fF per 4^B", "[derived] ZigZag IMC cost model, as above"),
    "murmann_fom_s": Span(175.0, 175.0, 175.0, "dB",
                          "[derived] Schreier figure of merit along the low-power envelope of Murmann's ADC "
                          "performance survey; E = 10^((SNDR - FoM_S)/10) / 2 J, SNDR = 6.02 B + 1.76 dB"),
    "murmann_floor_65nm": Span(50.0, 50.0, 50.0, "fJ per conversion at 65 nm",
                               "[assumed] technology floor of low-resolution designs in Murmann's survey "
                               "(comparator and logic), scaled with the digital factor"),
    "walden_fom_65nm": Span(5.0, 5.0, 5.0, "fJ per conversion step at 65 nm",
                            "[derived] Walden FoM of good 65 nm SAR designs in Murmann's survey; E = FoM x "
                            "2^B, scaled with the digital factor"),
    "line_cap_trend": Span(1.0, 1.0, 1.0, "x node / 65 nm",
                           "[assumed] row and column line capacitance per bitcell scales with the cell "
                           "pitch (wire-dominated): C = C_65 x node / 65 nm; kT/C follows from it [physics]"),
    "cap_mismatch_trend": Span(0.5, 0.5, 0.5, "exponent of 65 nm / node",
                               "[derived] capacitor mismatch sigma ~ 1/sqrt(area) (Pelgrom's area law for "
                               "MOM capacitors): x (65 nm / node)^0.5 as C scales with the node"),
})


def tops_per_w(macs: float, energy_pj: float) -> float:
    """Throughput efficiency counting 2 ops per MAC: ops / pJ = TOPS/W."""
    return 2.0 * macs / energy_pj if energy_pj else 0.0
