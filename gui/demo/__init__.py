"""Demo mode for a conference booth: the big, simplified layout, auto-play, the drawing pad and
scripted demos (see window.py); `enter_demo` opens it from the main window, Esc goes back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from convsram.gui import theme
from convsram.gui.demo.window import DemoWindow
from convsram.gui.screen_fit import fit_to_screen, show_full_screen

if TYPE_CHECKING:
    from convsram.gui.main_window import MainWindow

__all__ = ["DemoWindow", "enter_demo"]


def enter_demo(main: MainWindow, script: Path | str | None = None,
               full_screen: bool = True) -> DemoWindow | None:
    """Hide the main window and open the demo on its session (and prefetcher); Esc brings the main
    window back as it was, on whatever the demo was showing."""
    session = main.session
    if session is None:
        return None
    main.player.set_playing(False)
    scale = theme.SCALE
    demo = DemoWindow(session, prefetcher=main.prefetcher, script=script, pacer=main.pacer)
    main.demo = demo

    def back() -> None:
        main.demo = None
        theme.set_scale(scale)  # the main window's widgets were styled at its own scale
        main.set_session(session)
        main.show()
        main.activateWindow()

    demo.left.connect(back)
    main.hide()
    if full_screen:
        show_full_screen(demo, main.screen())
    else:
        demo.resize(main.size())
        fit_to_screen(demo)
        demo.show()
    demo.start()
    return demo
