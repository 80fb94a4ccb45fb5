"""A missing X11 library is one line naming the apt packages and exit 2, never Qt's abort."""

import subprocess
import sys

from convsram.gui import system_libs

LDD = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x1)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)
"""


def test_not_found_parses_ldd_once_each():
    assert system_libs.not_found(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_debian_package_names():
    names = {"libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
             "libxcb-cursor.so.0": "libxcb-cursor0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
             "libdbus-1.so.3": "libdbus-1-3", "libEGL.so.1": "libegl1",
             "libfontconfig.so.1": "libfontconfig1",
             "libxcb-render-util.so.0": "libxcb-render-util0", "libglib-2.0.so.0": "libglib2.0-0"}
    assert {k: system_libs.debian_package(k) for k in names} == names


def test_uses_xcb_only_for_an_x11_window():
    assert system_libs.uses_xcb({"DISPLAY": ":0"}, "linux")
    assert not system_libs.uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert system_libs.uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not system_libs.uses_xcb({}, "linux")
    assert not system_libs.uses_xcb({"DISPLAY": ":0"}, "darwin")
    assert not system_libs.uses_xcb({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland",
                                     "DISPLAY": ":0"}, "linux")


def test_problem_is_one_line_with_the_apt_command():
    text = system_libs.problem(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"])
    assert "\n" not in text
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0" in text


def test_app_with_missing_libraries_exits_2_with_one_line(tmp_path):
    """The real command, with the loader's answer replaced by missing libraries (a fresh desktop)."""
    code = ("import sys\nfrom convsram.gui import system_libs\n"
            "system_libs.missing_libraries = lambda plugin=None: "
            "['libxcb-icccm.so.4', 'libxcb-cursor.so.0']\n"
            "from convsram.cli import main\nsys.exit(main(['app']))\n")
    env = {"DISPLAY": ":99", "QT_QPA_PLATFORM": "xcb", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install libxcb-icccm4 libxcb-cursor0" in lines[0], out.stderr
    assert "Traceback" not in out.stderr and "Aborted" not in out.stderr
