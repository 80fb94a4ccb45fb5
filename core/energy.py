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
# Source check of every figure: docs/sources.md. Tags: [derived] from a source read for this table;
# [unverified: ...] a figure recalled from the named source, not checked against its text; [assumed].
_H = ("Horowitz ISSCC 2014 (45 nm, 0.9 V: 32-b add 0.1 pJ, 8 KB 64-b SRAM read 10 pJ [derived]; 8-b add "
      "0.03 pJ, 8-b multiply 0.2 pJ [unverified: from memory of Horowitz's table]) x 2.6 for 65 nm / 1.2 V")
_X3 = ("high: x 3.0, Stillmaker and Baas 2017's 65 nm / 1.2 V over 45 nm HP / 0.9 V (x 2.5 for LP) "
       "instead of x 2.6")
BAND_TABLE: dict[str, Span] = {
    "input_code_read": Span(1.6, 3.25, 3.75, "pJ per 8-b input code read",
                            f"[derived] a quarter of a 32-b read of an 8 KB SRAM, 13 pJ ({_H}); low: a 2 KB "
                            f"buffer at about half the read energy [assumed]; {_X3}"),
    "bw_sram_mac": Span(0.28, 0.49, 0.62, "pJ per MAC",
                        f"[derived] 8-b add (0.08 pJ) + one weight bit of a 32-b 8 KB SRAM read (13/32 pJ), "
                        f"{_H}; low: a 2 KB weight SRAM (half the read energy) [assumed]; high: a 16-b add, "
                        f"{_X3}"),
    "ws_mac": Span(0.14, 0.23, 0.43, "pJ per MAC",
                   f"[derived] 16-b add 0.13 pJ (Horowitz: 0.03 pJ at 8 b, 0.1 pJ at 32 b, interpolated; "
                   f"{_H}) + 16-b accumulator register 0.08 pJ (16 flip-flops x 5 fJ [assumed]) + input "
                   "broadcast 0.02 pJ [assumed]; low/high: 0.08/0.16 pJ add, 3/10 fJ per flip-flop, "
                   f"0.01/0.05 pJ broadcast; {_X3}"),
    "mac8_sram": Span(2.2, 3.83, 4.42, "pJ per MAC",
                      f"[derived] 8-b multiply 0.5 pJ + add 0.08 pJ + one 8-b weight (a quarter of a 32-b "
                      f"8 KB SRAM read, 3.25 pJ), {_H}; low: a 2 KB weight SRAM [assumed]; {_X3}"),
    "m0p_cycles_per_mac": Span(5.0, 7.0, 9.0, "cycles per MAC",
                               "[derived] Cortex-M0+ (Armv6-M, no SIMD) inner loop: two byte loads (2 "
                               "cycles each [unverified: from memory of the Cortex-M0+ Technical Reference "
                               "Manual]), a 1-cycle MULS (the fast-multiplier option; the small one takes 32 "
                               "cycles: NXP's LPCXpresso FAQ on Cortex-M0/M0+ multiply) [derived], an add, "
                               "loop overhead [assumed]; low: add/subtract for binary weights, no multiply"),
    "m4_cycles_per_mac": Span(1.7, 2.5, 3.5, "cycles per MAC",
                              "CMSIS-NN (Lai, Suda and Chandra 2018, arXiv 1801.06601): its CIFAR-10 CNN "
                              "holds 12.3 M MACs [derived: the layer sizes of CMSIS's CIFAR-10 example, "
                              "5x5 convolutions 3->32 at 32x32, 32->32 at 16x16, 32->64 at 8x8, fc "
                              "1024->10]; run in 99.1 ms on a 216 MHz Cortex-M7 [unverified: from memory of "
                              "the paper's results section; its abstract, read, gives only 4.6x runtime and "
                              "4.9x energy gains] = 1.7 cycles per MAC (dual-issue: the low end); a "
                              "single-issue M4 doing the same SMLAD kernels with q7-to-q15 expansion "
                              "[assumed] 2.5, up to 3.5"),
    "mcu_cycles_per_op": Span(1.0, 2.0, 3.0, "cycles per digital op",
                              "[assumed] requantise, pool and argmax steps on the core (load, op, store "
                              "amortised over SIMD lanes)"),
    "m0p_core_pj_cycle": Span(3.0, 7.0, 10.0, "pJ per cycle",
                              "Arm's Cortex-M0+ core-only dynamic power: 3 uW/MHz in 40 nm and 52 uW/MHz "
                              "in 180 nm [derived: Arm's launch figures as reported by Low-Power Design, "
                              "March 2012]; about 9 uW/MHz in 90 nm LP [unverified: from memory of Arm's "
                              "product page]; 65 nm between 40 and 90 nm [assumed]"),
    "m4_core_pj_cycle": Span(12.0, 20.0, 33.0, "pJ per cycle",
                             "[unverified: from memory of Arm's Cortex-M4 product page] core-only dynamic "
                             "power about 12 uW/MHz in 40 nm LP and 33 uW/MHz in 90 nm LP; 65 nm between "
                             "them [assumed]"),
    "m0p_mcu_pj_cycle": Span(90.0, 150.0, 270.0, "pJ per cycle",
                             "[unverified: from memory of vendor datasheets] whole low-power Cortex-M0+ MCUs "
                             "(core, flash, SRAM, clocks, regulator): about 50-90 uA/MHz run current at "
                             "1.8-3 V"),
    "m4_mcu_pj_cycle": Span(20.0, 200.0, 430.0, "pJ per cycle",
                            "[unverified: from memory of vendor datasheets] whole Cortex-M4 MCUs: about "
                            "100-130 uA/MHz at 1.8-3.3 V (180-430 pJ; a users' forum quotes 110 uA/MHz for "
                            "STM32L4 and 130 for STM32F401); low: subthreshold M4 MCUs at about 6 uA/MHz "
                            "(Ambiq Apollo4, a lecture's figure) x 3.3 V"),
}

# Stillmaker and Baas 2017 (Integration 58, 74-81): energy per operation at supply V, E = a V^2 + b V + c
# (arbitrary unit), fitted per node: PTM bulk at 65 nm, ITRS high-performance (HP) and low-power (LP)
# flavours at 45 nm and below [derived: their coefficient table as transcribed in two public scaling
# tools, the 65 nm and HP 32 nm rows matching the worked example of the authors' corrigendum].
_STILLMAKER_E = {
    (65, "HP"): (3.755, -4.398, 1.975), (65, "LP"): (3.755, -4.398, 1.975),
    (45, "HP"): (1.018, -0.3107, 0.1539), (45, "LP"): (1.103, -0.362, 0.2767),
    (32, "HP"): (0.8367, -0.4341, 0.1701), (32, "LP"): (0.9559, -0.7823, 0.471),
    (20, "HP"): (0.373, -0.1582, 0.04104), (20, "LP"): (0.2632, -0.14, 0.06841),
    (7, "HP"): (0.1776, -0.09097, 0.02447), (7, "LP"): (0.09365, -0.03409, 0.02043),
}


def stillmaker_energy(node: float, flavour: str, v: float) -> float:
    """Energy per operation (Stillmaker and Baas's unit) at `node` nm, 'HP' or 'LP', supply `v` volts;
    nodes between two rows (28, 22 nm) linear in the node between them [derived]."""
    rows = sorted(n for n, f in _STILLMAKER_E if f == flavour)
    lo = max(n for n in rows if n <= node)
    hi = min(n for n in rows if n >= node)

    def at(n: int) -> float:
        a, b, c = _STILLMAKER_E[(n, flavour)]
        return a * v * v + b * v + c

    w = 0.0 if hi == lo else (node - lo) / (hi - lo)
    return (1 - w) * at(lo) + w * at(hi)


def _digital(node: int, vdd: Span, nominal: float | None = None) -> Span:
    """The node's digital energy per op relative to 65 nm at 1.2 V: low = the cheaper flavour at the
    low supply, nominal = the mean of HP and LP at the nominal supply, high = the dearer at the high."""
    ref = stillmaker_energy(65, "HP", 1.2)
    ends = {w: [stillmaker_energy(node, f, vdd.at(w)) / ref for f in ("HP", "LP")]
            for w in ("low", "nominal", "high")}
    mid = sum(ends["nominal"]) / 2 if nominal is None else nominal
    how = ", interpolated between 32 and 20 nm" if node in (28, 22) else ""
    source = (f"[derived] Stillmaker and Baas 2017's energy fits (HP and LP{how}) at the node's supply "
              f"{vdd.low:g}-{vdd.high:g} V over their 65 nm fit at 1.2 V")
    return Span(round(min(ends["low"]), 3), round(mid, 3), round(max(ends["high"]), 3),
                "x energy per op at 65 nm", source)


_VDD = {
    45: Span(0.9, 0.9, 1.1, "V", "[derived] Horowitz 2014's 45 nm point, 0.9 V; PTM 45 nm model cards' "
             "nominal supply: 1.0 V high-performance, 1.1 V low-power"),
    28: Span(0.9, 0.9, 1.0, "V", "[derived] ZigZag-IMC's 28 nm technology example (0.9 V); high [assumed]"),
    22: Span(0.8, 0.8, 0.95, "V", "[derived] PTM 22 nm model cards' nominal supply: 0.8 V high-performance, "
             "0.95 V low-power"),
    7: Span(0.7, 0.7, 0.75, "V", "[unverified: from memory of the PTM-MG 7 nm FinFET cards' nominal 0.7 V]"),
}
BAND_TABLE.update({
    # Scaling what-if (core/scaling.py): node -> supply, digital energy factor, Pelgrom coefficient.
    "vdd_65nm": Span(1.2, 1.2, 1.2, "V", "[paper] the chip's supply"),
    **{f"vdd_{n}nm": span for n, span in _VDD.items()},
    "digital_65nm": Span(1.0, 1.0, 1.0, "x energy per op at 65 nm", "[derived] the reference node"),
    # 45 nm: nominal 1/2.6, the factor this table scales Horowitz's 45 nm figures by (HP/LP mean at 0.9 V:
    # 0.37)
    "digital_45nm": _digital(45, _VDD[45], nominal=0.385),
    **{f"digital_{n}nm": _digital(n, _VDD[n]) for n in (28, 22, 7)},
    "avt_65nm": Span(3.0, 3.5, 4.0, "mV.um", "[unverified: from memory of published 65 nm matching data] "
                     "Pelgrom coefficient A_VT at 65 nm, 3-4 mV.um (bulk, SiO2/SiON gate)"),
    "avt_45nm": Span(2.5, 3.0, 3.5, "mV.um", "[assumed] A_VT tracks gate-oxide thickness (Pelgrom trend)"),
    "avt_28nm": Span(1.8, 2.2, 2.6, "mV.um", "[assumed] high-k metal gate, A_VT about 2 mV.um"),
    "avt_22nm": Span(1.6, 2.0, 2.4, "mV.um", "[assumed] high-k metal gate, A_VT about 2 mV.um"),
    "avt_7nm": Span(1.0, 1.3, 1.6, "mV.um", "[assumed] FinFET, A_VT about 1-1.5 mV.um"),
    # ADC energy per conversion: three published models; core/scaling.py anchors each at the chip's
    # own 65 nm, 7-b ADC energy and uses only how it scales with bits and node.
    "zigzag_adc_lin": Span(100.0, 100.0, 100.0, "fF per bit",
                           "[derived] ZigZag-IMC's analog IMC cost model (KULeuven-MICAS/zigzag-imc, AIMC "
                           "array unit, get_adc_cost): E_ADC = (100 fF.B + 0.001 fF.4^B).VDD^2 fJ"),
    "zigzag_adc_exp": Span(0.001, 0.001, 0.001, "fF per 4^B", "[derived] ZigZag-IMC, as above"),
    "murmann_fom_s": Span(175.0, 185.0, 185.0, "dB",
                          "Schreier figure of merit (high-frequency) along the envelope of Murmann's ADC "
                          "performance survey: 184.8 dB in its 2021 revision [derived: as hard-coded from "
                          "the survey by a public survey reader; the spreadsheet itself not read]; low: 10 "
                          "dB below, a typical design [assumed]; E = 10^((SNDR - FoM_S)/10) / 2 J, SNDR = "
                          "6.02 B + 1.76 dB"),
    "murmann_floor_65nm": Span(50.0, 50.0, 50.0, "fJ per conversion at 65 nm",
                               "[assumed] technology floor of low-resolution designs in Murmann's survey "
                               "(comparator and logic), scaled with the digital factor"),
    "walden_fom_65nm": Span(0.67, 5.0, 5.0, "fJ per conversion step at 65 nm",
                            "[unverified: from memory of Murmann's survey] Walden FoM of good 65 nm SAR "
                            "designs; low: the survey's overall envelope, 0.67 fJ (2021 revision, same "
                            "reader as above); E = FoM x 2^B, scaled with the digital factor; its value "
                            "cancels: the model is anchored at the chip's own ADC energy"),
    "line_cap_trend": Span(1.0, 1.0, 1.0, "x node / 65 nm",
                           "[assumed] row and column line capacitance per bitcell scales with the cell "
                           "pitch (wire-dominated): C = C_65 x node / 65 nm; kT/C follows from it [physics]"),
    "cap_mismatch_trend": Span(0.5, 0.5, 0.5, "exponent of 65 nm / node",
                               "[assumed] capacitor mismatch sigma ~ 1/sqrt(area) (Pelgrom's area law, taken "
                               "for MOM capacitors): x (65 nm / node)^0.5 as C scales with the node"),
})


def tops_per_w(macs: float, energy_pj: float) -> float:
    """Throughput efficiency counting 2 ops per MAC: ops / pJ = TOPS/W."""
    return 2.0 * macs / energy_pj if energy_pj else 0.0
