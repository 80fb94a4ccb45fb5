"""Inside one invocation: the voltages of one column over the 150 ns cycle.

The phases and their durations are :data:`core.energy.TIME_TABLE` (the paper's 150 ns [paper], split
[assumed]). Within a phase, nodes settle exponentially with a time constant of a fifth of the phase
[assumed], scaled so each phase ends exactly at its final value, which the chip model computed:

1. DAC (0-20 ns): the active row lines discharge from the precharge to their DAC voltages; the
   column's lines stay precharged.
2. Steering and charge sharing (20-40 ns): V_P and V_N settle to their shared averages (noise included).
3. Sign (40-45 ns): the comparator decides which line is lower.
4. Ramp (45 ns on): the lower line is raised one ADC step (adc_lsb volts) per 0.8 ns clock; the
   comparator trips after |code| steps, the code the chip produced. In ReLU mode a negative difference
   gives no ramp (code 0).
5. Readout: the code is latched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convsram.core.config import ChipConfig
from convsram.core.energy import t as phase_ns

SETTLE = 5.0  # phase duration / time constant [assumed]


@dataclass(frozen=True)
class Waveform:
    t_ns: np.ndarray  # (T,)
    v_rows: np.ndarray  # (n_rows, T) row line voltages, V
    v_p: np.ndarray  # (T,) V
    v_n: np.ndarray  # (T,) V
    phases: tuple[tuple[str, float, float], ...]  # (name, start ns, end ns)
    code: int
    t_decision_ns: float  # when the comparator trips (end of the ramp)
    ramped: str  # "P", "N" or "" (no ramp)


def _settle(t: np.ndarray, t0: float, duration: float, start: float | np.ndarray,
            end: float | np.ndarray) -> np.ndarray:
    """Exponential approach from start to end over [t0, t0 + duration], exactly at end afterwards."""
    tau = duration / SETTLE
    elapsed = np.clip(t - t0, 0.0, duration)
    frac = (1.0 - np.exp(-elapsed / tau)) / (1.0 - np.exp(-SETTLE))
    start, end = np.asarray(start, float), np.asarray(end, float)
    if start.ndim:
        start, end = start[:, None], end[:, None]
    return start + (end - start) * frac


def invocation_waveform(config: ChipConfig, v_dac: np.ndarray, v_p: float, v_n: float, code: int,
                        adc_lsb: float, dt_ns: float = 0.1) -> Waveform:
    """Waveforms of one column for one invocation whose final values the chip model computed."""
    t_dac, t_share, t_sign = phase_ns("dac"), phase_ns("share"), phase_ns("sign")
    step, t_read = phase_ns("ramp_step"), phase_ns("readout")
    t_ramp0 = t_dac + t_share + t_sign
    total = t_ramp0 + config.max_code * step + t_read
    t = np.arange(0.0, total + dt_ns / 2, dt_ns)
    vpre = config.v_precharge
    v_rows = _settle(t, 0.0, t_dac, np.full(len(v_dac), vpre), np.asarray(v_dac, float))
    vp = _settle(t, t_dac, t_share, vpre, v_p)
    vn = _settle(t, t_dac, t_share, vpre, v_n)
    steps = abs(int(code))
    ramped = ""
    if steps:
        ramped = "P" if v_n > v_p else "N"
        n_steps = np.clip(np.floor((t - t_ramp0) / step) + 1, 0, steps) * (t >= t_ramp0)
        if ramped == "P":
            vp = vp + n_steps * adc_lsb
        else:
            vn = vn + n_steps * adc_lsb
    phases = (("DAC", 0.0, t_dac), ("share", t_dac, t_dac + t_share), ("sign", t_dac + t_share, t_ramp0),
              ("ramp", t_ramp0, total - t_read), ("read", total - t_read, total))
    return Waveform(t_ns=t, v_rows=v_rows, v_p=vp, v_n=vn, phases=phases, code=int(code),
                    t_decision_ns=t_ramp0 + steps * step, ramped=ramped)
