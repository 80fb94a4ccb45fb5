"""Before Qt opens a window on X11: are the system libraries of its xcb platform plugin there?

Qt aborts the process when the plugin cannot load ("Could not load the Qt platform plugin xcb"),
naming one library at most. On a fresh Debian/Ubuntu desktop several are usually missing, so this
check asks the dynamic loader (``ldd``) for every library the plugin links and tries the one it
opens at start-up (libxcb-cursor), and turns what is missing into one line with the apt packages to
install. Imports no Qt module that needs a platform.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

# opened by the plugin itself when it starts (Qt >= 6.5), so not among the libraries ldd lists
OPENED_AT_START = ("libxcb-cursor.so.0",)
# Debian package of a library whose name does not follow the libNAME.so.N -> libNAMEN rule
PACKAGES = {"libglib-2.0.so.0": "libglib2.0-0", "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1",
            "libOpenGL.so.0": "libopengl0", "libGLX.so.0": "libglx0"}
# every system library a desktop needs for the window, as one apt line (the README names it too)
DESKTOP_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
                    "libxcb-render-util0", "libxcb-shape0", "libxcb-randr0", "libxcb-xkb1",
                    "libxkbcommon-x11-0", "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3")


def debian_package(soname: str) -> str:
    """'libxcb-icccm.so.4' -> 'libxcb-icccm4' (Debian's naming of shared-library packages)."""
    if soname in PACKAGES:
        return PACKAGES[soname]
    base, _, version = soname.partition(".so.")
    version = version.split(".")[0]
    return (base + ("-" if base[-1:].isdigit() else "") + version).lower() if version else base.lower()


def uses_xcb(env: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """True if Qt will pick its xcb plugin: Linux, no other platform asked for, an X display."""
    env = dict(os.environ) if env is None else env
    if not platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked == "xcb"
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland":
        return False
    return bool(env.get("DISPLAY"))


def xcb_plugin() -> Path | None:
    import PySide6  # the package only: no Qt library is loaded by this

    path = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.exists() else None


def not_found(ldd_output: str) -> list[str]:
    """The libraries ldd reports as 'not found', in order, each once."""
    out: list[str] = []
    for line in ldd_output.splitlines():
        name, sep, where = line.strip().partition("=>")
        if sep and where.strip() == "not found" and name.strip() not in out:
            out.append(name.strip())
    return out


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """System libraries the xcb plugin needs and the loader cannot find (empty if unknown)."""
    plugin = plugin or xcb_plugin()
    ldd = shutil.which("ldd")
    missing: list[str] = []
    if plugin is not None and ldd is not None:
        try:
            out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        missing = not_found(out)
    for name in OPENED_AT_START:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def problem(missing: list[str]) -> str:
    """One line: what cannot load and the apt command that fixes it."""
    packages = " ".join(dict.fromkeys(debian_package(m) for m in missing))
    return (f"the Qt platform plugin xcb cannot load: missing system libraries {', '.join(missing)}; "
            f"on Debian/Ubuntu install them with: sudo apt-get install {packages} "
            f"(or every library a desktop needs: sudo apt-get install {' '.join(DESKTOP_PACKAGES)})")


def check_platform() -> None:
    """ValueError (one line, the fix included) if Qt would abort loading its X11 plugin."""
    if uses_xcb():
        missing = missing_libraries()
        if missing:
            raise ValueError(problem(missing))
