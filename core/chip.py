"""One fabricated Conv-SRAM macro: DAC, +/-1 steering, charge-sharing average, integrating ADC.

The signal chain (README, "The chip model"; every parameter a :class:`ChipConfig` field):

1. DAC: row i is discharged from ``v_precharge`` by ``dV_i = dac_lsb (x_i (1 + g_i) + inl_i(x_i)) + o_i``.
2. Steering: in column j a +1 cell puts its P-side segment at ``V_i`` and leaves its N-side segment at
   the precharge; a -1 cell does the opposite.
3. Averaging: each side's segments share charge, ``V_P,j = sum_i C_P,ij v_P,ij / sum_i C_P,ij``. With
   equal capacitors ``V_N,j - V_P,j = dac_lsb / N * sum_i w_ij x_i``. kT/C noise on each line, charge
   injection as a per-column offset.
4. ADC (integrating): ``code = clip(round((V_N - V_P + v_os,g)(1 + a_g) / adc_lsb) - c_j)``, ReLU or
   signed: ``v_os,g`` the comparator's input-referred offset (volts, whatever the layer's ADC step),
   ``c_j`` the column's offset correction (codes) once the chip is calibrated (core/calibration.py).

Static mismatch is drawn once per chip from ``seed`` as unit normals and scaled by the config's sigmas,
so :meth:`Chip.reconfigure` can turn a knob on the *same* chip. Per-operation noise comes from a second
seeded stream (or a generator the caller passes, for frames that must replay identically).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from convsram.core import energy, noise
from convsram.core.config import BOLTZMANN, ChipConfig
from convsram.core.threads import run_blocks, spans, workers

MODES = ("relu", "signed")
MAX_PLANS = 4096  # bulk plans kept per chip (a network's tiles x chunks, every phase)
BLOCK = 16384  # conversions per column in one block of the bulk path's per-element work [assumed: cache]
MATMUL_COLUMNS = 64  # bulk matmuls run on a whole number of this many columns (see column_sums)
Noise = np.random.Generator | noise.KeyedNoise  # where per-operation noise comes from
T = TypeVar("T")


def detail(value: T | None) -> T:
    """A detail-only field of an :class:`Invocation` (v_dac, v_p, v_n, energy_each; ideal_codes and
    ideal_diff with with_ideal): ValueError for an invocation simulated without it."""
    if value is None:
        raise ValueError("this invocation was simulated without detail (detail=True, with_ideal=True)")
    return value


@dataclass
class Invocation:
    """What one invocation (or a batch of them, leading axis) did, in volts, codes, pJ and ns."""

    x: np.ndarray  # input codes, (n_rows,) or (batch, n_rows)
    columns: np.ndarray  # evaluated columns, (k,)
    v_dac: np.ndarray | None  # row voltages after the DAC, V (detail only)
    v_p: np.ndarray | None  # P line of each evaluated column after sharing and noise, V (detail only)
    v_n: np.ndarray | None  # N line, V (detail only)
    codes: np.ndarray  # ADC output, int
    ideal_codes: np.ndarray | None  # what an ideal chip outputs for the same inputs
    ideal_diff: np.ndarray | None  # ideal V_N - V_P, V
    adc_lsb: float  # volts per ADC code used for this invocation
    mode: str
    energy_pj: dict[str, float]  # per component, summed over the batch
    time_ns: float  # summed over the batch
    n_invocations: int = 1
    energy_each: dict[str, np.ndarray] | None = None  # per invocation (batch,), when detail=True

    @property
    def diff(self) -> np.ndarray:
        """V_N - V_P at the ADC input (before comparator noise), V."""
        return detail(self.v_n) - detail(self.v_p)

    @property
    def energy_total_pj(self) -> float:
        return float(sum(self.energy_pj.values()))


@dataclass
class WriteRecord:
    bits: int
    rows: int
    energy_pj: float
    time_ns: float


@dataclass(frozen=True)
class BulkPlan:
    """What bulk invocations of one set of columns with a fixed row count share, derived once per chip
    state (the per-column arithmetic of :meth:`Chip.invoke_batch` with detail=False, hoisted out of it)."""

    m: np.ndarray  # (k + 1, n) float32: per-column (A_P - A_N) x ADC gain, then a row of ones (total drop)
    offset: np.ndarray  # (k, 1) float32: static offset + rounding half-step + tie-break, codes
    noise: np.ndarray | None  # (k, 1) float32: line and comparator noise sigma in codes; None: noiseless
    lo: int  # lowest code (0 relu, -max_code signed)
    hi: int  # max_code


@dataclass
class _Mismatch:
    """Unit-normal draws that define one chip; scaled by the config's sigmas."""

    dac_gain: np.ndarray  # (rows,)
    dac_offset: np.ndarray  # (rows,)
    dac_inl: np.ndarray  # (rows,)
    cap_p: np.ndarray  # (rows, columns)
    cap_n: np.ndarray  # (rows, columns)
    injection: np.ndarray  # (columns,)
    adc_offset: np.ndarray  # (groups,)
    adc_gain: np.ndarray  # (groups,)

    @classmethod
    def draw(cls, config: ChipConfig, seed: int) -> _Mismatch:
        rng = np.random.default_rng([seed, 0])
        r, c, g = config.rows, config.columns, config.adc_groups
        return cls(dac_gain=rng.standard_normal(r), dac_offset=rng.standard_normal(r),
                   dac_inl=rng.standard_normal(r), cap_p=rng.standard_normal((r, c)),
                   cap_n=rng.standard_normal((r, c)), injection=rng.standard_normal(c),
                   adc_offset=rng.standard_normal(g), adc_gain=rng.standard_normal(g))


@dataclass
class Chip:
    """One chip instance: static mismatch from `seed`, per-operation noise from a seeded stream."""

    config: ChipConfig = field(default_factory=ChipConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        self.seed = int(self.seed)
        self._eps = _Mismatch.draw(self.config, self.seed)
        self.noise = np.random.default_rng([self.seed, 1])
        self.weights = np.zeros((self.config.rows, self.config.columns), dtype=np.int8)
        self.programmed_rows = np.zeros(self.config.columns, dtype=np.int64)
        # offset correction per column (codes), stored by calibration; None: not calibrated. Knob
        # changes keep it, as a chip keeps its registers: recalibrate after changing the chip.
        self.correction: np.ndarray | None = None
        self._derive()

    # --- static properties of this chip -------------------------------------------------------
    def _derive(self) -> None:
        cfg, eps = self.config, self._eps
        self.dac_gain = 1.0 + cfg.dac_gain_sigma * eps.dac_gain
        self.dac_offset = cfg.dac_offset_sigma * eps.dac_offset  # V
        self.dac_inl_amp = cfg.dac_inl * (1.0 + 0.25 * eps.dac_inl)  # LSB
        floor = 1e-3 * cfg.c_line  # a capacitor cannot go negative, however wild the sigma
        self.cap_p = np.maximum(cfg.c_line * (1.0 + cfg.cap_mismatch_sigma * eps.cap_p), floor)
        self.cap_n = np.maximum(cfg.c_line * (1.0 + cfg.cap_mismatch_sigma * eps.cap_n), floor)
        self.injection = cfg.charge_injection_sigma * eps.injection  # V on the difference
        self.adc_offset = cfg.comparator_offset_sigma * eps.adc_offset  # V at the comparator input
        self.adc_gain = 1.0 + cfg.adc_gain_sigma * eps.adc_gain
        self._share: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._plans: dict[tuple, BulkPlan] = {}
        self._dac_flat = self._dac_table().ravel()
        self._dac_flat32 = self._dac_flat.astype(np.float32)
        self._row_base_intp = np.arange(cfg.rows, dtype=np.intp) * (cfg.max_input + 1)

    def reconfigure(self, config: ChipConfig) -> None:
        """Same chip (same draws), other knob settings. Geometry must not change."""
        geometry = ("rows", "columns", "adc_groups")
        if any(getattr(config, g) != getattr(self.config, g) for g in geometry):
            raise ValueError("reconfigure cannot change rows, columns or adc_groups; make a new Chip")
        self.config = config
        self._derive()

    def set_correction(self, codes: np.ndarray | None) -> None:
        """Store (or clear, None) the per-column offset correction in codes (core/calibration.py)."""
        self._plans.clear()
        if codes is None:
            self.correction = None
            return
        c = np.asarray(codes, dtype=np.float64)
        if c.shape != (self.config.columns,) or not np.all(np.isfinite(c)):
            raise ValueError(f"a correction needs one finite value per column ({self.config.columns})")
        self.correction = c

    def static_offset_codes(self, columns: np.ndarray, adc_lsb: float) -> np.ndarray:
        """The columns' static offset at the ADC decision in codes: comparator offset and correction
        (charge injection is on the lines, in :attr:`Invocation.diff`)."""
        cols = np.asarray(columns)
        g = self.group_of(cols)
        out = self.adc_offset[g] * self.adc_gain[g] / adc_lsb
        return out - self.correction[cols] if self.correction is not None else out

    def group_of(self, columns: np.ndarray | int) -> np.ndarray:
        """ADC group of each column (groups are blocks of adjacent columns)."""
        return np.asarray(columns) // self.config.columns_per_group

    def adc_lsb_for(self, step: float, n_rows: int) -> float:
        """ADC volts per code that makes one code worth `step` units of sum(w*x) at `n_rows` rows."""
        return step * self.config.dac_lsb / n_rows

    # --- programming --------------------------------------------------------------------------
    def program(self, weights: np.ndarray, columns: np.ndarray | None = None) -> WriteRecord:
        """Write +/-1 weights (n_rows, n_columns) into rows 0..n_rows-1 of `columns` (default 0..)."""
        w = np.asarray(weights)
        if w.ndim != 2:
            raise ValueError(f"weights must be 2-D (rows, columns), got shape {w.shape}")
        n_rows, n_cols = w.shape
        cfg = self.config
        if not 1 <= n_rows <= cfg.rows or not 1 <= n_cols <= cfg.columns:
            raise ValueError(f"weights shape {w.shape} does not fit the {cfg.rows} x {cfg.columns} array")
        if not np.isin(w, (-1, 1)).all():
            raise ValueError("weights must be +1 or -1")
        cols = np.arange(n_cols) if columns is None else self._check_columns(columns, need_programmed=False)
        if cols.size != n_cols:
            raise ValueError(f"{n_cols} weight columns but {cols.size} target columns")
        self.weights[:n_rows, cols] = w
        self.weights[n_rows:, cols] = 0
        self.programmed_rows[cols] = n_rows
        self._share.clear()  # (bulk plans are keyed on their columns' weights: they stay valid)
        bits = n_rows * n_cols
        return WriteRecord(bits=bits, rows=n_rows, energy_pj=energy.write_energy_pj(bits),
                           time_ns=energy.write_time_ns(n_rows))

    def _sharing(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Charge-sharing matrix for n active rows: V_P = V_pre - dV @ A[:, :C], V_N = ... A[:, C:]."""
        if n not in self._share:
            w = self.weights[:n]
            cp, cn = self.cap_p[:n], self.cap_n[:n]
            a_p = cp * (w == 1) / cp.sum(axis=0)
            a_n = cn * (w == -1) / cn.sum(axis=0)
            ktc = np.sqrt(BOLTZMANN * self.config.temperature / np.stack([cp.sum(0), cn.sum(0)]))
            self._share[n] = (np.concatenate([a_p, a_n], axis=1), ktc)
        return self._share[n]

    # --- validation ---------------------------------------------------------------------------
    def _check_columns(self, columns: np.ndarray | list[int], need_programmed: bool = True,
                       n_rows: int = 0) -> np.ndarray:
        cols = np.asarray(columns)
        if cols.ndim != 1 or cols.size == 0 or not np.issubdtype(cols.dtype, np.integer):
            raise ValueError(f"columns must be a non-empty 1-D list of integers, got {columns!r}")
        if cols.min() < 0 or cols.max() >= self.config.columns:
            raise ValueError(f"column out of range 0..{self.config.columns - 1}: {cols.tolist()}")
        if np.unique(cols).size != cols.size:
            raise ValueError(f"a column appears twice: {cols.tolist()}")
        if need_programmed:
            short = cols[self.programmed_rows[cols] < n_rows]
            if short.size:
                raise ValueError(f"column {int(short[0])} holds {int(self.programmed_rows[short[0]])} "
                                 f"programmed rows but the invocation drives {n_rows}; program it first")
            groups = self.group_of(cols)
            if np.unique(groups).size != groups.size:
                raise ValueError(f"two columns of one ADC group in one invocation: {cols.tolist()} "
                                 f"(groups {groups.tolist()}); at most one column per group")
        return cols.astype(np.int64)

    def check_inputs(self, x: np.ndarray) -> np.ndarray:
        """x as a 2-D integer array of input codes; ValueError if its shape or a code is out of range."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] == 0:
            raise ValueError(f"inputs must have shape (n_rows,) or (batch, n_rows), got {x.shape}")
        if x.shape[1] > self.config.rows:
            raise ValueError(f"{x.shape[1]} inputs but the array has {self.config.rows} rows")
        if not np.issubdtype(x.dtype, np.integer):
            if not np.all(np.mod(x, 1) == 0):
                raise ValueError("input codes must be integers")
            x = x.astype(np.int64)
        if x.size and (x.min() < 0 or x.max() > self.config.max_input):
            raise ValueError(f"input codes must be in 0..{self.config.max_input} "
                             f"({self.config.input_bits} b), got {x.min()}..{x.max()}")
        return x

    # --- the signal chain ---------------------------------------------------------------------
    def _dac_table(self) -> np.ndarray:
        """Row voltage drop (V) for every row and code: (rows, 2^input_bits)."""
        cfg = self.config
        code = np.arange(cfg.max_input + 1, dtype=np.float64)
        u = code / cfg.max_input
        steps = code[None, :] * self.dac_gain[:, None] + self.dac_inl_amp[:, None] * 4.0 * u * (1.0 - u)
        return np.clip(steps * cfg.dac_lsb + self.dac_offset[:, None], 0.0, cfg.v_precharge)

    def dac(self, x: np.ndarray, dtype: type = np.float64) -> np.ndarray:
        """Row voltage drops dV (V) for integer input codes x (..., n_rows): a per-row lookup."""
        n = x.shape[-1]
        table = self._dac_flat if dtype == np.float64 else self._dac_flat32
        return np.take(table, np.add(x, self._row_base_intp[:n], dtype=np.intp))

    def dac_table(self) -> np.ndarray:
        """The DAC as one float32 table: the drop (V) of row r at code c is entry r * (max_input + 1) + c
        (what :meth:`dac` looks up in float32)."""
        return self._dac_flat32

    def invoke(self, x: np.ndarray, columns: np.ndarray | list[int], adc_lsb: float | None = None,
               mode: str = "relu", rng: Noise | None = None) -> Invocation:
        """One invocation: x (n_rows,) input codes broadcast to `columns`."""
        x = np.asarray(x)
        if x.ndim != 1:
            raise ValueError(f"x must have shape (n_rows,), got {x.shape}; use invoke_batch for batches")
        inv = self.invoke_batch(x[None, :], columns, adc_lsb, mode, rng=rng)
        for name in ("x", "v_dac", "v_p", "v_n", "codes", "ideal_codes", "ideal_diff"):
            value = getattr(inv, name)
            setattr(inv, name, None if value is None else value[0])
        inv.energy_each = None
        return inv

    def invoke_batch(self, x: np.ndarray, columns: np.ndarray | list[int], adc_lsb: float | None = None,
                     mode: str = "relu", rng: Noise | None = None,
                     with_ideal: bool = True, detail: bool = True, dv: np.ndarray | None = None,
                     validate: bool = True) -> Invocation:
        """`batch` invocations with the same columns: x (batch, n_rows) input codes.

        adc_lsb: ADC volts per code (default: full scale, one code per (2^B_in - 1) / (2^B_adc - 1)
        DAC steps). mode: "relu" (negative results read 0) or "signed" (sign + magnitude).
        detail=False (bulk evaluation) computes only the sensed difference and draws the line and
        comparator noise as one Gaussian on it: the codes have the same distribution at a fraction of
        the cost; v_p and v_n are then None.
        dv: the row drops ``chip.dac(x)`` if the caller already has them (column chunks that share
        their inputs). validate=False skips the range check of x, for callers whose codes are in range
        by construction (the network's requantised activations).
        """
        cfg = self.config
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if validate or x.ndim != 2:
            x = self.check_inputs(x)
        batch, n = x.shape
        cols = self._check_columns(columns, n_rows=n)
        if adc_lsb is None:
            adc_lsb = cfg.dac_lsb * cfg.max_input / cfg.max_code
        if not np.isfinite(adc_lsb) or adc_lsb <= 0:
            raise ValueError(f"adc_lsb must be a positive voltage, got {adc_lsb!r}")
        rng = self.noise if rng is None else rng
        k = cols.size

        if dv is None:
            dv = self.dac(x, np.float64 if detail else np.float32)
        tie = self.tie_bias(n, adc_lsb)
        v_p = v_n = None
        if detail:
            share, ktc = self._sharing(n)
            gain, offset = self._gain_offset(cols, adc_lsb, tie)
            drop = dv @ share[:, np.concatenate([cols, cols + cfg.columns])]
            v_p = cfg.v_precharge - drop[:, :k]
            v_n = cfg.v_precharge - drop[:, k:]
            if cfg.charge_injection_sigma:
                v_n += 0.5 * self.injection[cols]
                v_p -= 0.5 * self.injection[cols]
            if cfg.ktc_noise:
                v_p += ktc[0, cols] * noise.standard_normal(rng, (batch, k))
                v_n += ktc[1, cols] * noise.standard_normal(rng, (batch, k))
            level = v_n - v_p
            if cfg.comparator_noise_sigma:
                level += cfg.comparator_noise_sigma * noise.standard_normal(rng, (batch, k))
            level *= gain
            dv_sum = dv.sum(axis=1)
            level += offset
            np.floor(level, out=level)
            np.clip(level, 0 if mode == "relu" else -cfg.max_code, cfg.max_code, out=level)
        else:
            plan = self.bulk_plan(n, cols, float(adc_lsb), mode)
            level, dv_sum = self.bulk_levels(np.asarray(dv, dtype=np.float32), plan, rng)
            steps = abs_sum(level, plan.hi, plan.lo < 0)
            level = level.T
        codes = level.astype(np.int32)

        ideal_codes = ideal_diff = None
        if with_ideal:
            s = x.astype(np.float64) @ self.weights[:n, cols].astype(np.float64)
            ideal_diff = s * (cfg.dac_lsb / n)
            ideal_codes = quantise(ideal_diff / adc_lsb, cfg.max_code, mode, tie, in_place=True)
        if detail:
            each = energy.energy_each(cfg, n, dv_sum, k, codes)
            e = {name: float(v.sum()) for name, v in each.items()}
        else:
            each = None
            e = energy.energy_total(cfg, n, batch, float(dv_sum.sum(dtype=np.float64)), k, steps)
        v_dac = cfg.v_precharge - dv if detail else None
        return Invocation(x=x, columns=cols, v_dac=v_dac, v_p=v_p, v_n=v_n, codes=codes,
                          ideal_codes=ideal_codes, ideal_diff=ideal_diff, adc_lsb=float(adc_lsb), mode=mode,
                          energy_pj=e, time_ns=batch * energy.invocation_time_ns(cfg), n_invocations=batch,
                          energy_each=each)

    def _gain_offset(self, cols: np.ndarray, adc_lsb: float, tie: float
                     ) -> tuple[np.ndarray, np.ndarray | float]:
        """ADC gain (codes per volt) of each column and its static offset in codes: comparator offset
        (V, through the ADC gain), the correction stored by calibration and the rounding half-step."""
        cfg = self.config
        groups = self.group_of(cols)
        gain = self.adc_gain[groups] / adc_lsb if cfg.adc_gain_sigma else np.full(cols.size, 1.0 / adc_lsb)
        offset = (self.adc_offset[groups] * gain if cfg.comparator_offset_sigma else 0.0) + (0.5 + tie)
        if self.correction is not None:
            offset = offset - self.correction[cols]
        return gain, offset

    def bulk_plan(self, n: int, columns: np.ndarray, adc_lsb: float, mode: str) -> BulkPlan:
        """The per-column arithmetic of bulk invocations of `columns` over `n` rows, cached on the
        columns' weights (a network run in phases writes the same weights again for every batch) until
        the chip is reconfigured or recalibrated."""
        cols = np.asarray(columns, dtype=np.int64)
        if cols.ndim != 1 or not cols.size or cols.min() < 0 or cols.max() >= self.config.columns:
            self._check_columns(columns, n_rows=n)  # says what is wrong
        key = (n, cols.tobytes(), adc_lsb, mode, self.weights[:n, cols].tobytes())
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()
            cfg = self.config
            cols = self._check_columns(cols, n_rows=n)
            k = cols.size
            share, ktc = self._sharing(n)
            gain, offset = self._gain_offset(cols, adc_lsb, self.tie_bias(n, adc_lsb))
            # ADC input in codes, (V_N - V_P) * gain = dV @ ((A_P - A_N) * gain), and the total drop
            # (for the DAC energy) as an extra row of the same matmul. float32: its rounding is far
            # below a quarter unit of sum(w*x) (see tie_bias) and any physical noise.
            m = np.empty((k + 1, n), dtype=np.float32)
            np.subtract(share[:, cols].T, share[:, cols + cfg.columns].T, out=m[:k])
            m[:k] *= gain[:, None]
            m[k] = 1.0
            if cfg.charge_injection_sigma:
                offset = offset + self.injection[cols] * gain
            sigma = None
            if cfg.ktc_noise or cfg.comparator_noise_sigma:
                var = cfg.comparator_noise_sigma**2 + (ktc[0, cols] ** 2 + ktc[1, cols] ** 2) * cfg.ktc_noise
                sigma = (np.sqrt(var) * gain)[:, None].astype(np.float32)
            plan = BulkPlan(m=m, offset=np.broadcast_to(offset, (k,))[:, None].astype(np.float32),
                            noise=sigma, lo=0 if mode == "relu" else -cfg.max_code, hi=cfg.max_code)
            self._plans[key] = plan
        return plan

    def bulk_levels(self, dv: np.ndarray, plan: BulkPlan, rng: Noise | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Codes (k, batch) float32 (integer values, columns first: every per-column pass contiguous)
        and each invocation's total DAC drop (batch,) float32 of a batch of bulk invocations, from the
        row drops dv (batch, n) float32; line and comparator noise as one Gaussian per conversion.
        (The matmul is :meth:`bulk_into`'s, on the drops rows first: the same sums, rounded alike.)"""
        out = column_sums(plan.m, np.ascontiguousarray(dv.T))
        k = len(plan.offset)
        level, dv_sum = out[:k], out[k]
        if plan.noise is not None:
            z = noise.standard_normal(self.noise if rng is None else rng, level.shape, dtype=np.float32)
            z *= plan.noise
            level += z
        level += plan.offset
        np.floor(level, out=level)
        np.clip(level, plan.lo, plan.hi, out=level)
        return level, dv_sum

    def bulk_into(self, dv_rows: np.ndarray, plan: BulkPlan, rng: Noise | None, images: int, into: np.ndarray,
                  rows: slice | np.ndarray, add: bool, draw: tuple | None = None,
                  out: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """:meth:`bulk_levels` and the codes' sum(|code|), with the codes written (add=True: added) to
        ``into[rows]`` (k, batch) rather than returned; returns (total drop per invocation, that sum).
        dv_rows: the row drops rows first, (n, batch) float32 (``chip.dac(x).T``) with unit column
        stride, best a whole number of MATMUL_COLUMNS wide (more columns than the batch are ignored).
        The same matmul over the whole batch (:func:`column_sums`), then the per-element work in blocks
        of whole images on the worker threads (core/threads.py): the same values, the same noise draws.
        draw: the keyed draws (KeyedNoise.reserve of (k, batch)) the caller reserved for this call,
        in the order of its calls, when it runs calls out of that order. out: a C-contiguous float32
        (k + 1, dv_rows' width) array for the matmul's result (the same BLAS call writes there)."""
        batch = into.shape[1]
        out = column_sums(plan.m, dv_rows, out)
        k = len(plan.offset)
        level, dv_sum = out[:k, :batch], out[k, :batch]
        positions = batch // images
        source = self.noise if rng is None else rng
        whole = None
        if plan.noise is not None and draw is None:
            if isinstance(source, noise.KeyedNoise) and not source.rows_first:
                draw = source.reserve(level.shape)
            else:
                whole = noise.standard_normal(source, level.shape, dtype=np.float32)

        def finish(a: int, b: int) -> float:
            part = level[:, a:b]
            if plan.noise is not None:
                if whole is None:
                    z = noise.keyed_block(source, draw, a // positions, b // positions)  # type: ignore[arg-type]
                else:
                    z = whole[:, a:b]
                z *= plan.noise
                part += z
            part += plan.offset
            np.floor(part, out=part)
            if add:
                np.clip(part, plan.lo, plan.hi, out=part)
                into[rows, a:b] += part
            elif isinstance(rows, slice):  # the first tile's codes clipped straight into place
                part = np.clip(part, plan.lo, plan.hi, out=into[rows, a:b])
            else:
                into[rows, a:b] = np.clip(part, plan.lo, plan.hi, out=part)
            # per-column float32 sums of at most 2^24 / max_code codes: exact integers
            mags = np.abs(part) if plan.lo < 0 else part
            return float(np.add.reduce(mags, axis=1, dtype=np.float32).sum(dtype=np.float64))

        most = max(positions, min(BLOCK, (1 << 24) // max(plan.hi, 1)))
        return dv_sum, float(sum(run_blocks(finish, spans(batch, positions, most))))

    def tie_bias(self, n_rows: int, adc_lsb: float) -> float:
        """The comparator's tie-break, in codes: a quarter of one unit of sum(w*x) [assumed].

        On an ideal chip the ADC level is S / step with S an integer, so it is either exactly half-way
        between two codes (a tie, rounded up) or at least half a unit (1 / (2 step)) away from it.
        A bias of a quarter unit decides ties upwards and nothing else, whatever the float rounding of
        the charge-sharing arithmetic (well below a quarter unit, also in float32).
        """
        return 0.25 * self.config.dac_lsb / (n_rows * adc_lsb)


def padded(columns: int) -> int:
    """`columns` rounded up to a whole number of MATMUL_COLUMNS."""
    return -(-columns // MATMUL_COLUMNS) * MATMUL_COLUMNS


def column_sums(m: np.ndarray, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """m @ rows, (k, n) @ (n, batch) float32, with every column's sums the same whatever the batch
    they come in: OpenBLAS's sgemm rounds the last columns of some widths differently (measured here:
    widths of 16 q + 1..8 below about a thousand columns; whole multiples of 16 never), so the product
    runs on a whole number of MATMUL_COLUMNS columns (a multiple of any kernel's 16 or 32 columns),
    `rows` zero-padded in a copy if it is not that wide (measured: the same sums with BLAS on one or
    two threads, and split over the workers). out: a C-contiguous float32 (k, padded width) array for
    the result. Returns (k, batch) (a view of `out`)."""
    batch = rows.shape[1]
    if batch % MATMUL_COLUMNS:
        wide = np.zeros((rows.shape[0], padded(batch)), dtype=rows.dtype)
        wide[:, :batch] = rows
        rows = wide
    width = rows.shape[1]
    if out is None:
        out = np.empty((m.shape[0], width), dtype=np.result_type(m, rows))
    # on several workers, column ranges side by side (each a whole number of MATMUL_COLUMNS: the same
    # sums); a worker thread itself, or one worker, runs it whole
    parts = spans(width, MATMUL_COLUMNS, -(-width // (workers() * MATMUL_COLUMNS)) * MATMUL_COLUMNS)

    def part(a: int, b: int) -> None:
        np.matmul(m, rows[:, a:b], out=out[:, a:b])

    run_blocks(part, parts, blas=True)
    return out[:, :batch]


def abs_sum(codes: np.ndarray, max_code: int, signed: bool = True) -> float:
    """sum(|codes|) of integer-valued float32 codes (|code| <= max_code; signed=False: none below 0),
    exactly: float32 sums of blocks whose total stays below 2^24 (so every partial sum is an exact
    integer), added in float64."""
    flat = codes.reshape(-1)
    if flat.size == 0:
        return 0.0
    if signed:
        flat = np.abs(flat)
    block = max(1, (1 << 24) // max(int(max_code), 1))
    if flat.size <= block:
        return float(np.add.reduce(flat, dtype=np.float32))
    sums = np.add.reduceat(flat, np.arange(0, flat.size, block), dtype=np.float32)
    return float(sums.sum(dtype=np.float64))


def quantise(level: np.ndarray, max_code: int, mode: str, tie: float, in_place: bool = False) -> np.ndarray:
    """ADC decision: round half up (ties broken by `tie` codes, see :meth:`Chip.tie_bias`), clipped to
    0..max_code (relu) or -max_code..max_code (signed). in_place=True overwrites the float `level`."""
    lo = 0 if mode == "relu" else -max_code
    out = level if in_place else np.array(level, dtype=np.float64)
    out += 0.5 + tie
    np.floor(out, out=out)
    np.clip(out, lo, max_code, out=out)
    return out.astype(np.int32)
