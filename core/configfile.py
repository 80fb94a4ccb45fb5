"""Chip configurations as TOML files.

A file holds ChipConfig fields at the top level (units as in the field docs) and optionally
``preset = "ideal" | "calibrated" | "uncalibrated" | "harsh"`` (core/presets.py; "nominal" is the old
name of "calibrated") for the fields it leaves out (default "calibrated")::

    preset = "uncalibrated"
    cap_mismatch_sigma = 0.05
    ktc_noise = false

Unknown keys and bad values raise :class:`ConfigError` naming the file and the key. A key this program
no longer reads (``adc_offset_sigma``, in ADC LSB, replaced by ``comparator_offset_sigma`` in volts)
gets a one-line error that says how to convert it.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomli_w

from convsram.core.config import ChipConfig
from convsram.core.files import check_nesting, check_output, read_text_bounded, short, write_text
from convsram.core.presets import PRESETS

# the shipped LeNet's ADC volts per code by layer (s x dac_lsb / N at 3 mV): what one old LSB was
OLD_LSB_MV = {"conv1": 1.80, "conv2": 0.69, "fc": 0.73}


def renamed(name: str, value: Any = None) -> str | None:
    """The one-line message for a field this program no longer reads, or None."""
    if name != "adc_offset_sigma":
        return None
    try:
        lsb = float(value)
        mv = ", ".join(f"{lsb * v:.3g} mV on {k}" for k, v in OLD_LSB_MV.items())
        example = f"{lsb} LSB was {mv}: "
    except (TypeError, ValueError):
        example = ""
    return (f"adc_offset_sigma (ADC LSB) is now comparator_offset_sigma in volts at the comparator input; "
            f"1 LSB of the shipped LeNet is 1.80 mV on conv1, 0.69 mV on conv2, 0.73 mV on fc, so "
            f"{example}write comparator_offset_sigma = <volts>, e.g. 0.0004 for the calibrated default "
            f"(0.4 mV) or 0.006 for an uncalibrated comparator")


class ConfigError(ValueError):
    """A chip configuration file is missing, unparsable, or holds an unknown key or a bad value."""


def preset(name: str) -> ChipConfig:
    """A preset's configuration (core/presets.py); ConfigError naming the choices otherwise."""
    if name not in PRESETS:
        raise ConfigError(f"unknown chip preset {short(name)}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def parse_value(name: str, text: str, where: str = "") -> Any:
    """The text of one field's value (command line, demo script) parsed by the field's declared type:
    bool fields take true/false/on/off/1/0, int fields an integer without a decimal point, float
    fields a finite number. ConfigError (one line) otherwise, or for an unknown field."""
    prefix = f"{where}: " if where else ""
    types = {f.name: f.type for f in fields(ChipConfig)}
    if name not in types:
        raise ConfigError(f"{prefix}{renamed(name, text) or f'unknown ChipConfig field {short(name)}'}")
    kind = types[name]
    word = text.strip().lower()
    if kind in ("bool", bool):
        if word in ("true", "on", "1", "yes"):
            return True
        if word in ("false", "off", "0", "no"):
            return False
        raise ConfigError(f"{prefix}{name} takes true or false (on/off, 1/0), got {short(text)}")
    if kind in ("int", int):
        try:
            return int(word)
        except ValueError:
            raise ConfigError(f"{prefix}{name} takes an integer, got {short(text)}") from None
    try:
        value = float(word)
    except ValueError:
        raise ConfigError(f"{prefix}{name} takes a number, got {short(text)}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{prefix}{name} takes a finite number, got {short(text)}")
    return value


def from_dict(data: dict[str, Any], source: str = "config") -> ChipConfig:
    """A ChipConfig from a mapping of field values (plus optional 'preset'); every value is checked
    against its field's declared type (no coercion)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a table of fields, got {type(data).__name__}")
    data = dict(data)
    name = data.pop("preset", "calibrated")
    if not isinstance(name, str):
        raise ConfigError(f"{source}: preset must be a string, one of {', '.join(PRESETS)}")
    if name not in PRESETS:
        raise ConfigError(f"{source}: unknown chip preset {short(name)}; choose one of {', '.join(PRESETS)}")
    base = PRESETS[name]()
    names = {f.name for f in fields(ChipConfig)}
    for key in data:
        if renamed(key):
            raise ConfigError(f"{source}: {renamed(key, data[key])}")
        if key not in names:
            raise ConfigError(f"{source}: unknown key {short(key)}; valid keys: preset, "
                              f"{', '.join(sorted(names))}")
    try:
        return base.with_(**data)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: Path | str) -> ChipConfig:
    """Read a chip configuration TOML file (at most 4 MB, nesting bounded)."""
    path = Path(path)
    try:
        text = read_text_bounded(path, what="chip config")
        check_nesting(text, f"chip config {path}")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"chip config {path} not found; write one with `convsram config --out {path}`") \
            from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"chip config {path} is not valid TOML: {str(exc)[:200]}") from None
    except RecursionError:
        raise ConfigError(f"chip config {path}: nested too deeply; not a file this program writes") from None
    except IsADirectoryError:
        raise ConfigError(f"chip config {path} is a folder, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"chip config {path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return from_dict(data, str(path))


def dumps(config: ChipConfig) -> str:
    """TOML text of every field, with a comment header (units are in the field docs)."""
    header = "# convsram chip configuration (units: see `convsram config --help` or the app's tooltips)\n"
    return header + tomli_w.dumps(config.to_dict())


def save_config(config: ChipConfig, path: Path | str) -> Path:
    """Write `config` as TOML, atomically (the old file stays whole until the new one is complete)."""
    return write_text(check_output(path, ("toml",)), dumps(config))
