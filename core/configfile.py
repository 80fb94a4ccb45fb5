"""Chip configurations as TOML files.

A file holds ChipConfig fields at the top level (units as in the field docs) and optionally
``preset = "ideal" | "nominal" | "harsh"`` for the fields it leaves out (default "nominal")::

    preset = "nominal"
    cap_mismatch_sigma = 0.05
    ktc_noise = false

Unknown keys and bad values raise :class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import tomli_w

from convsram.core.config import ChipConfig

PRESETS = {"ideal": ChipConfig.ideal, "nominal": ChipConfig, "harsh": ChipConfig.harsh}


class ConfigError(ValueError):
    """A chip configuration file is missing, unparsable, or holds an unknown key or a bad value."""


def preset(name: str) -> ChipConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown chip preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def from_dict(data: dict[str, Any], source: str = "config") -> ChipConfig:
    """A ChipConfig from a mapping of field values (plus optional 'preset')."""
    data = dict(data)
    try:
        base = preset(str(data.pop("preset", "nominal")))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    names = {f.name for f in fields(ChipConfig)}
    for key in data:
        if key not in names:
            valid = ", ".join(sorted(names))
            raise ConfigError(f"{source}: unknown key {key!r}; valid keys: preset, {valid}")
    try:
        return base.with_(**data)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: Path | str) -> ChipConfig:
    """Read a chip configuration TOML file."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"chip config {path} not found; write one with `convsram config --out {path}`") \
            from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"chip config {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"chip config {path}: cannot read ({exc.strerror})") from None
    return from_dict(data, str(path))


def dumps(config: ChipConfig) -> str:
    """TOML text of every field, with a comment header (units are in the field docs)."""
    header = "# convsram chip configuration (units: see `convsram config --help` or the app's tooltips)\n"
    return header + tomli_w.dumps(config.to_dict())


def save_config(config: ChipConfig, path: Path | str) -> Path:
    path = Path(path)
    path.write_text(dumps(config))
    return path
