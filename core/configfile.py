"""Chip configurations as TOML files.

A file holds ChipConfig fields at the top level (units as in the field docs) and optionally
``preset = "ideal" | "nominal" | "harsh"`` for the fields it leaves out (default "nominal")::

    preset = "nominal"
    cap_mismatch_sigma = 0.05
    ktc_noise = false

Unknown keys and bad values raise :class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomli_w

from convsram.core.config import ChipConfig
from convsram.core.files import check_nesting, check_output, read_text_bounded, short, write_text

PRESETS: dict[str, Callable[[], ChipConfig]] = {
    "ideal": ChipConfig.ideal, "nominal": ChipConfig, "harsh": ChipConfig.harsh}


class ConfigError(ValueError):
    """A chip configuration file is missing, unparsable, or holds an unknown key or a bad value."""


def preset(name: str) -> ChipConfig:
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
        raise ConfigError(f"{prefix}unknown ChipConfig field {short(name)}")
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
    name = data.pop("preset", "nominal")
    if not isinstance(name, str):
        raise ConfigError(f"{source}: preset must be a string, one of {', '.join(PRESETS)}")
    if name not in PRESETS:
        raise ConfigError(f"{source}: unknown chip preset {short(name)}; choose one of {', '.join(PRESETS)}")
    base = PRESETS[name]()
    names = {f.name for f in fields(ChipConfig)}
    for key in data:
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
