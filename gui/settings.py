"""Where the window remembers its geometry and last image between runs.

``CONVSRAM_SETTINGS=/path/file.ini`` redirects the store (tests use a temporary file, so they never
touch the user's settings).
"""

from __future__ import annotations

import os

from PySide6 import QtCore

ENV = "CONVSRAM_SETTINGS"


def open_settings() -> QtCore.QSettings:
    path = os.environ.get(ENV)
    if path:
        return QtCore.QSettings(path, QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings("convsram", "convsram")


def read_int(settings: QtCore.QSettings, key: str, default: int) -> int:
    try:
        return int(settings.value(key, default))
    except (TypeError, ValueError):
        return default
