"""The chip lab's entries in the main window's action table (gui.actions.ACTIONS holds their menu
texts and keys): open the lab, jump to the next event, load or save a chip configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convsram.gui.lab.window import LabWindow
    from convsram.gui.main_window import MainWindow

ACTION_NAMES = ("chip_lab", "load_chip", "save_chip", "next_saturation", "next_code_error",
                "next_misclassified")
EVENT_OF = {"next_saturation": "saturation", "next_code_error": "code_error",
            "next_misclassified": "misclassified"}


def lab_for(window: MainWindow) -> LabWindow:
    """The main window's chip lab (made on first use, hidden until asked for)."""
    lab = window.chip_lab
    if lab is None:
        from convsram.gui.lab.window import LabWindow

        lab = LabWindow(window)
        window.chip_lab = lab
    return lab


def run_action(window: MainWindow, name: str) -> None:
    lab = lab_for(window)
    if name == "chip_lab":
        lab.show_lab()
    elif name == "load_chip":
        lab.load_config_dialog()
    elif name == "save_chip":
        lab.save_config_dialog()
    elif name in EVENT_OF:
        lab.jump(EVENT_OF[name])
