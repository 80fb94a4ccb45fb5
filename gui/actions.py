"""Every user action of the window as one QAction: the menus, the transport buttons and the keys all
trigger the same object, and the shortcut list (F1) is generated from it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

# name -> (menu, text, shortcuts)
ACTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "open_model": ("&File", "Open model…", ("Ctrl+O",)),
    "open_mnist": ("&File", "Open MNIST folder…", ()),
    "screenshot": ("&File", "Save screenshot…", ("Ctrl+S",)),
    "load_chip": ("&File", "Load chip configuration (TOML)…", ()),
    "save_chip": ("&File", "Save chip configuration (TOML)…", ()),
    "save_window": ("&Export", "Save the window as PNG or SVG…", ("Ctrl+Shift+S",)),
    "save_view": ("&Export", "Save one view as PNG or SVG…", ()),
    "record": ("&Export", "Record playback to GIF or MP4… (again to stop)", ("Ctrl+R",)),
    "export_frame": ("&Export", "This frame's signals as CSV or JSON…", ()),
    "export_results": ("&Export", "The session's results as CSV or JSON…", ()),
    "quit": ("&File", "Quit", ("Ctrl+Q",)),
    "play": ("&Playback", "Play / pause", ("Space",)),
    "step": ("&Playback", "Step forward one step (an invocation or a digital step)", ("Right",)),
    "back": ("&Playback", "Step back one step", ("Left",)),
    "next_layer": ("&Playback", "Next stage (a layer, its tile sums or requantisation, a pool)", ("PgDown",)),
    "prev_layer": ("&Playback", "Previous stage (or start of this one)", ("PgUp",)),
    "first": ("&Playback", "First step of the image", ("Home",)),
    "last": ("&Playback", "Last step of the image (the answer)", ("End",)),
    "next_image": ("&Playback", "Next image", ("Down", "Ctrl+Right")),
    "prev_image": ("&Playback", "Previous image", ("Up", "Ctrl+Left")),
    "goto_image": ("&Playback", "Go to image…", ("Ctrl+G",)),
    "faster": ("&Playback", "Faster", ("+", "=")),
    "slower": ("&Playback", "Slower", ("-",)),
    "ideal": ("&Chip", "Ideal chip: non-idealities off, same operating point (again: back)", ("Ctrl+I",)),
    "new_chip": ("&Chip", "Another chip (next seed)", ("Ctrl+N",)),
    "chip_lab": ("&Chip", "Chip lab: knobs, ideal vs chip, mismatch, waveforms, Monte Carlo…", ("Ctrl+L",)),
    "next_saturation": ("&Chip", "Next ADC saturation", ("F6",)),
    "next_code_error": ("&Chip", "Next code error of at least k LSB (k in the chip lab)", ("F7",)),
    "next_misclassified": ("&Chip", "Next misclassified image", ("F8",)),
    "fullscreen": ("&View", "Full screen (for the booth)", ("F11",)),
    "technical": ("&View", "Technical captions (off: plain words for visitors)", ("T",)),
    "demo": ("&View", "Demo mode: the booth layout, auto-play, drawing pad (Esc leaves)", ("F5",)),
    "demo_script": ("&View", "Demo mode with a script…", ()),
    "shortcuts": ("&Help", "Keyboard shortcuts", ("F1",)),
    "about": ("&Help", "About convsram", ()),
}

SEPARATOR_BEFORE = ("quit", "goto_image", "faster", "first", "next_image", "record", "demo", "load_chip",
                    "chip_lab", "next_saturation")


def make_actions(owner: QtWidgets.QWidget, run: Callable[[str], None]) -> dict[str, QtGui.QAction]:
    """One QAction per entry of ACTIONS, triggering ``run(name)``; added to `owner` so the keys work
    even with the menu bar hidden."""
    out = {}
    for name, (_, text, keys) in ACTIONS.items():
        a = QtGui.QAction(text, owner)
        a.setShortcuts([QtGui.QKeySequence(k) for k in keys])
        a.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(lambda _checked=False, n=name: run(n))
        owner.addAction(a)
        out[name] = a
    out["ideal"].setCheckable(True)
    out["technical"].setCheckable(True)
    out["quit"].setMenuRole(QtGui.QAction.MenuRole.QuitRole)
    return out


def fill_menus(bar: QtWidgets.QMenuBar, actions: dict[str, QtGui.QAction]) -> None:
    menus: dict[str, QtWidgets.QMenu] = {}
    for name, (menu, _, _) in ACTIONS.items():
        if menu not in menus:
            menus[menu] = bar.addMenu(menu)
        if name in SEPARATOR_BEFORE:
            menus[menu].addSeparator()
        menus[menu].addAction(actions[name])
