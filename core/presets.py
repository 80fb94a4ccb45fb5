"""Named chip configurations: ideal, calibrated (the default ChipConfig), uncalibrated and harsh.

* ``ideal``: every non-ideality off; bit-exact with the integer path.
* ``calibrated`` (also ``nominal``, its old name): the ChipConfig defaults. Its comparator offset
  (0.4 mV) and charge injection (0.2 mV) are what is left *after* offset calibration
  (core/calibration.py); a fabricated chip starts from the ``uncalibrated`` figures.
* ``uncalibrated``: the same chip before calibration. Its offsets come from Pelgrom mismatch, each
  derived in its field's doc (``convsram config --fields``): a 6 mV comparator offset per ADC (a StrongARM
  latch lands at 5-10 mV), 0.5 mV of charge-injection offset per column; everything else as calibrated,
  because offset calibration does not touch gains, capacitors or noise. The per-row DAC offset (1 mV
  [assumed]) is the same in both: a column's correction cancels its net effect at zero input, but a row
  at code 0 cannot discharge below the precharge, so a negative row offset shows only while that row's
  input is non-zero, which no fixed per-column correction can follow.
* ``harsh``: a pessimistic corner. Offsets at the top of the uncalibrated range (10 mV comparator,
  1 mV injection), every other non-ideality at 4x the default [assumed]; it visibly hurts accuracy
  (the model card gives the measured figures).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convsram.core.config import ChipConfig

UNCALIBRATED_OFFSETS = {"comparator_offset_sigma": 6e-3, "charge_injection_sigma": 5e-4}  # V [derived]
# V [assumed: the top of the uncalibrated range]
HARSH_OFFSETS = {"comparator_offset_sigma": 10e-3, "charge_injection_sigma": 1e-3}
HARSH_FACTOR = 4  # every other non-ideality x the default [assumed]


def ideal(**overrides: Any) -> ChipConfig:
    return ChipConfig.ideal(**overrides)


def calibrated(**overrides: Any) -> ChipConfig:
    return ChipConfig(**overrides)


def uncalibrated(**overrides: Any) -> ChipConfig:
    return ChipConfig(**{**UNCALIBRATED_OFFSETS, **overrides})


def harsh(**overrides: Any) -> ChipConfig:
    base = ChipConfig()
    knobs: dict[str, Any] = {name: getattr(base, name) * HARSH_FACTOR for name in ChipConfig.NONIDEALITIES
                             if name != "ktc_noise"}
    return ChipConfig(**{**knobs, **HARSH_OFFSETS, **overrides})


# name -> configuration; "nominal" is the old name of "calibrated" and stays accepted everywhere
PRESETS: dict[str, Callable[..., ChipConfig]] = {
    "ideal": ideal, "calibrated": calibrated, "uncalibrated": uncalibrated, "harsh": harsh,
    "nominal": calibrated}
NAMES = ("ideal", "calibrated", "uncalibrated", "harsh")  # the distinct presets, mildest first
ALIASES = {"nominal": "calibrated"}

DESCRIPTIONS = {
    "ideal": "Every non-ideality off: reproduces the integer arithmetic bit for bit",
    "calibrated": "The defaults: plausible 65 nm values [assumed], offsets as left by offset calibration",
    "uncalibrated": "Offsets as fabricated (Pelgrom): 6 mV per comparator, 0.5 mV injection per column",
    "harsh": "A pessimistic corner: 10 mV comparator offsets, every other non-ideality at 4x the default",
}


def preset(name: str) -> ChipConfig:
    """The configuration of a preset name (ValueError naming the choices otherwise)."""
    if name not in PRESETS:
        raise ValueError(f"unknown chip preset {name[:40]!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def name_of(config: ChipConfig) -> str:
    """The preset `config` is ('ideal', 'calibrated', 'uncalibrated', 'harsh'), else 'custom'."""
    for name in NAMES:
        if config == PRESETS[name]():
            return name
    return "custom"
