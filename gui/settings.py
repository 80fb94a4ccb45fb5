"""Where the window remembers its geometry, speed, captions (plain or technical) and last image between
runs.

``CONVSRAM_SETTINGS=/path/file.ini`` redirects the store (tests use a temporary file, so they never
touch the user's settings).
"""

from __future__ import annotations

import math
import os

from PySide6 import QtCore

ENV = "CONVSRAM_SETTINGS"
TECHNICAL_CAPTIONS = "technical_captions"  # the main window's captions: technical (true) or plain


def open_settings() -> QtCore.QSettings:
    path = os.environ.get(ENV)
    if path:
        return QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings("convsram", "convsram")


def read_int(settings: QtCore.QSettings, key: str, default: int) -> int:
    """An integer setting; the default for anything else (text, a float, a 10,000-digit number)."""
    value = settings.value(key, default)
    try:
        if isinstance(value, str) and len(value) > 20:
            return default
        number = int(str(value))
    except (TypeError, ValueError, OverflowError):
        return default
    return number if -(2**63) <= number < 2**63 else default


def read_float(settings: QtCore.QSettings, key: str, default: float, lo: float = -math.inf,
               hi: float = math.inf) -> float:
    """A finite number setting in [lo, hi]; the default for anything else (nan, inf, text)."""
    value = settings.value(key, default)
    try:
        if isinstance(value, str) and len(value) > 40:
            return default
        number = float(str(value))
    except (TypeError, ValueError, OverflowError):
        return default
    return number if math.isfinite(number) and lo <= number <= hi else default


def read_bool(settings: QtCore.QSettings, key: str, default: bool) -> bool:
    """A yes/no setting (an INI file stores "true"/"false"); the default for anything else."""
    value = settings.value(key, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in ("true", "1") else False if text in ("false", "0") else default
